package taskgroup_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// concurrency tracks how many tasks run at once and the most that ever did.
type concurrency struct{ now, max atomic.Int32 }

func (c *concurrency) task(d time.Duration) func(context.Context) error {
	return func(context.Context) error {
		n := c.now.Add(1)
		for {
			m := c.max.Load()
			if n <= m || c.max.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(d)
		c.now.Add(-1)
		return nil
	}
}

func TestGo_TG8_LimitBoundsRunningTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(3))
		var c concurrency
		start := time.Now()
		for i := range 10 {
			g.Go(c.task(time.Duration(1+i%2) * time.Second))
		}
		require.NoError(t, g.Wait())
		require.Equal(t, int32(3), c.max.Load())
		require.GreaterOrEqual(t, time.Since(start), 5*time.Second, "10 tasks of 1-2 s in 3 slots cannot end sooner")
	})
}

func TestGo_TG8_BlocksUntilASlotIsFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(1))
		release := make(chan struct{})
		g.Go(func(context.Context) error { <-release; return nil })
		var returned atomic.Bool
		go func() {
			g.Go(func(context.Context) error { return nil })
			returned.Store(true)
		}()
		synctest.Wait()
		require.False(t, returned.Load(), "Go blocks while the only slot is taken")
		close(release)
		synctest.Wait()
		require.True(t, returned.Load())
		require.NoError(t, g.Wait())
	})
}

func TestGo_TG8_BlockedGoReturnsOnCancellationWithoutStarting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		g := taskgroup.New(parent, taskgroup.WithLimit(1))
		release := make(chan struct{})
		g.Go(func(context.Context) error { <-release; return nil }) // ignores ctx
		var ran, returned atomic.Bool
		go func() {
			g.Go(func(context.Context) error { ran.Store(true); return nil })
			returned.Store(true)
		}()
		synctest.Wait()
		require.False(t, returned.Load())
		cancel()
		synctest.Wait()
		require.True(t, returned.Load(), "a blocked Go never ignores cancellation")
		close(release)
		e := waitError(t, g)
		require.False(t, ran.Load())
		require.Equal(t, 1, e.Cancelled)
		require.ErrorIs(t, e, context.Canceled)
	})
}

func TestGo_TG8_BlockedGoReturnsWhenASiblingFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(2))
		g.Go(awaitCancel)
		g.Go(sleepThen(time.Second, errA))
		var ran atomic.Bool
		g.Go(func(context.Context) error { ran.Store(true); return nil }) // blocks until the failure
		e := waitError(t, g)
		require.False(t, ran.Load())
		require.Len(t, e.Failures, 1)
		require.Equal(t, 2, e.Cancelled, "one echo, one never started")
	})
}

func TestTryGo_TG8_FalseWhenNoSlotIsFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(1))
		release := make(chan struct{})
		require.True(t, g.TryGo(func(context.Context) error { <-release; return nil }))
		var ran atomic.Bool
		require.False(t, g.TryGo(func(context.Context) error { ran.Store(true); return nil }))
		close(release)
		synctest.Wait()
		require.True(t, g.TryGo(func(context.Context) error { ran.Store(true); return nil }), "the idle worker takes it")
		require.NoError(t, g.Wait())
		require.True(t, ran.Load())
	})
}

func TestGo_TG8_BusyLimitedGroupReusesItsGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(4))
		ids := goroutineSet{}
		task := func(context.Context) error {
			ids.add()
			time.Sleep(time.Millisecond)
			return nil
		}
		var callers sync.WaitGroup
		for range 100 { // 100 Go calls wait at once: a busy batch
			callers.Go(func() { g.Go(task) })
		}
		callers.Wait()
		require.NoError(t, g.Wait())
		require.LessOrEqual(t, ids.len(), 4, "an ending task runs the next waiting one on its goroutine")
	})
}

func TestGo_TG8_GoexitKeepsTheLimitWorking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(1), taskgroup.CollectAll())
		g.Go(func(context.Context) error { runtimeGoexit(); return nil })
		var ran atomic.Int32
		for range 3 {
			g.Go(func(context.Context) error { ran.Add(1); return nil })
		}
		e := waitError(t, g)
		require.Equal(t, int32(3), ran.Load(), "the worker that Goexit ended was replaced")
		require.Len(t, e.Failures, 1)
		require.ErrorIs(t, e, taskgroup.ErrGoexit)
	})
}

func TestGo_TG8_TasksOfALimitedGroupMayCallGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(2))
		var ran atomic.Int32
		g.Go(func(context.Context) error {
			for range 5 {
				g.Go(func(context.Context) error { ran.Add(1); return nil })
			}
			return nil
		})
		require.NoError(t, g.Wait())
		require.Equal(t, int32(5), ran.Load())
	})
}

func TestSpawn_TG8_BlocksAndIsNotStartedAfterCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(1))
		g.Go(sleepThen(time.Second, errA))
		task := taskgroup.Spawn(g, func(context.Context) (int, error) { return 1, nil })
		v, err := task.Result()
		require.Zero(t, v)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, errA, "the error carries the group's cause")
		require.Error(t, g.Wait())
	})
}
