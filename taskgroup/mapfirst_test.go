package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func double(_ context.Context, x int) (int, error) { return 2 * x, nil }

func TestMap_TG12_ResultsLineUpWithInputs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := []int{5, 1, 4, 2, 3}
		out, err := taskgroup.Map(t.Context(), in, func(_ context.Context, x int) (int, error) {
			time.Sleep(time.Duration(x) * time.Second) // return out of order
			return 2 * x, nil
		})
		require.NoError(t, err)
		require.Equal(t, []int{10, 2, 8, 4, 6}, out)
	})
}

func TestMap_TG12_EmptyInput(t *testing.T) {
	out, err := taskgroup.Map(t.Context(), []int{}, double)
	require.NoError(t, err)
	require.Empty(t, out)
	require.NotNil(t, out)
}

func TestMap_TG12_FailFastKeepsLengthAndNamesTheItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := []int{1, 2, 3, 4}
		out, err := taskgroup.Map(t.Context(), in, func(ctx context.Context, x int) (int, error) {
			if x == 2 {
				return 0, errA
			}
			if x == 1 {
				return 10, nil
			}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		require.Len(t, out, len(in))
		require.Equal(t, []int{10, 0, 0, 0}, out)
		var e *taskgroup.Error
		require.ErrorAs(t, err, &e)
		require.Len(t, e.Failures, 1)
		require.Equal(t, 1, e.Failures[0].Index, "the index is the item's")
		require.Equal(t, 2, e.Cancelled)
	})
}

func TestMap_TG12_CollectAllKeepsEverySuccess(t *testing.T) {
	in := []int{1, 2, 3, 4, 5, 6}
	out, err := taskgroup.Map(t.Context(), in, func(_ context.Context, x int) (int, error) {
		if x%2 == 0 {
			return -1, fmt.Errorf("item %d: %w", x, errA)
		}
		return x * x, nil
	}, taskgroup.CollectAll())
	require.Equal(t, []int{1, 0, 9, 0, 25, 0}, out)
	var e *taskgroup.Error
	require.ErrorAs(t, err, &e)
	require.Len(t, e.Failures, 3)
	idx := []int{}
	for _, f := range e.Failures {
		idx = append(idx, f.Index)
	}
	require.ElementsMatch(t, []int{1, 3, 5}, idx)
}

func TestMap_TG12_WithLimitUsesAtMostNGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make([]int, 200)
		var ids goroutineSet
		var c concurrency
		out, err := taskgroup.Map(t.Context(), in, func(ctx context.Context, x int) (int, error) {
			ids.add()
			_ = c.task(time.Millisecond)(ctx)
			return x + 1, nil
		}, taskgroup.WithLimit(3))
		require.NoError(t, err)
		require.Len(t, out, 200)
		require.LessOrEqual(t, ids.len(), 3)
		require.LessOrEqual(t, c.max.Load(), int32(3))
	})
}

func TestMap_TG12_CancelledParentStartsNothing(t *testing.T) {
	parent, cancel := context.WithCancel(t.Context())
	cancel()
	var ran atomic.Int32
	out, err := taskgroup.Map(parent, []int{1, 2, 3}, func(_ context.Context, x int) (int, error) {
		ran.Add(1)
		return x, nil
	})
	require.Len(t, out, 3)
	require.Zero(t, ran.Load())
	require.ErrorIs(t, err, context.Canceled)
}

func TestMap_TG10_NilFunctionPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: Map called with a nil function", func() {
		_, _ = taskgroup.Map[int, int](t.Context(), []int{1}, nil)
	})
}

func TestFirst_TG13_ReturnsTheFirstSuccessAndCancelsTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loserCause error
		start := time.Now()
		v, err := taskgroup.First(t.Context(),
			func(ctx context.Context) (string, error) {
				<-ctx.Done()
				loserCause = context.Cause(ctx)
				return "", ctx.Err()
			},
			func(context.Context) (string, error) {
				time.Sleep(time.Second)
				return "fast", nil
			},
		)
		require.NoError(t, err)
		require.Equal(t, "fast", v)
		require.Equal(t, time.Second, time.Since(start))
		require.ErrorIs(t, loserCause, taskgroup.ErrStopped)
	})
}

func TestFirst_TG13_ReturnsOnlyAfterEveryFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var slowDone atomic.Bool
		slowStarted := make(chan struct{})
		start := time.Now()
		v, err := taskgroup.First(t.Context(),
			func(context.Context) (int, error) {
				<-slowStarted // win only once the slow one runs: a function not yet started when one wins is not started
				return 1, nil
			},
			func(context.Context) (int, error) {
				close(slowStarted)
				time.Sleep(3 * time.Second) // ignores cancellation
				slowDone.Store(true)
				return 2, nil
			},
		)
		require.NoError(t, err)
		require.Equal(t, 1, v)
		require.True(t, slowDone.Load())
		require.Equal(t, 3*time.Second, time.Since(start))
	})
}

func TestFirst_TG13_AWinnerLeavesLaterFunctionsUnstarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int32
		v, err := taskgroup.First(t.Context(),
			func(context.Context) (int, error) { return 1, nil },
			func(context.Context) (int, error) {
				time.Sleep(time.Second) // as long as it takes First to call Go again
				ran.Add(1)
				return 2, nil
			},
		)
		require.NoError(t, err)
		require.Equal(t, 1, v)
		require.LessOrEqual(t, ran.Load(), int32(1), "started or not, the second never wins")
	})
}

func TestFirst_TG13_AFailureDoesNotStopTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v, err := taskgroup.First(t.Context(),
			func(context.Context) (int, error) { return 0, errA },
			func(context.Context) (int, error) { time.Sleep(time.Second); return 2, nil },
		)
		require.NoError(t, err)
		require.Equal(t, 2, v)
	})
}

func TestFirst_TG13_AllFailGivesEveryFailure(t *testing.T) {
	v, err := taskgroup.First(t.Context(),
		func(context.Context) (int, error) { return 0, errA },
		func(context.Context) (int, error) { return 0, errB },
	)
	require.Zero(t, v)
	var e *taskgroup.Error
	require.ErrorAs(t, err, &e)
	require.Len(t, e.Failures, 2)
	require.ErrorIs(t, err, errA)
	require.ErrorIs(t, err, errB)
}

func TestFirst_TG13_NoFunctionsIsAnError(t *testing.T) {
	v, err := taskgroup.First[int](t.Context())
	require.Zero(t, v)
	require.ErrorIs(t, err, taskgroup.ErrNoFunctions)
}

func TestFirst_TG13_PanicIsReraised(t *testing.T) {
	panicking := make(chan struct{})
	require.Panics(t, func() {
		_, _ = taskgroup.First(t.Context(),
			func(context.Context) (int, error) {
				<-panicking // win only once the other has started, so that it runs
				return 1, nil
			},
			func(context.Context) (int, error) {
				close(panicking)
				panic("boom")
			},
		)
	}, "a winner does not hide another function's panic")
}

func TestFirst_TG13_CancelledParentMatchesErrAndCause(t *testing.T) {
	errGone := errors.New("client went away")
	parent, cancel := context.WithCancelCause(t.Context())
	cancel(errGone)
	_, err := taskgroup.First(parent, func(context.Context) (int, error) { return 1, nil })
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, errGone)
}
