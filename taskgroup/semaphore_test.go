package taskgroup_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func TestWithSemaphore_TG8_SharedLimitHoldsAcrossGroups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(3)
		var c concurrency
		var handlers sync.WaitGroup
		for range 4 { // four request handlers, each with its own group
			handlers.Go(func() {
				g := taskgroup.New(t.Context(), taskgroup.WithSemaphore(sem))
				for i := range 5 {
					g.Go(c.task(time.Duration(1+i%3) * time.Second))
				}
				require.NoError(t, g.Wait())
			})
		}
		handlers.Wait()
		require.Equal(t, int32(3), c.max.Load(), "20 tasks in 4 groups never ran more than 3 at once")
		require.Zero(t, sem.Stats().InUse)
	})
}

func TestWithSemaphore_TG8_BlockedGoHonoursCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(1)
		require.True(t, sem.TryAcquire(1)) // someone else holds the only permit
		parent, cancel := context.WithCancel(t.Context())
		g := taskgroup.New(parent, taskgroup.WithSemaphore(sem))
		var ran atomic.Bool
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		g.Go(func(context.Context) error { ran.Store(true); return nil })
		require.Equal(t, time.Second, time.Since(start), "Go waited for a permit until the cancellation")
		e := waitError(t, g)
		require.False(t, ran.Load())
		require.Equal(t, 1, e.Cancelled)
		sem.Release(1)
		require.Zero(t, sem.Stats().InUse)
	})
}

func TestWithSemaphore_TG8_PermitsComeBackAfterPanicAndGoexit(t *testing.T) {
	sem := semaphore.New(2)
	g := taskgroup.New(t.Context(), taskgroup.WithSemaphore(sem), taskgroup.PanicsAsErrors(), taskgroup.CollectAll())
	g.Go(func(context.Context) error { panic("boom") })
	g.Go(func(context.Context) error { runtime.Goexit(); return nil })
	g.Go(func(context.Context) error { return errA })
	e := waitError(t, g)
	require.Len(t, e.Failures, 3)
	require.Zero(t, sem.Stats().InUse)
}

func TestWithSemaphore_TG8_TryGoFalseWithoutAFreePermit(t *testing.T) {
	sem := semaphore.New(1)
	require.True(t, sem.TryAcquire(1))
	g := taskgroup.New(t.Context(), taskgroup.WithSemaphore(sem))
	require.False(t, g.TryGo(func(context.Context) error { return nil }))
	sem.Release(1)
	require.True(t, g.TryGo(func(context.Context) error { return nil }))
	require.NoError(t, g.Wait())
	require.Zero(t, sem.Stats().InUse)
}

func TestWithSemaphore_ClosedSemaphoreFailsTheTask(t *testing.T) {
	sem := semaphore.New(1)
	sem.Close()
	g := taskgroup.New(t.Context(), taskgroup.WithSemaphore(sem))
	task := taskgroup.SpawnNamed(g, "job", func(context.Context) (int, error) { return 1, nil })
	_, err := task.Result()
	require.ErrorIs(t, err, semaphore.ErrClosed)
	e := waitError(t, g)
	require.Len(t, e.Failures, 1)
	require.Equal(t, "job", e.Failures[0].Name)
	require.ErrorIs(t, e, semaphore.ErrClosed)
}

func TestWithSemaphore_CombinesWithLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(4)
		g := taskgroup.New(t.Context(), taskgroup.WithSemaphore(sem), taskgroup.WithLimit(2))
		var c concurrency
		for range 10 {
			g.Go(c.task(time.Second))
		}
		require.NoError(t, g.Wait())
		require.Equal(t, int32(2), c.max.Load())
		require.Zero(t, sem.Stats().InUse)
	})
}

func TestWithSemaphore_LimitedGroupReturnsPermitsOfTasksNotStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(4)
		g := taskgroup.New(t.Context(), taskgroup.WithSemaphore(sem), taskgroup.WithLimit(1))
		g.Go(sleepThen(time.Second, errA))
		for range 3 {
			g.Go(func(context.Context) error { return nil }) // blocked, then not started
		}
		e := waitError(t, g)
		require.Equal(t, 3, e.Cancelled)
		require.Zero(t, sem.Stats().InUse)
	})
}

func TestWithSemaphore_TG10_NilPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: WithSemaphore(nil): pass a *semaphore.Semaphore from semaphore.New",
		func() { taskgroup.WithSemaphore(nil) })
}
