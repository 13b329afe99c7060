package taskgroup_test

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// sleepy returns x after x seconds, ignoring cancellation.
func sleepy(_ context.Context, x int) (int, error) {
	time.Sleep(time.Duration(x) * time.Second)
	return x, nil
}

// collect ranges over res and returns the indices and values it received.
func collect[T any](res *taskgroup.Results[T]) (idx []int, vals []T) {
	for i, v := range res.All() {
		idx = append(idx, i)
		vals = append(vals, v)
	}
	return idx, vals
}

func TestStream_RS2_InputOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idx, vals := collect(taskgroup.Stream(t.Context(), slices.Values([]int{3, 1, 2}), sleepy))
		require.Equal(t, []int{0, 1, 2}, idx)
		require.Equal(t, []int{3, 1, 2}, vals)
	})
}

func TestAsCompleted_RS2_CompletionOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		idx, vals := collect(taskgroup.AsCompleted(t.Context(), slices.Values([]int{3, 1, 2}), sleepy))
		require.Equal(t, []int{1, 2, 0}, idx, "each with its index in the input")
		require.Equal(t, []int{1, 2, 3}, vals)
	})
}

func TestStream_RS2_ResultsComeAsTheyFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var at []time.Duration
		for range taskgroup.Stream(t.Context(), slices.Values([]int{1, 2, 3}), sleepy).All() {
			at = append(at, time.Since(start))
		}
		require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, at)
	})
}

func TestStream_RS2_BodyRunsInTheRangingGoroutine(t *testing.T) {
	var ids goroutineSet
	ids.add()
	for range taskgroup.Stream(t.Context(), slices.Values(items(10)), double, taskgroup.WithLimit(3)).All() {
		ids.add()
	}
	require.Equal(t, 1, ids.len())
}

func TestStream_RS2_BreakCancelsAndWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var returned atomic.Int32
		var causes []error
		causeOf := make(chan error, 3)
		res := taskgroup.Stream(t.Context(), slices.Values(items(4)), func(ctx context.Context, x int) (int, error) {
			defer returned.Add(1)
			if x == 0 {
				return 0, nil
			}
			<-ctx.Done()
			causeOf <- context.Cause(ctx)
			return 0, ctx.Err()
		})
		start := time.Now()
		for range res.All() {
			synctest.Wait() // every item has started
			break
		}
		require.Equal(t, int32(4), returned.Load(), "TG1: nothing outlives the loop")
		require.Zero(t, time.Since(start))
		close(causeOf)
		for c := range causeOf {
			causes = append(causes, c)
		}
		require.Len(t, causes, 3)
		for _, c := range causes {
			require.ErrorIs(t, c, taskgroup.ErrStopped)
		}
		require.NoError(t, res.Err(), "RS3: leaving early is no failure")
	})
}

func TestStream_RS2_ReturnCancelsAndWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var returned atomic.Int32
		find := func() int {
			for i := range taskgroup.AsCompleted(t.Context(), slices.Values(items(5)), func(ctx context.Context, x int) (int, error) {
				defer returned.Add(1)
				select {
				case <-time.After(time.Duration(x) * time.Second):
					return x, nil
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}).All() {
				if i == 1 {
					return i
				}
			}
			return -1
		}
		require.Equal(t, 1, find())
		require.Equal(t, int32(5), returned.Load())
	})
}

func TestStream_RS2_PanicInBodyCancelsWaitsAndGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var returned atomic.Int32
		res := taskgroup.Stream(t.Context(), slices.Values(items(3)), func(ctx context.Context, x int) (int, error) {
			defer returned.Add(1)
			if x > 0 {
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return x, nil
		})
		require.PanicsWithValue(t, "body", func() {
			for range res.All() {
				synctest.Wait() // every item has started
				panic("body")
			}
		})
		require.Equal(t, int32(3), returned.Load())
		require.NoError(t, res.Err())
	})
}

