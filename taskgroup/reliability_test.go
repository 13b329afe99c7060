package taskgroup_test

// Tests for the corrections of part 2 to the part-1 rules (TG2, TG4, TG7,
// TG8, OB6, ALL4) and for TG14: each failed before its fix.

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// TestWait_TG2_CauseIsTheFirstFailureWhenManyFailAtOnce lets 16 tasks fail at
// once, again and again: the group's cause must be Failures[0] every time.
// Before record and cancel were one step, a few rounds in a thousand under
// -race -cpu=2,4 had another failure as the cause.
func TestWait_TG2_CauseIsTheFirstFailureWhenManyFailAtOnce(t *testing.T) {
	rounds := 500
	if testing.Short() {
		rounds = 50
	}
	for range rounds {
		g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors())
		start := make(chan struct{})
		for i := range 16 {
			g.Go(func(context.Context) error {
				<-start
				return errors.New("failure " + string(rune('a'+i)))
			})
		}
		close(start)
		var te *taskgroup.Error
		require.ErrorAs(t, g.Wait(), &te)
		require.Same(t, te.Failures[0], context.Cause(g.Context()))
	}
}

// A Go waiting for a shared semaphore's permit, granted the permit after
// its group was stopped, must not run its function. One P: the woken Spawn
// runs only once the test goroutine blocks, so Stop lands between the grant
// and the wake-up every time (with more Ps the Spawn may wake first, and
// then rightly runs its task).
func TestWithSemaphore_TG7_PermitGrantedAfterStopDoesNotStartTheTask(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(1)
		require.NoError(t, sem.Acquire(t.Context(), 1))
		g := taskgroup.New(t.Context(), taskgroup.WithSemaphore(sem))
		ran := false
		spawned := make(chan *taskgroup.Task[int])
		go func() {
			spawned <- taskgroup.Spawn(g, func(context.Context) (int, error) {
				ran = true
				return 1, nil
			})
		}()
		synctest.Wait() // Spawn waits for the permit
		sem.Release(1)  // hands the permit to the waiting Spawn...
		g.Stop()        // ...which is stopped before it wakes
		_, err := (<-spawned).Result()
		require.ErrorIs(t, err, taskgroup.ErrStopped)
		require.NoError(t, g.Wait())
		require.False(t, ran, "a task granted its permit after Stop does not run")
		require.Equal(t, semaphore.Stats{Capacity: 1}, sem.Stats(), "and gives the permit back")
	})
}

func TestWithLimit_TG8_AHugeLimitCostsWhatASmallOneCosts(t *testing.T) {
	run := func(n int) func() {
		return func() {
			g := taskgroup.New(context.Background(), taskgroup.WithLimit(n))
			g.Go(func(context.Context) error { return nil })
			_ = g.Wait()
		}
	}
	small := testing.AllocsPerRun(100, run(8))
	for _, n := range []int{1 << 20, 1 << 40, math.MaxInt} {
		require.Equal(t, small, testing.AllocsPerRun(100, run(n)), "WithLimit(%d)", n)
	}
}

func TestWithLimit_TG8_MaxIntLimitsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(math.MaxInt))
		release := make(chan struct{})
		running := 0
		var mu sync.Mutex
		for range 1000 {
			g.Go(func(context.Context) error {
				mu.Lock()
				running++
				mu.Unlock()
				<-release
				return nil
			})
		}
		synctest.Wait()
		require.Equal(t, 1000, running)
		close(release)
		require.NoError(t, g.Wait())
	})
}

func TestHooks_OB6_PanicInOnDoneComesHomeAsTheTasksFailure(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.WithHooks(taskgroup.Hooks{
		OnDone: func(taskgroup.TaskInfo, error, time.Duration) { panic("hook") },
	}))
	g.GoNamed("fine", func(context.Context) error { return nil })
	var te *taskgroup.Error
	require.ErrorAs(t, g.Wait(), &te)
	require.Len(t, te.Failures, 1)
	require.Equal(t, "fine", te.Failures[0].Name)
	var pe *taskgroup.PanicError
	require.ErrorAs(t, te.Failures[0], &pe)
	require.Equal(t, "hook", pe.Value)
}

func TestHooks_OB6_PanicInOnDoneJoinsTheTasksOwnError(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.WithHooks(taskgroup.Hooks{
		OnDone: func(taskgroup.TaskInfo, error, time.Duration) { panic("hook") },
	}))
	g.Go(func(context.Context) error { return errA })
	err := g.Wait()
	require.ErrorIs(t, err, errA)
	var pe *taskgroup.PanicError
	require.ErrorAs(t, err, &pe)
}

