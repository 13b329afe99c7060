package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

var (
	errA = errors.New("a failed")
	errB = errors.New("b failed")
)

// sleepThen returns a task that sleeps d (fake time inside a bubble) and
// returns err.
func sleepThen(d time.Duration, err error) func(context.Context) error {
	return func(context.Context) error {
		time.Sleep(d)
		return err
	}
}

// awaitCancel returns a task that waits for the group's cancellation and
// echoes it.
func awaitCancel(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// waitError calls Wait and requires it to return a *taskgroup.Error.
func waitError(t *testing.T, g *taskgroup.Group) *taskgroup.Error {
	t.Helper()
	err := g.Wait()
	var te *taskgroup.Error
	require.ErrorAs(t, err, &te)
	return te
}

// recoverWait calls Wait and returns what it panicked with (nil if it did
// not panic).
func recoverWait(g *taskgroup.Group) (panicked any, err error) {
	defer func() { panicked = recover() }()
	return nil, g.Wait()
}

func TestWait_TG1_ReturnsAfterEveryTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		var finished atomic.Int32
		for i := range 5 {
			g.Go(func(context.Context) error {
				time.Sleep(time.Duration(i+1) * time.Second)
				finished.Add(1)
				return nil
			})
		}
		start := time.Now()
		require.NoError(t, g.Wait())
		require.Equal(t, int32(5), finished.Load())
		require.Equal(t, 5*time.Second, time.Since(start))
	})
}

func TestWait_TG1_WaitsForTasksStartedByTasksDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		var childDone atomic.Bool
		g.Go(func(context.Context) error {
			time.Sleep(time.Second) // Wait is waiting by now
			g.Go(func(context.Context) error {
				time.Sleep(time.Second)
				childDone.Store(true)
				return nil
			})
			return nil
		})
		require.NoError(t, g.Wait())
		require.True(t, childDone.Load())
	})
}

func TestWait_TG1_WaitsForTaskThatIgnoresCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		var slowDone atomic.Bool
		g.Go(sleepThen(time.Second, errA))
		g.Go(func(context.Context) error {
			time.Sleep(10 * time.Second) // ignores ctx
			slowDone.Store(true)
			return nil
		})
		start := time.Now()
		require.ErrorIs(t, g.Wait(), errA)
		require.True(t, slowDone.Load())
		require.Equal(t, 10*time.Second, time.Since(start))
	})
}

func TestGo_TG2_FirstFailureCancelsSiblingsWithItsTaskError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		var sawCause error
		var sawAt time.Duration
		start := time.Now()
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			sawAt = time.Since(start)
			sawCause = context.Cause(ctx)
			return ctx.Err()
		})
		g.GoNamed("payment", sleepThen(2*time.Second, errA))
		_ = g.Wait()
		require.Equal(t, 2*time.Second, sawAt, "the sibling sees the cancellation at the moment of the failure")
		var te *taskgroup.TaskError
		require.ErrorAs(t, sawCause, &te)
		require.Equal(t, 1, te.Index)
		require.Equal(t, "payment", te.Name)
		require.ErrorIs(t, te, errA)
	})
}

func TestGo_TG2_OnlyTheFirstFailureIsTheCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(sleepThen(time.Second, errA))
		g.Go(sleepThen(time.Second, nil))
		g.Go(sleepThen(3*time.Second, errB))
		_ = g.Wait()
		require.ErrorIs(t, context.Cause(g.Context()), errA)
		require.NotErrorIs(t, context.Cause(g.Context()), errB)
	})
}

func TestWait_TG3_EchoesAreCountedNotListed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(awaitCancel)
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("fetch stopped: %w", context.Cause(ctx)) // wraps the cause
		})
		g.Go(sleepThen(time.Second, errA))
		e := waitError(t, g)
		require.Len(t, e.Failures, 1)
		require.Equal(t, 2, e.Failures[0].Index)
		require.Equal(t, 2, e.Cancelled)
	})
}

func TestWait_TG3_OtherErrorsAfterCancellationAreFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return errB // not an echo: it says something new
		})
		g.Go(sleepThen(time.Second, errA))
		e := waitError(t, g)
		require.Len(t, e.Failures, 2)
		require.ErrorIs(t, e.Failures[0], errA)
		require.ErrorIs(t, e.Failures[1], errB)
		require.Zero(t, e.Cancelled)
	})
}

func TestWait_TG3_CanceledBeforeCancellationIsAFailure(t *testing.T) {
	g := taskgroup.New(t.Context())
	g.Go(func(context.Context) error { return context.Canceled }) // the group was not cancelled
	e := waitError(t, g)
	require.Len(t, e.Failures, 1)
	require.ErrorIs(t, e.Failures[0], context.Canceled)
}