func TestStream_RS2_LimitBoundsRunningAndWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 3
		var running, started, mostRunning atomic.Int32
		res := taskgroup.Stream(t.Context(), slices.Values(items(20)), func(_ context.Context, x int) (int, error) {
			started.Add(1)
			n := running.Add(1)
			for m := mostRunning.Load(); n > m && !mostRunning.CompareAndSwap(m, n); m = mostRunning.Load() {
			}
			time.Sleep(time.Duration(1+x%3) * time.Second)
			running.Add(-1)
			return x, nil
		}, taskgroup.WithLimit(limit))
		seen := 0
		for i := range res.All() {
			require.LessOrEqual(t, taskgroup.StreamWaiting(res), limit, "finished results waiting for the body")
			require.LessOrEqual(t, int(started.Load()), i+1+limit, "backpressure: nothing runs far ahead of a slow body")
			time.Sleep(5 * time.Second) // a slow body
			seen++
		}
		require.Equal(t, 20, seen)
		require.Equal(t, int32(limit), mostRunning.Load())
		require.NoError(t, res.Err())
	})
}

// count yields 0, 1, 2, ... for ever, and says how many it yielded.
func count(yielded *atomic.Int32) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; ; i++ {
			yielded.Add(1)
			if !yield(i) {
				return
			}
		}
	}
}

func TestStream_RS2_InputOfUnknownLength(t *testing.T) {
	var yielded atomic.Int32
	var sum int
	for i, v := range taskgroup.Stream(t.Context(), count(&yielded), double, taskgroup.WithLimit(2)).All() {
		sum += v
		if i == 99 {
			break
		}
	}
	require.Equal(t, 9900, sum)
	require.LessOrEqual(t, yielded.Load(), int32(100+2+1), "the input is not read far ahead")
}

func TestStream_RS2_EmptyInputYieldsNothing(t *testing.T) {
	res := taskgroup.Stream(t.Context(), slices.Values([]int{}), double)
	idx, _ := collect(res)
	require.Empty(t, idx)
	require.NoError(t, res.Err())
}

func TestStream_RS2_NilInputYieldsNothing(t *testing.T) {
	res := taskgroup.AsCompleted(t.Context(), nil, double)
	idx, _ := collect(res)
	require.Empty(t, idx)
	require.NoError(t, res.Err())
}

func TestStream_RS2_RangingTwicePanics(t *testing.T) {
	res := taskgroup.Stream(t.Context(), slices.Values(items(2)), double)
	collect(res)
	require.PanicsWithValue(t, "taskgroup: the results of a stream were ranged twice; call Stream or AsCompleted again for another run", func() {
		collect(res)
	})
}

func TestStream_RS2_NothingRunsUntilRanged(t *testing.T) {
	var ran atomic.Int32
	res := taskgroup.Stream(t.Context(), slices.Values(items(2)), func(context.Context, int) (int, error) {
		ran.Add(1)
		return 0, nil
	})
	require.Zero(t, ran.Load())
	require.NoError(t, res.Err())
}

func TestStream_RS2_InputPanicIsReraised(t *testing.T) {
	in := func(yield func(int) bool) {
		yield(1)
		panic("bad input")
	}
	res := taskgroup.Stream(t.Context(), in, double)
	defer func() {
		var p *taskgroup.PanicError
		require.ErrorAs(t, recover().(error), &p)
		require.Equal(t, "bad input", p.Value)
		require.Contains(t, string(p.Stack), "stream_test.go", "the input's own stack")
	}()
	collect(res)
}

