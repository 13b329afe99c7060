package panics_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/leash-go/leash/panics"
	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestError_UnwrapsErrorValuesOnly(t *testing.T) {
	boom := errors.New("boom")
	require.ErrorIs(t, &panics.Error{Value: boom}, boom)
	require.Nil(t, (&panics.Error{Value: 42}).Unwrap())
}

func TestError_IsTaskgroupsPanicError(t *testing.T) {
	var p *panics.Error = &taskgroup.PanicError{Value: 1}
	require.Equal(t, 1, p.Value)
}

// captureIn panics in a goroutine of its own and captures the panic as a
// task runner would.
func captureIn(fn func()) *panics.Error {
	var p *panics.Error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() { p = panics.Capture(recover()) }()
		fn()
	})
	wg.Wait()
	return p
}

func userCode() { panic("kaboom") }

func TestTrim_DropsTheRecoveryFramesAboveThePanic(t *testing.T) {
	p := captureIn(userCode)
	require.Contains(t, string(p.Stack), "runtime/debug.Stack", "Stack keeps every frame")
	trimmed := string(panics.Trim(p.Stack))
	require.True(t, strings.HasPrefix(trimmed, "goroutine "), "the header stays: %s", trimmed)
	require.NotContains(t, trimmed, "runtime/debug.Stack")
	require.NotContains(t, trimmed, "panics.Capture")
	require.NotContains(t, trimmed, "panic(", "the panic call itself says nothing the message does not")
	lines := strings.Split(trimmed, "\n")
	require.Contains(t, lines[1], "panics_test.userCode", "the panicking function comes first")
}

func TestTrim_DropsLeashFramesBelowTheCallersCode(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.WithLogger(discard))
	g.Go(func(context.Context) error { userCode(); return nil })
	var pe *taskgroup.PanicError
	require.ErrorAs(t, g.Wait(), &pe)
	trimmed := string(panics.Trim(pe.Stack))
	require.Contains(t, trimmed, "userCode")
	require.NotContains(t, trimmed, "leash/taskgroup.", "no frame of the task runner: %s", trimmed)
	require.Contains(t, pe.Error(), "kaboom")
	require.NotContains(t, pe.Error(), "taskgroup.(*Group)", "the message prints the trimmed stack")
}

func TestTrim_LeavesAnythingElseAlone(t *testing.T) {
	require.Equal(t, "not a stack", string(panics.Trim([]byte("not a stack"))))
}

var discard = slog.New(slog.DiscardHandler)