func TestHooks_OB6_PanicInOnStragglerComesHomeAsTheTasksFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.WithStragglerTimeout(time.Second),
			taskgroup.WithHooks(taskgroup.Hooks{OnStraggler: func(taskgroup.Straggler) { panic("hook") }}))
		release := make(chan struct{})
		g.GoNamed("slow", ignoresCancellation(release))
		g.Stop()
		time.Sleep(2 * time.Second)
		close(release)
		var te *taskgroup.Error
		require.ErrorAs(t, g.Wait(), &te)
		require.Len(t, te.Failures, 1)
		require.Equal(t, "slow", te.Failures[0].Name)
		var pe *taskgroup.PanicError
		require.ErrorAs(t, te.Failures[0], &pe)
		require.Equal(t, "hook", pe.Value)
	})
}

// TG14: the shape that hung a ported load generator in silence. The reporter
// task panics before closing the channel its caller waits on, so the caller
// never reaches Wait; the panic must be in the log at once.
func TestPanic_TG14_LoggedAtOnceWhenTheCallerNeverReachesWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log lockedBuffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
		defer slog.SetDefault(old)

		g := taskgroup.New(t.Context(), taskgroup.WithName("loadgen"))
		finished := make(chan struct{})
		g.GoNamed("reporter", func(context.Context) error {
			var totals map[string]int
			//lint:ignore SA5000 the nil map is the bug this test's task has: it panics before close(finished)
			totals["requests"]++
			close(finished)
			return nil
		})
		select {
		case <-finished:
			t.Fatal("the reporter finished")
		case <-time.After(time.Minute): // the caller gives up waiting
		}
		got := log.String()
		require.Contains(t, got, `level=ERROR msg="taskgroup: task panicked" group=loadgen task=reporter index=0`)
		require.Contains(t, got, "assignment to entry in nil map")
		require.Contains(t, got, "TestPanic_TG14", "with the stack of the panic")
		require.Panics(t, func() { _ = g.Wait() }, "and Wait still re-panics (TG5)")
	})
}

func TestPanic_TG14_UnnamedGroupLogsToTheDefaultLogger(t *testing.T) {
	var log lockedBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
	defer slog.SetDefault(old)
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors())
	g.Go(panicsWithKaboom)
	require.Error(t, g.Wait())
	require.Contains(t, log.String(), `msg="taskgroup: task panicked" index=0 panic=kaboom`)
}

func TestPanic_TG14_ADiscardingLoggerSilencesIt(t *testing.T) {
	var log lockedBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
	defer slog.SetDefault(old)
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.WithLogger(slog.New(slog.DiscardHandler)))
	g.Go(panicsWithKaboom)
	require.Error(t, g.Wait())
	require.Empty(t, log.String())
}

func TestPanic_TG5_MessageListsFailuresFirstAndStacksAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.CollectAll())
		g.Go(panicsWithKaboom)
		g.Go(func(context.Context) error {
			time.Sleep(time.Second) // fails after the panic
			return errA
		})
		msg := g.Wait().Error()
		first, rest, _ := cutLine(msg)
		require.Equal(t, "taskgroup: 2 tasks failed: task #0: panic: kaboom; task #1: a failed", first)
		require.Contains(t, rest, "panicsWithKaboom", "the stack follows the list")
		require.NotContains(t, rest, "taskgroup.(*Group).run", "leash's own frames are trimmed")
		require.NotContains(t, rest, "panics.Capture")
	})
}

func cutLine(s string) (first, rest string, ok bool) {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestGo_TG10_AfterWaitPanicNamesTheFunctionCalled(t *testing.T) {
	g := taskgroup.New(t.Context())
	require.NoError(t, g.Wait())
	fn := func(context.Context) error { return nil }
	require.PanicsWithValue(t, "taskgroup: GoNamed called after Wait returned; a Group runs one batch of tasks, create a new Group with New",
		func() { g.GoNamed("x", fn) })
	require.PanicsWithValue(t, "taskgroup: TryGo called after Wait returned; a Group runs one batch of tasks, create a new Group with New",
		func() { g.TryGo(fn) })
	require.PanicsWithValue(t, "taskgroup: SpawnNamed called after Wait returned; a Group runs one batch of tasks, create a new Group with New",
		func() { taskgroup.SpawnNamed(g, "x", func(context.Context) (int, error) { return 0, nil }) })
}

func TestEntries_ALL4_NilContextPanicsWithAMessage(t *testing.T) {
	fn := func(context.Context, int) (int, error) { return 0, nil }
	//lint:file-ignore SA1012 nil contexts are what this test is about
	require.PanicsWithValue(t, "taskgroup: Map called with a nil context; pass context.Background() or the caller's context",
		func() { _, _ = taskgroup.Map(nil, []int{1}, fn) })
	require.PanicsWithValue(t, "taskgroup: First called with a nil context; pass context.Background() or the caller's context",
		func() { _, _ = taskgroup.First(nil, func(context.Context) (int, error) { return 0, nil }) })
}