func TestStream_RS3_FailFastStopsStartingItems(t *testing.T) {
	var c calls
	res := taskgroup.Stream(t.Context(), slices.Values(items(6)), func(_ context.Context, x int) (int, error) {
		c.add(x)
		if x == 2 {
			return 0, errA
		}
		return x, nil
	}, taskgroup.WithLimit(1))
	idx, _ := collect(res)
	require.Equal(t, []int{0, 1}, idx)
	require.Equal(t, []int{0, 1, 2}, c.seen, "TG7: nothing starts after the failure")
	var e *taskgroup.Error
	require.ErrorAs(t, res.Err(), &e)
	require.Len(t, e.Failures, 1)
	require.Equal(t, 2, e.Failures[0].Index, "the item's index in the input")
	require.ErrorIs(t, res.Err(), errA)
	require.Equal(t, 1, e.Cancelled, "the item the input yielded after the failure never started")
}

func TestStream_RS3_CollectAllRunsEveryItem(t *testing.T) {
	res := taskgroup.AsCompleted(t.Context(), slices.Values(items(6)), func(_ context.Context, x int) (int, error) {
		if x%2 == 1 {
			return 0, errA
		}
		return x, nil
	}, taskgroup.CollectAll(), taskgroup.WithLimit(2))
	idx, _ := collect(res)
	require.ElementsMatch(t, []int{0, 2, 4}, idx)
	var e *taskgroup.Error
	require.ErrorAs(t, res.Err(), &e)
	var failed []int
	for _, f := range e.Failures {
		failed = append(failed, f.Index)
	}
	require.ElementsMatch(t, []int{1, 3, 5}, failed)
}

func TestStream_RS3_PanicIsReraisedAfterTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var returned atomic.Int32
		res := taskgroup.Stream(t.Context(), slices.Values(items(3)), func(ctx context.Context, x int) (int, error) {
			defer returned.Add(1)
			switch x {
			case 0:
				return 0, nil
			case 1:
				time.Sleep(time.Second)
				panic("boom")
			}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		var seen []int
		func() {
			defer func() {
				var e *taskgroup.Error
				require.ErrorAs(t, recover().(error), &e, "TG5: Wait's *Error")
				var p *taskgroup.PanicError
				require.ErrorAs(t, e, &p)
				require.Equal(t, "boom", p.Value)
			}()
			for i := range res.All() {
				seen = append(seen, i)
			}
		}()
		require.Equal(t, []int{0}, seen)
		require.Equal(t, int32(3), returned.Load())
		require.ErrorContains(t, res.Err(), "boom", "Err holds what was raised")
	})
}

func TestStream_RS3_PanicAfterABreakIsStillReraised(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := taskgroup.Stream(t.Context(), slices.Values(items(2)), func(ctx context.Context, x int) (int, error) {
			if x == 1 {
				<-ctx.Done() // the break stops it, and it panics on the way out
				panic("late")
			}
			return 0, nil
		})
		require.Panics(t, func() {
			for range res.All() {
				synctest.Wait() // item 1 has started
				break
			}
		})
	})
}

func TestStream_RS3_PanicsAsErrorsGoesToErr(t *testing.T) {
	res := taskgroup.Stream(t.Context(), slices.Values(items(2)), func(_ context.Context, x int) (int, error) {
		if x == 1 {
			panic("boom")
		}
		return x, nil
	}, taskgroup.PanicsAsErrors(), taskgroup.WithLimit(1))
	idx, _ := collect(res)
	require.Equal(t, []int{0}, idx)
	var p *taskgroup.PanicError
	require.ErrorAs(t, res.Err(), &p)
}

func TestStream_RS3_GoexitIsAFailure(t *testing.T) {
	res := taskgroup.Stream(t.Context(), slices.Values(items(3)), func(_ context.Context, x int) (int, error) {
		if x == 1 {
			runtime.Goexit()
		}
		return x, nil
	}, taskgroup.CollectAll(), taskgroup.WithLimit(1))
	idx, _ := collect(res)
	require.Equal(t, []int{0, 2}, idx)
	require.ErrorIs(t, res.Err(), taskgroup.ErrGoexit, "TG6")
}