func TestWait_TG4_NilWhenEveryTaskSucceeds(t *testing.T) {
	g := taskgroup.New(t.Context())
	for range 10 {
		g.Go(func(context.Context) error { return nil })
	}
	require.NoError(t, g.Wait())
}

func TestWait_TG4_NilForAnEmptyGroup(t *testing.T) {
	require.NoError(t, taskgroup.New(t.Context()).Wait())
}

func TestWait_TG4_ListsEveryFailureInReturnOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.CollectAll())
		g.GoNamed("late", sleepThen(3*time.Second, errB))
		g.Go(sleepThen(time.Second, errA))
		e := waitError(t, g)
		require.Len(t, e.Failures, 2)
		require.Equal(t, 1, e.Failures[0].Index)
		require.Equal(t, "", e.Failures[0].Name)
		require.Equal(t, 0, e.Failures[1].Index)
		require.Equal(t, "late", e.Failures[1].Name)
		require.ErrorIs(t, e, errA)
		require.ErrorIs(t, e, errB)
		require.Nil(t, e.Cause)
	})
}

func TestWait_TG4_ParentCancellationMatchesErrAndCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errShutdown := errors.New("server shutting down")
		parent, cancel := context.WithCancelCause(t.Context())
		g := taskgroup.New(parent)
		g.Go(awaitCancel)
		g.Go(awaitCancel)
		time.AfterFunc(time.Second, func() { cancel(errShutdown) })
		e := waitError(t, g)
		require.Empty(t, e.Failures)
		require.Equal(t, 2, e.Cancelled)
		require.ErrorIs(t, e, context.Canceled)
		require.ErrorIs(t, e, errShutdown)
		require.ErrorIs(t, e.Cause, errShutdown)
	})
}

func TestWait_TG4_ParentDeadlineMatchesDeadlineExceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		g := taskgroup.New(parent)
		g.Go(awaitCancel)
		e := waitError(t, g)
		require.ErrorIs(t, e, context.DeadlineExceeded)
		require.Equal(t, 1, e.Cancelled)
	})
}

func TestWait_TG4_FailuresAndParentCauseTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		g := taskgroup.New(parent)
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return errA // a real failure after the parent cancelled
		})
		cancel()
		e := waitError(t, g)
		require.Len(t, e.Failures, 1)
		require.ErrorIs(t, e, errA)
		require.ErrorIs(t, e, context.Canceled)
	})
}

func TestWait_TG4_NilWhenTasksFinishedBeforeParentCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		g := taskgroup.New(parent)
		g.Go(sleepThen(time.Second, nil))
		time.AfterFunc(2*time.Second, cancel)
		time.Sleep(3 * time.Second)
		require.NoError(t, g.Wait())
	})
}

func TestWait_TG4_NilWhenTasksSucceedDespiteParentCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		g := taskgroup.New(parent)
		g.Go(sleepThen(2*time.Second, nil)) // finishes its work regardless
		time.AfterFunc(time.Second, cancel)
		require.NoError(t, g.Wait())
	})
}

func TestWait_TG4_StopIsNotAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(awaitCancel)
		g.Go(func(ctx context.Context) error {
			<-ctx.Done()
			return context.Cause(ctx) // ErrStopped
		})
		g.Stop()
		require.NoError(t, g.Wait())
		require.ErrorIs(t, context.Cause(g.Context()), taskgroup.ErrStopped)
	})
}

func TestWait_TG4_NeverANilErrorInANonNilInterface(t *testing.T) {
	g := taskgroup.New(t.Context())
	g.Go(func(context.Context) error { return nil })
	err := g.Wait()
	require.True(t, err == nil, "Wait must return a nil interface, got %#v", err)
}

func TestWait_TG5_RepanicsAfterEveryTaskReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		var siblingDone atomic.Bool
		g.Go(func(context.Context) error {
			time.Sleep(5 * time.Second) // ignores cancellation
			siblingDone.Store(true)
			return nil
		})
		g.Go(func(context.Context) error { panic("boom") })
		p, _ := recoverWait(g)
		require.True(t, siblingDone.Load(), "Wait re-panics only after every task returned")
		e, ok := p.(*taskgroup.Error)
		require.True(t, ok, "Wait panics with *taskgroup.Error, got %T", p)
		require.Len(t, e.Failures, 1)
		var pe *taskgroup.PanicError
		require.ErrorAs(t, e, &pe)
		require.Equal(t, "boom", pe.Value)
	})
}

func TestWait_TG5_PanicStackIsThePanickingGoroutines(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors())
	g.Go(func(context.Context) error { panicInHelper(); return nil })
	var pe *taskgroup.PanicError
	require.ErrorAs(t, g.Wait(), &pe)
	require.Contains(t, string(pe.Stack), "panicInHelper")
	require.Contains(t, pe.Error(), "panicInHelper", "the message carries the stack")
	require.Contains(t, pe.Error(), "helper exploded")
}

