package taskgroup_test

// Regression tests for bugs found in the peers leash replaces, written against
// leash's API: each would have caught the peer's bug, and keeps it out of
// leash.

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// A pool that collects results into a slice must not drop the results of
// tasks that finish after the last failure.
func TestRegression_ResultsAfterTheLastFailureAreKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := []int{1, 2, 3, 4, 5}
		out, err := taskgroup.Map(t.Context(), in, func(_ context.Context, x int) (int, error) {
			time.Sleep(time.Duration(x) * time.Second)
			if x == 2 {
				return 0, errA // the last failure; 3, 4 and 5 succeed after it
			}
			return x * 10, nil
		}, taskgroup.CollectAll())
		require.ErrorIs(t, err, errA)
		require.Equal(t, []int{10, 0, 30, 40, 50}, out)
	})
}

// A typed task that succeeded before a sibling failed keeps its result.
func TestRegression_SpawnedResultSurvivesASiblingsFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		done := taskgroup.Spawn(g, func(context.Context) (string, error) { return "kept", nil })
		g.Go(sleepThen(time.Second, errA))
		require.ErrorIs(t, g.Wait(), errA)
		v, err := done.Result()
		require.NoError(t, err)
		require.Equal(t, "kept", v)
	})
}

// errgroup's limited Go blocks on its semaphore without looking at the
// context, so running tasks that wait for the context to be cancelled and a
// Go that waits for them deadlock. leash's blocked Go returns on cancellation.
func TestRegression_LimitedGoDoesNotDeadlockWhileTasksWaitOnTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		g := taskgroup.New(parent, taskgroup.WithLimit(2))
		g.Go(awaitCancel)
		g.Go(awaitCancel)
		time.AfterFunc(time.Second, cancel) // say, the client went away
		var ran atomic.Bool
		g.Go(func(context.Context) error { ran.Store(true); return nil }) // blocks, then returns
		e := waitError(t, g)
		require.False(t, ran.Load())
		require.Equal(t, 3, e.Cancelled)
	})
}

// A group that marks a task done before recording its panic lets Wait return
// success while the panic is still on its way. leash records the panic before
// the task counts as done, every time.
func TestRegression_APanicNeverLetsWaitReturnSuccess(t *testing.T) {
	for range 2000 {
		g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors())
		g.Go(func(context.Context) error { panic("boom") })
		g.Go(func(context.Context) error { return nil })
		var pe *taskgroup.PanicError
		require.ErrorAs(t, g.Wait(), &pe)
	}
}

// A re-panic from Wait must come after every sibling has returned, or the
// siblings run on as orphans while the panic unwinds the caller.
func TestRegression_ARepanicLeavesNoSiblingRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		var running atomic.Int32
		for range 3 {
			running.Add(1)
			g.Go(func(context.Context) error {
				defer running.Add(-1)
				time.Sleep(time.Hour) // ignores cancellation
				return nil
			})
		}
		g.Go(func(context.Context) error { panic("boom") })
		p, _ := recoverWait(g)
		require.NotNil(t, p)
		require.Zero(t, running.Load())
	})
}

// Go on a group that is already cancelled must not start the task, not even
// once in a while.
func TestRegression_GoOnACancelledGroupNeverStartsTheTask(t *testing.T) {
	for _, opts := range [][]taskgroup.Option{nil, {taskgroup.WithLimit(1)}} {
		g := taskgroup.New(t.Context(), opts...)
		g.Stop()
		var ran atomic.Int32
		for range 100 {
			g.Go(func(context.Context) error { ran.Add(1); return nil })
			_ = taskgroup.Spawn(g, func(context.Context) (int, error) { ran.Add(1); return 0, nil })
		}
		require.NoError(t, g.Wait())
		require.Zero(t, ran.Load())
	}
}

// A function that returns a nil *Error as an error gives the caller a non-nil
// interface that says "failed" with nothing in it. Wait, Map and First return
// a true nil on success.
func TestRegression_SuccessIsANilInterfaceNeverANilError(t *testing.T) {
	g := taskgroup.New(t.Context())
	g.Go(func(context.Context) error { return nil })
	err := g.Wait()
	require.True(t, err == nil, "Wait: %#v", err)

	_, err = taskgroup.Map(t.Context(), []int{1}, double)
	require.True(t, err == nil, "Map: %#v", err)

	_, err = taskgroup.First(t.Context(), func(context.Context) (int, error) { return 1, nil })
	require.True(t, err == nil, "First: %#v", err)
}
