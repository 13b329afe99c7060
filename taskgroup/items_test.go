package taskgroup_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// The limited path of Map and FirstOf: n workers take the items by index
// (RS4), keeping every rule of a task.

// calls records which items a function was called on.
type calls struct {
	mu   sync.Mutex
	seen []int
}

func (c *calls) add(x int) {
	c.mu.Lock()
	c.seen = append(c.seen, x)
	c.mu.Unlock()
}

func TestMap_RS4_LimitedTakesItemsInOrder(t *testing.T) {
	var c calls
	out, err := taskgroup.Map(t.Context(), items(50), func(_ context.Context, x int) (int, error) {
		c.add(x)
		return x + 1, nil
	}, taskgroup.WithLimit(1))
	require.NoError(t, err)
	require.Equal(t, items(50), c.seen, "one worker takes the items in input order")
	require.Equal(t, 50, out[49])
}

func TestMap_RS4_LimitedFailureLeavesLaterItemsNotStarted(t *testing.T) {
	var c calls
	out, err := taskgroup.Map(t.Context(), items(5), func(_ context.Context, x int) (int, error) {
		c.add(x)
		if x == 1 {
			return 0, errA
		}
		return x + 10, nil
	}, taskgroup.WithLimit(1))
	require.Equal(t, []int{10, 0, 0, 0, 0}, out)
	require.Equal(t, []int{0, 1}, c.seen, "TG7: nothing starts after the failure")
	var e *taskgroup.Error
	require.ErrorAs(t, err, &e)
	require.Len(t, e.Failures, 1)
	require.Equal(t, 1, e.Failures[0].Index)
	require.Equal(t, 3, e.Cancelled, "the items never started are counted")
}

func TestMap_RS4_LimitedPanicComesHome(t *testing.T) {
	_, err := taskgroup.Map(t.Context(), items(4), func(_ context.Context, x int) (int, error) {
		if x == 2 {
			panic("boom")
		}
		return x, nil
	}, taskgroup.WithLimit(2), taskgroup.CollectAll(), taskgroup.PanicsAsErrors())
	var e *taskgroup.Error
	require.ErrorAs(t, err, &e)
	require.Len(t, e.Failures, 1)
	require.Equal(t, 2, e.Failures[0].Index)
	var p *taskgroup.PanicError
	require.ErrorAs(t, err, &p)
	require.Equal(t, "boom", p.Value)
	require.Contains(t, string(p.Stack), "items_test.go", "TG5: the stack is the panicking goroutine's")
}

func TestMap_RS4_LimitedPanicIsReraised(t *testing.T) {
	require.Panics(t, func() {
		_, _ = taskgroup.Map(t.Context(), items(4), func(_ context.Context, x int) (int, error) {
			if x == 0 {
				panic("boom")
			}
			return x, nil
		}, taskgroup.WithLimit(2))
	})
}

func TestMap_RS4_LimitedGoexitIsAFailureAndTheOthersStillRun(t *testing.T) {
	var c calls
	out, err := taskgroup.Map(t.Context(), items(4), func(_ context.Context, x int) (int, error) {
		c.add(x)
		if x == 1 {
			runtime.Goexit()
		}
		return x + 10, nil
	}, taskgroup.WithLimit(1), taskgroup.CollectAll())
	require.Equal(t, []int{10, 0, 12, 13}, out, "a replacement worker takes over")
	require.Equal(t, []int{0, 1, 2, 3}, c.seen)
	var e *taskgroup.Error
	require.ErrorAs(t, err, &e)
	require.Len(t, e.Failures, 1)
	require.Equal(t, 1, e.Failures[0].Index)
	require.ErrorIs(t, err, taskgroup.ErrGoexit, "TG6")
}

func TestMap_RS4_LimitedBoundsRunningItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c concurrency
		start := time.Now()
		_, err := taskgroup.Map(t.Context(), items(9), func(ctx context.Context, x int) (int, error) {
			return x, c.task(time.Second)(ctx)
		}, taskgroup.WithLimit(3))
		require.NoError(t, err)
		require.Equal(t, int32(3), c.max.Load())
		require.Equal(t, 3*time.Second, time.Since(start))
	})
}