func panicInHelper() { panic("helper exploded") }

func TestWait_TG5_EveryPanicIsKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.CollectAll())
		for i := range 3 {
			g.Go(func(context.Context) error {
				time.Sleep(time.Duration(i) * time.Second)
				panic(fmt.Sprintf("panic %d", i))
			})
		}
		p, _ := recoverWait(g)
		e, ok := p.(*taskgroup.Error)
		require.True(t, ok)
		require.Len(t, e.Failures, 3)
		for i, f := range e.Failures {
			var pe *taskgroup.PanicError
			require.ErrorAs(t, f, &pe)
			require.Equal(t, fmt.Sprintf("panic %d", i), pe.Value)
			require.Contains(t, e.Error(), fmt.Sprintf("panic %d", i), "the re-panic's message carries every panic")
		}
	})
}

func TestWait_TG5_PanicsAsErrorsReturnsTheError(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors())
	g.Go(func(context.Context) error { panic(errA) })
	err := g.Wait()
	var pe *taskgroup.PanicError
	require.ErrorAs(t, err, &pe)
	require.ErrorIs(t, err, errA, "a panic with an error value unwraps to it")
}

func TestWait_TG5_PanicCancelsSiblings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors())
		g.Go(awaitCancel)
		g.Go(func(context.Context) error { panic("boom") })
		e := waitError(t, g)
		require.Len(t, e.Failures, 1)
		require.Equal(t, 1, e.Cancelled)
	})
}

func TestWait_TG5_PanicNilIsStillAPanic(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors())
	g.Go(func(context.Context) error { panic(nil) })
	var pe *taskgroup.PanicError
	require.ErrorAs(t, g.Wait(), &pe)
	var pn *runtime.PanicNilError
	require.ErrorAs(t, pe, &pn)
}

func TestWait_TG6_GoexitIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(awaitCancel)
		g.GoNamed("quitter", func(context.Context) error {
			runtime.Goexit()
			return nil
		})
		e := waitError(t, g)
		require.Len(t, e.Failures, 1)
		require.Equal(t, "quitter", e.Failures[0].Name)
		require.ErrorIs(t, e, taskgroup.ErrGoexit)
		require.Equal(t, 1, e.Cancelled, "a Goexit cancels the siblings like any failure")
	})
}

func TestWait_TG6_GoexitDoesNotRepanic(t *testing.T) {
	g := taskgroup.New(t.Context())
	g.Go(func(context.Context) error { runtime.Goexit(); return nil })
	p, err := recoverWait(g)
	require.Nil(t, p)
	require.ErrorIs(t, err, taskgroup.ErrGoexit)
}

func TestGo_TG7_DoesNotStartOnACancelledGroup(t *testing.T) {
	parent, cancel := context.WithCancel(t.Context())
	cancel()
	g := taskgroup.New(parent)
	var ran atomic.Bool
	g.Go(func(context.Context) error { ran.Store(true); return nil })
	e := waitError(t, g)
	require.False(t, ran.Load())
	require.Equal(t, 1, e.Cancelled)
	require.ErrorIs(t, e, context.Canceled)
}

func TestGo_TG7_DoesNotStartAfterStop(t *testing.T) {
	g := taskgroup.New(t.Context())
	g.Stop()
	var ran atomic.Bool
	g.GoNamed("late", func(context.Context) error { ran.Store(true); return nil })
	require.NoError(t, g.Wait(), "a stop is the group's own doing (TG4)")
	require.False(t, ran.Load())
}

func TestTryGo_TG7_FalseOnACancelledGroup(t *testing.T) {
	parent, cancel := context.WithCancel(t.Context())
	cancel()
	g := taskgroup.New(parent)
	var ran atomic.Bool
	require.False(t, g.TryGo(func(context.Context) error { ran.Store(true); return nil }))
	require.False(t, ran.Load())
	require.Equal(t, 1, waitError(t, g).Cancelled)
}

func TestTryGo_TG8_TrueWithoutALimit(t *testing.T) {
	g := taskgroup.New(t.Context())
	require.True(t, g.TryGo(func(context.Context) error { return nil }))
	require.NoError(t, g.Wait())
}

func TestWait_TG9_CollectAllLeavesSiblingsRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.CollectAll())
		var siblingErr error = errB
		g.Go(sleepThen(time.Second, errA))
		g.Go(func(ctx context.Context) error {
			time.Sleep(2 * time.Second)
			siblingErr = ctx.Err()
			return nil
		})
		e := waitError(t, g)
		require.NoError(t, siblingErr, "the sibling's context was not cancelled")
		require.Len(t, e.Failures, 1)
	})
}

