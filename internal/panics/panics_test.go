package panics_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/leash-go/leash/internal/panics"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runIn calls panics.Run in a goroutine of its own, so that a Goexit ends
// only that goroutine, and returns what report saw.
func runIn(fn func()) (p *panics.Error, goexit, reported bool) {
	var wg sync.WaitGroup
	wg.Go(func() {
		panics.Run(fn, func(e *panics.Error, g bool) { p, goexit, reported = e, g, true })
	})
	wg.Wait()
	return p, goexit, reported
}

func TestRun_ReportsAReturn(t *testing.T) {
	p, goexit, reported := runIn(func() {})
	require.True(t, reported)
	require.Nil(t, p)
	require.False(t, goexit)
}

func TestRun_CapturesAPanicWithItsStack(t *testing.T) {
	p, goexit, _ := runIn(explode)
	require.False(t, goexit)
	require.NotNil(t, p)
	require.Equal(t, "kaboom", p.Value)
	require.Contains(t, string(p.Stack), "explode", "the stack is the panicking goroutine's")
	require.Contains(t, p.Error(), "kaboom")
	require.Contains(t, p.Error(), "explode")
}

func explode() { panic("kaboom") }

func TestRun_TellsGoexitFromAPanic(t *testing.T) {
	p, goexit, reported := runIn(runtime.Goexit)
	require.True(t, reported)
	require.True(t, goexit)
	require.Nil(t, p)
}

func TestRun_PanicNilIsAPanic(t *testing.T) {
	p, goexit, _ := runIn(func() { panic(nil) })
	require.False(t, goexit)
	var pn *runtime.PanicNilError
	require.ErrorAs(t, p, &pn)
}