func TestMap_RS4_LimitedStopsAtTheParentsCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		var c calls
		_, err := taskgroup.Map(ctx, items(10), func(ctx context.Context, x int) (int, error) {
			c.add(x)
			time.Sleep(time.Second)
			return x, nil
		}, taskgroup.WithLimit(2))
		require.Equal(t, []int{0, 1, 2, 3}, sorted(c.seen), "two rounds start, the second runs past the deadline")
		var e *taskgroup.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, 6, e.Cancelled)
		require.ErrorIs(t, err, context.DeadlineExceeded, "TG4: the parent's cause")
	})
}

func TestMap_RS4_LimitedHooksSeeEveryItem(t *testing.T) {
	var started, done atomic.Int32
	var failedIndex atomic.Int32
	failedIndex.Store(-1)
	_, err := taskgroup.Map(t.Context(), items(6), func(_ context.Context, x int) (int, error) {
		if x == 4 {
			return 0, errA
		}
		return x, nil
	}, taskgroup.WithLimit(2), taskgroup.CollectAll(), taskgroup.WithHooks(taskgroup.Hooks{
		OnStart: func(taskgroup.TaskInfo) { started.Add(1) },
		OnDone: func(info taskgroup.TaskInfo, err error, _ time.Duration) {
			done.Add(1)
			if err != nil {
				failedIndex.Store(int32(info.Index))
			}
		},
	}))
	require.ErrorIs(t, err, errA)
	require.Equal(t, int32(6), started.Load())
	require.Equal(t, int32(6), done.Load())
	require.Equal(t, int32(4), failedIndex.Load(), "the hook sees the item's index")
}

func TestMap_RS4_LimitAboveTheItemsWorks(t *testing.T) {
	out, err := taskgroup.Map(t.Context(), items(3), double, taskgroup.WithLimit(1<<62))
	require.NoError(t, err)
	require.Equal(t, []int{0, 2, 4}, out)
}

func TestMap_ALL4_NilContextPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: Map called with a nil context; pass context.Background() or the caller's context", func() {
		//lint:ignore SA1012 the nil context is the point
		_, _ = taskgroup.Map(nil, []int{1}, double) //nolint:staticcheck
	})
}

func TestFirstOf_RS4_LimitTriesCandidatesInOrder(t *testing.T) {
	var c calls
	v, err := taskgroup.FirstOf(t.Context(), []string{"a", "b", "c", "d"}, func(_ context.Context, host string) (string, error) {
		c.add(int(host[0] - 'a'))
		if host != "c" {
			return "", errA
		}
		return "from " + host, nil
	}, taskgroup.WithLimit(1))
	require.NoError(t, err)
	require.Equal(t, "from c", v)
	require.Equal(t, []int{0, 1, 2}, c.seen, "TG7: d is not tried once c succeeded")
}

func TestFirstOf_RS4_LimitBoundsRunningCandidates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c concurrency
		_, err := taskgroup.FirstOf(t.Context(), items(8), func(ctx context.Context, x int) (int, error) {
			_ = c.task(time.Second)(ctx)
			return 0, errA
		}, taskgroup.WithLimit(2))
		require.ErrorIs(t, err, errA)
		require.Equal(t, int32(2), c.max.Load())
	})
}

func TestFirstOf_RS4_NameAndHooks(t *testing.T) {
	var started atomic.Int32
	_, err := taskgroup.FirstOf(t.Context(), items(3), func(context.Context, int) (int, error) {
		return 0, errA
	}, taskgroup.WithName("mirrors"), taskgroup.WithHooks(taskgroup.Hooks{
		OnStart: func(info taskgroup.TaskInfo) {
			if info.Group == "mirrors" {
				started.Add(1)
			}
		},
	}))
	require.ErrorContains(t, err, `taskgroup "mirrors": 3 tasks failed`)
	require.Equal(t, int32(3), started.Load())
}

func TestFirstOf_TG13_NoItemsIsAnError(t *testing.T) {
	_, err := taskgroup.FirstOf(t.Context(), []int(nil), double)
	require.ErrorIs(t, err, taskgroup.ErrNoFunctions)
}

func TestFirstOf_TG10_NilFunctionPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: FirstOf called with a nil function", func() {
		_, _ = taskgroup.FirstOf[int, int](t.Context(), []int{1}, nil)
	})
}

func sorted(xs []int) []int { return slices.Sorted(slices.Values(xs)) }