func TestWait_TG9_CollectAllStillRepanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.CollectAll())
		var siblingCtxErr error = errB
		g.Go(func(context.Context) error { panic("boom") })
		g.Go(func(ctx context.Context) error {
			time.Sleep(time.Second)
			siblingCtxErr = ctx.Err()
			return errA
		})
		p, _ := recoverWait(g)
		e, ok := p.(*taskgroup.Error)
		require.True(t, ok)
		require.Len(t, e.Failures, 2)
		require.NoError(t, siblingCtxErr)
	})
}

func TestGo_TG10_AfterWaitPanicsAndSaysSo(t *testing.T) {
	g := taskgroup.New(t.Context())
	require.NoError(t, g.Wait())
	require.PanicsWithValue(t,
		"taskgroup: Go called after Wait returned; a Group runs one batch of tasks, create a new Group with New",
		func() { g.Go(func(context.Context) error { return nil }) })
}

func TestGo_TG10_NilFunctionPanics(t *testing.T) {
	g := taskgroup.New(t.Context())
	defer g.Wait()
	require.PanicsWithValue(t, "taskgroup: Go called with a nil function", func() { g.Go(nil) })
	require.PanicsWithValue(t, "taskgroup: GoNamed called with a nil function", func() { g.GoNamed("x", nil) })
	require.PanicsWithValue(t, "taskgroup: TryGo called with a nil function", func() { g.TryGo(nil) })
	require.PanicsWithValue(t, "taskgroup: Spawn called with a nil function", func() { taskgroup.Spawn[int](g, nil) })
	require.PanicsWithValue(t, "taskgroup: SpawnNamed called with a nil function", func() { taskgroup.SpawnNamed[int](g, "x", nil) })
}

func TestNew_TG10_NilContextPanics(t *testing.T) {
	require.PanicsWithValue(t,
		"taskgroup: New called with a nil context; pass context.Background() or the caller's context",
		func() {
			//lint:ignore SA1012 the nil context is what this test is about
			taskgroup.New(nil)
		})
}

func TestWithLimit_TG10_BelowOnePanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: WithLimit(0): the limit must be at least 1", func() { taskgroup.WithLimit(0) })
	require.PanicsWithValue(t, "taskgroup: WithLimit(-3): the limit must be at least 1", func() { taskgroup.WithLimit(-3) })
}

func TestWait_TG10_RepeatedAndConcurrentCallsAgree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(sleepThen(time.Second, errA))
		errs := make([]error, 4)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = g.Wait() })
		}
		wg.Wait()
		for _, err := range errs {
			require.ErrorIs(t, err, errA)
			require.Same(t, errs[0], err)
		}
		require.Same(t, errs[0], g.Wait())
	})
}

func TestWait_TG10_RepeatedCallsRepanic(t *testing.T) {
	g := taskgroup.New(t.Context())
	g.Go(func(context.Context) error { panic("boom") })
	p1, _ := recoverWait(g)
	p2, _ := recoverWait(g)
	require.NotNil(t, p1)
	require.Same(t, p1, p2)
}

func TestWait_CancelsTheContextOnceItReturns(t *testing.T) {
	g := taskgroup.New(t.Context())
	g.Go(func(context.Context) error { return nil })
	require.NoError(t, g.Wait())
	require.ErrorIs(t, g.Context().Err(), context.Canceled)
}

func TestStop_DoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(sleepThen(time.Second, nil))
		start := time.Now()
		g.Stop()
		require.Zero(t, time.Since(start))
		require.ErrorIs(t, g.Context().Err(), context.Canceled)
		require.NoError(t, g.Wait())
	})
}

func TestWait_TG3_NestedFailuresAreNeverEchoes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		outer := taskgroup.New(parent)
		outer.GoNamed("nested", func(ctx context.Context) error {
			inner := taskgroup.New(ctx)
			inner.Go(func(ctx context.Context) error {
				<-ctx.Done()
				return errA // a real failure after the cancellation
			})
			return inner.Wait() // an *Error with a failure and the cancellation as Cause
		})
		time.AfterFunc(time.Second, cancel)
		e := waitError(t, outer)
		require.Len(t, e.Failures, 1, "the nested failure is listed, not counted as an echo")
		require.Equal(t, "nested", e.Failures[0].Name)
		require.ErrorIs(t, e, errA)
	})
}

func TestWait_TG3_NestedCancellationIsAnEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		outer := taskgroup.New(parent)
		outer.Go(func(ctx context.Context) error {
			inner := taskgroup.New(ctx)
			inner.Go(awaitCancel)
			return inner.Wait() // only the cancellation
		})
		time.AfterFunc(time.Second, cancel)
		e := waitError(t, outer)
		require.Empty(t, e.Failures)
		require.Equal(t, 1, e.Cancelled)
	})
}
