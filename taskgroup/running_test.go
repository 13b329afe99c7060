package taskgroup_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func TestStragglers_OB4_ReportsTheRunningTasksNowWithTheirStacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		g := taskgroup.New(t.Context(), taskgroup.WithName("drain"), taskgroup.WithStragglerTimeout(time.Hour))
		start := time.Now()
		g.GoNamed("prompt", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		g.GoNamed("legacy", ignoresCancellation(release))
		time.Sleep(2 * time.Second)
		g.Stop()
		time.Sleep(time.Second)
		synctest.Wait()

		got := g.Stragglers()

		close(release)
		require.NoError(t, g.Wait())
		require.Len(t, got, 1, "the prompt task has returned")
		require.Equal(t, taskgroup.TaskInfo{Group: "drain", Name: "legacy", Index: 1, Start: start}, got[0].TaskInfo)
		require.Equal(t, time.Second, got[0].SinceCancel, "not the straggler timeout: now")
		require.Equal(t, 3*time.Second, got[0].Running)
		require.ErrorIs(t, got[0].Cause, taskgroup.ErrStopped)
		require.Contains(t, string(got[0].Stack), "ignoresCancellation")
		require.Equal(t, "chan receive", got[0].State)
	})
}

// On one P the goroutine Go starts does not run until the test blocks, so
// Stragglers is asked while the task's goroutine has not been scheduled:
// the task has been started all the same, and a drain that gives up then
// must name it (the service's SIGTERM test once missed it so).
func TestStragglers_OB4_ListsATaskWhoseGoroutineHasNotRunYet(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithName("drain"), taskgroup.WithStragglerTimeout(time.Hour))
		var ran atomic.Bool
		g.GoNamed("late", func(ctx context.Context) error { ran.Store(true); return nil })

		got := g.Stragglers()
		scheduled := ran.Load()

		require.NoError(t, g.Wait())
		require.False(t, scheduled, "the task's goroutine ran before Stragglers: the test proves nothing")
		require.Len(t, got, 1)
		require.Equal(t, "late", got[0].Name)
		require.Nil(t, got[0].Stack, "no goroutine to take a stack from yet")
	})
}

func TestStragglers_OB4_BeforeCancellationSinceCancelIsZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithName("live"))
		g.GoNamed("service", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		time.Sleep(time.Second)
		synctest.Wait()

		got := g.Stragglers()

		g.Stop()
		require.NoError(t, g.Wait())
		require.Len(t, got, 1)
		require.Equal(t, "service", got[0].Name)
		require.Zero(t, got[0].SinceCancel)
		require.NoError(t, got[0].Cause)
		require.Nil(t, got[0].Stack, "no straggler timeout: no goroutine id was read")
	})
}

func TestStragglers_OB4_AnUntrackedGroupReportsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		synctest.Wait()
		require.Nil(t, g.Stragglers())
		g.Stop()
		require.NoError(t, g.Wait())
	})
}