func TestStream_RS3_FailureAtTheMomentOfABreakIsKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := taskgroup.AsCompleted(t.Context(), slices.Values(items(2)), func(_ context.Context, x int) (int, error) {
			time.Sleep(time.Second) // both finish at the same instant
			if x == 1 {
				return 0, errA
			}
			return x, nil
		})
		for range res.All() {
			break
		}
		require.ErrorIs(t, res.Err(), errA, "no failure is lost to a break")
	})
}

func TestStream_RS3_ParentCancellationMatchesErrAndCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errGone := errors.New("client went away")
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		res := taskgroup.Stream(ctx, slices.Values(items(3)), func(ctx context.Context, x int) (int, error) {
			if x == 0 {
				return 0, nil
			}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		var seen []int
		for i := range res.All() {
			seen = append(seen, i)
			cancel(errGone)
		}
		require.Equal(t, []int{0}, seen)
		require.ErrorIs(t, res.Err(), context.Canceled, "ALL3")
		require.ErrorIs(t, res.Err(), errGone, "ALL3")
	})
}

func TestStream_RS3_CancelledParentStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var ran atomic.Int32
	res := taskgroup.Stream(ctx, slices.Values(items(3)), func(context.Context, int) (int, error) {
		ran.Add(1)
		return 0, nil
	})
	idx, _ := collect(res)
	require.Empty(t, idx)
	require.Zero(t, ran.Load())
	require.ErrorIs(t, res.Err(), context.Canceled)
}

func TestStream_ALL4_NilContextPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: Stream called with a nil context; pass context.Background() or the caller's context", func() {
		//lint:ignore SA1012 the nil context is the point
		taskgroup.Stream(nil, slices.Values(items(1)), double) //nolint:staticcheck
	})
}

func TestAsCompleted_TG10_NilFunctionPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: AsCompleted called with a nil function", func() {
		taskgroup.AsCompleted[int, int](t.Context(), nil, nil)
	})
}

func TestStream_RS2_NamedItemsAreSeenByHooks(t *testing.T) {
	var started atomic.Int32
	res := taskgroup.Stream(t.Context(), slices.Values(items(5)), double, taskgroup.WithName("pages"),
		taskgroup.WithHooks(taskgroup.Hooks{OnStart: func(info taskgroup.TaskInfo) {
			if info.Group == "pages" {
				started.Add(1)
			}
		}}))
	idx, _ := collect(res)
	require.Len(t, idx, 5)
	require.Equal(t, int32(5), started.Load())
}

func TestStream_RS2_LimitedStreamUsesAtMostNGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ids goroutineSet
		res := taskgroup.AsCompleted(t.Context(), slices.Values(items(100)), func(_ context.Context, x int) (int, error) {
			ids.add()
			time.Sleep(time.Duration(x%3) * time.Millisecond)
			return x, nil
		}, taskgroup.WithLimit(3))
		idx, _ := collect(res)
		require.Len(t, idx, 100)
		require.LessOrEqual(t, ids.len(), 3)
	})
}

func TestStream_RS3_ClosedSemaphoreFailsTheItems(t *testing.T) {
	s := semaphore.New(1)
	s.Close()
	res := taskgroup.Stream(t.Context(), slices.Values(items(3)), double, taskgroup.WithSemaphore(s), taskgroup.CollectAll())
	idx, _ := collect(res)
	require.Empty(t, idx)
	var e *taskgroup.Error
	require.ErrorAs(t, res.Err(), &e)
	require.Len(t, e.Failures, 3)
	require.ErrorIs(t, res.Err(), semaphore.ErrClosed)
}

func TestStream_RS2_SharedSemaphoreBoundsTheItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c concurrency
		s := semaphore.New(2)
		res := taskgroup.Stream(t.Context(), slices.Values(items(6)), func(ctx context.Context, x int) (int, error) {
			return x, c.task(time.Second)(ctx)
		}, taskgroup.WithSemaphore(s))
		idx, _ := collect(res)
		require.Len(t, idx, 6)
		require.Equal(t, int32(2), c.max.Load())
	})
}
