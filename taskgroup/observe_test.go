package taskgroup_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a bytes.Buffer that a logger may write to from a task's
// goroutine while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder collects what hooks see.
type recorder struct {
	mu         sync.Mutex
	starts     []taskgroup.TaskInfo
	dones      []done
	stragglers []taskgroup.Straggler
}

type done struct {
	info taskgroup.TaskInfo
	err  error
	d    time.Duration
}

func (r *recorder) hooks() taskgroup.Hooks {
	return taskgroup.Hooks{
		OnStart: func(i taskgroup.TaskInfo) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.starts = append(r.starts, i)
		},
		OnDone: func(i taskgroup.TaskInfo, err error, d time.Duration) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.dones = append(r.dones, done{i, err, d})
		},
		OnStraggler: func(s taskgroup.Straggler) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.stragglers = append(r.stragglers, s)
		},
	}
}

func (r *recorder) reported() []taskgroup.Straggler {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.stragglers)
}

// reportedAfter lets d pass once g's tasks have been told to stop, takes the
// stragglers reported by then, releases the task that ignores cancellation
// and requires Wait to succeed.
func (r *recorder) reportedAfter(t *testing.T, g *taskgroup.Group, d time.Duration, release chan struct{}) []taskgroup.Straggler {
	t.Helper()
	time.Sleep(d)
	synctest.Wait()
	got := r.reported()
	close(release)
	require.NoError(t, g.Wait())
	return got
}

// ignoresCancellation is a task that waits for release and never looks at its
// context: the straggler OB4 is for. Tests find its name in the stack.
func ignoresCancellation(release <-chan struct{}) func(context.Context) error {
	return func(context.Context) error {
		<-release
		return nil
	}
}

func TestHooks_SeeEveryStartAndEndWithErrorAndDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		g := taskgroup.New(t.Context(), taskgroup.WithName("hooked"), taskgroup.WithHooks(rec.hooks()),
			taskgroup.CollectAll(), taskgroup.PanicsAsErrors())
		start := time.Now()
		g.Go(sleepThen(1*time.Second, nil))
		g.GoNamed("second", sleepThen(2*time.Second, errA))
		g.Go(func(context.Context) error {
			time.Sleep(3 * time.Second)
			panic("third")
		})
		task := taskgroup.SpawnNamed(g, "fourth", func(context.Context) (int, error) {
			time.Sleep(4 * time.Second)
			return 4, errB
		})
		_ = waitError(t, g) // every hook has run once Wait returns

		info := func(name string, idx int) taskgroup.TaskInfo {
			return taskgroup.TaskInfo{Group: "hooked", Name: name, Index: idx, Start: start}
		}
		slices.SortFunc(rec.starts, func(a, b taskgroup.TaskInfo) int { return a.Index - b.Index })
		require.Equal(t, []taskgroup.TaskInfo{info("", 0), info("second", 1), info("", 2), info("fourth", 3)}, rec.starts)

		require.Len(t, rec.dones, 4) // in the order they ended
		for i, d := range rec.dones {
			require.Equal(t, info(rec.starts[i].Name, i), d.info)
			require.Equal(t, time.Duration(i+1)*time.Second, d.d)
		}
		require.NoError(t, rec.dones[0].err)
		require.ErrorIs(t, rec.dones[1].err, errA)
		var pe *taskgroup.PanicError
		require.ErrorAs(t, rec.dones[2].err, &pe)
		require.Equal(t, "third", pe.Value)
		require.ErrorIs(t, rec.dones[3].err, errB)
		_, err := task.Result()
		require.ErrorIs(t, err, errB)
	})
}

func TestHooks_OnStartPanicFailsTheTask(t *testing.T) {
	ran := false
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.WithHooks(taskgroup.Hooks{
		OnStart: func(taskgroup.TaskInfo) { panic("hook") },
	}))
	g.Go(func(context.Context) error { ran = true; return nil })
	te := waitError(t, g)
	require.False(t, ran)
	require.Len(t, te.Failures, 1)
	var pe *taskgroup.PanicError
	require.ErrorAs(t, te, &pe)
	require.Equal(t, "hook", pe.Value)
}

// goroutineLabels returns the label sets of the goroutine profile: one
// `{"key":"value", ...}` per group of goroutines with labels.
func goroutineLabels(t *testing.T) []string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&buf, 1))
	return regexp.MustCompile(`(?m)^# labels: (\{.*\})$`).FindAllString(buf.String(), -1)
}

// labelsWhileParked starts a task with launch, reads the goroutine profile's
// labels while the task runs, then lets it return and waits with wait.
func labelsWhileParked(t *testing.T, launch func(task func(context.Context) error), wait func() error) []string {
	t.Helper()
	release, started := make(chan struct{}), make(chan struct{})
	launch(func(context.Context) error {
		close(started)
		<-release
		return nil
	})
	<-started
	labels := goroutineLabels(t)
	close(release)
	require.NoError(t, wait())
	return labels
}

func TestLabels_OB1_NamedTaskRunsUnderGroupAndTaskLabels(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.WithName("ob1-checkout"))
	labels := labelsWhileParked(t, func(task func(context.Context) error) { g.GoNamed("ob1-payment", task) }, g.Wait)
	require.Contains(t, labels, `# labels: {"group":"ob1-checkout", "task":"ob1-payment"}`)
}

func TestLabels_OB1_UnnamedTaskOfNamedGroupRunsUnderGroupLabel(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.WithName("ob1-fanout"))
	labels := labelsWhileParked(t, g.Go, g.Wait)
	require.Contains(t, labels, `# labels: {"group":"ob1-fanout"}`)
}

func TestLabels_OB1_NamedTaskOfUnnamedGroupRunsUnderTaskLabel(t *testing.T) {
	g := taskgroup.New(t.Context())
	labels := labelsWhileParked(t, func(task func(context.Context) error) { g.GoNamed("ob1-lonely", task) }, g.Wait)
	require.Contains(t, labels, `# labels: {"task":"ob1-lonely"}`)
}

func TestLabels_OB1_TaskContextCarriesTheLabelsForPprofDo(t *testing.T) {
	release, inside := make(chan struct{}), make(chan struct{})
	after, back := make(chan struct{}), make(chan struct{})
	g := taskgroup.New(t.Context(), taskgroup.WithName("ob1-outer"))
	g.GoNamed("ob1-phased", func(ctx context.Context) error {
		pprof.Do(ctx, pprof.Labels("phase", "ob1-parse"), func(context.Context) {
			close(inside)
			<-release
		})
		close(after)
		<-back
		return nil
	})
	<-inside
	during := goroutineLabels(t)
	close(release)
	<-after
	afterDo := goroutineLabels(t)
	close(back)
	require.NoError(t, g.Wait())
	require.Contains(t, during, `# labels: {"group":"ob1-outer", "phase":"ob1-parse", "task":"ob1-phased"}`)
	require.Contains(t, afterDo, `# labels: {"group":"ob1-outer", "task":"ob1-phased"}`)
}

func TestLabels_OB1_NestedGroupDoesNotInheritTheOuterTaskLabel(t *testing.T) {
	outer := taskgroup.New(t.Context(), taskgroup.WithName("ob1-outer"))
	labels := labelsWhileParked(t, func(task func(context.Context) error) {
		outer.GoNamed("ob1-spawner", func(ctx context.Context) error {
			inner := taskgroup.New(ctx, taskgroup.WithName("ob1-inner"))
			inner.Go(task)
			return inner.Wait()
		})
	}, outer.Wait)
	require.Contains(t, labels, `# labels: {"group":"ob1-inner", "task":""}`)
}

// The trace is checked for the names it must hold rather than parsed:
// parsing needs golang.org/x/exp/trace, a dependency leash does not take. The
// tracer writes a task's type and a region's type into the trace's string
// table, so the group's and the task's names appear in its bytes.
func TestTrace_OB2_TraceHoldsTheGroupTaskAndTheTaskRegion(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("the execution tracer is already running (go test -trace)")
	}
	var buf bytes.Buffer
	require.NoError(t, trace.Start(&buf))
	g := taskgroup.New(t.Context(), taskgroup.WithName("ob2-traced-group"))
	g.GoNamed("ob2-traced-task", func(context.Context) error { return nil })
	err := g.Wait()
	trace.Stop()
	require.NoError(t, err)
	require.Contains(t, buf.String(), "ob2-traced-group")
	require.Contains(t, buf.String(), "ob2-traced-task")
}

func panicsWithKaboom(context.Context) error { panic("kaboom") }

func TestLogger_OB3_PanicIsLoggedBeforeWaitWhileASiblingIsBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log lockedBuffer
		release := make(chan struct{})
		g := taskgroup.New(t.Context(), taskgroup.WithName("ob3"), taskgroup.PanicsAsErrors(),
			taskgroup.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		g.GoNamed("stuck", ignoresCancellation(release))
		g.GoNamed("boom", panicsWithKaboom)
		waited := make(chan error)
		go func() { waited <- g.Wait() }()
		synctest.Wait() // the panic is over; the sibling and Wait are blocked

		select {
		case <-waited:
			t.Fatal("Wait returned while a task was still running")
		default:
		}
		got := log.String()
		require.Contains(t, got, `level=ERROR msg="taskgroup: task panicked" group=ob3 task=boom index=1 panic=kaboom`)
		require.Contains(t, got, "panicsWithKaboom") // the stack of the panic
		close(release)
		var pe *taskgroup.PanicError
		require.ErrorAs(t, <-waited, &pe)
	})
}

func TestLogger_OB3_GoexitIsLogged(t *testing.T) {
	var log lockedBuffer
	g := taskgroup.New(t.Context(), taskgroup.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	g.GoNamed("quits", func(context.Context) error {
		runtime.Goexit()
		return nil
	})
	require.ErrorIs(t, g.Wait(), taskgroup.ErrGoexit)
	require.Contains(t, log.String(), `level=ERROR msg="taskgroup: task called runtime.Goexit" task=quits index=0`)
}

func TestLogger_OB3_NilLoggerPanics(t *testing.T) {
	require.PanicsWithValue(t,
		"taskgroup: WithLogger(nil): pass a *slog.Logger, slog.Default() for the default one",
		func() { taskgroup.WithLogger(nil) })
}

func TestStraggler_OB4_ReportedOnceAfterTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		release := make(chan struct{})
		g := taskgroup.New(t.Context(), taskgroup.WithName("stuck"),
			taskgroup.WithStragglerTimeout(time.Second), taskgroup.WithHooks(rec.hooks()))
		start := time.Now()
		g.GoNamed("legacy", ignoresCancellation(release))
		time.Sleep(2 * time.Second)
		g.Stop()

		time.Sleep(time.Second - time.Nanosecond)
		synctest.Wait()
		require.Empty(t, rec.reported(), "reported before the timeout")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		got := rec.reported()
		require.Len(t, got, 1)
		s := got[0]
		require.Equal(t, taskgroup.TaskInfo{Group: "stuck", Name: "legacy", Index: 0, Start: start}, s.TaskInfo)
		require.Equal(t, time.Second, s.SinceCancel)
		require.Equal(t, 3*time.Second, s.Running)
		require.ErrorIs(t, s.Cause, taskgroup.ErrStopped)

		time.Sleep(time.Hour)
		synctest.Wait()
		require.Len(t, rec.reported(), 1, "reported more than once")
		close(release)
		require.NoError(t, g.Wait())
	})
}

func TestStraggler_OB4_NotReportedForATaskThatReturnedInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		release := make(chan struct{})
		g := taskgroup.New(t.Context(), taskgroup.WithStragglerTimeout(time.Second),
			taskgroup.WithHooks(rec.hooks()))
		g.GoNamed("prompt", func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(999 * time.Millisecond) // cleans up, in time
			return ctx.Err()
		})
		g.GoNamed("late", ignoresCancellation(release))
		g.Stop()
		got := rec.reportedAfter(t, g, time.Hour, release)
		require.Len(t, got, 1)
		require.Equal(t, "late", got[0].Name)
		require.Equal(t, 1, got[0].Index)
	})
}

func TestStraggler_OB4_ReportCarriesTheGoroutineStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		release := make(chan struct{})
		g := taskgroup.New(t.Context(), taskgroup.WithStragglerTimeout(time.Second),
			taskgroup.WithHooks(rec.hooks()))
		g.Go(ignoresCancellation(release))
		g.Stop()
		got := rec.reportedAfter(t, g, time.Second, release)
		require.Len(t, got, 1)
		require.Regexp(t, `^goroutine \d+ \[`, string(got[0].Stack))
		require.Contains(t, string(got[0].Stack), "ignoresCancellation")
	})
}

func TestStraggler_OB4_ReportCarriesTheStackOfALimitedGroupsWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		release := make(chan struct{})
		g := taskgroup.New(t.Context(), taskgroup.WithLimit(1), taskgroup.WithStragglerTimeout(time.Second),
			taskgroup.WithHooks(rec.hooks()))
		g.Go(func(context.Context) error { return nil })
		g.GoNamed("second", ignoresCancellation(release)) // on the same worker
		synctest.Wait()
		g.Stop()
		got := rec.reportedAfter(t, g, time.Second, release)
		require.Len(t, got, 1)
		require.Equal(t, "second", got[0].Name)
		require.Contains(t, string(got[0].Stack), "ignoresCancellation")
	})
}

func TestStraggler_OB4_ParentCancellationStartsTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		release := make(chan struct{})
		parent, cancel := context.WithCancelCause(t.Context())
		g := taskgroup.New(parent, taskgroup.WithStragglerTimeout(time.Second), taskgroup.WithHooks(rec.hooks()))
		g.Go(ignoresCancellation(release))
		time.Sleep(time.Minute)
		cancel(errA)
		got := rec.reportedAfter(t, g, time.Second, release)
		require.Len(t, got, 1)
		require.Equal(t, time.Second, got[0].SinceCancel)
		require.ErrorIs(t, got[0].Cause, errA)
	})
}

func TestStraggler_OB4_IsLoggedWithTheGroupTaskAndStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log lockedBuffer
		release := make(chan struct{})
		g := taskgroup.New(t.Context(), taskgroup.WithName("stuck"), taskgroup.WithStragglerTimeout(time.Second),
			taskgroup.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		g.GoNamed("legacy", ignoresCancellation(release))
		g.Stop()
		time.Sleep(time.Second)
		synctest.Wait()
		got := log.String()
		close(release)
		require.NoError(t, g.Wait())
		require.Contains(t, got, `level=WARN msg="taskgroup: task still running after the group was cancelled" `+
			`group=stuck task=legacy index=0 since_cancel=1s running=1s cause="taskgroup: group stopped" state="chan receive" stack="goroutine `)
		require.Contains(t, got, "ignoresCancellation")
		require.Equal(t, 1, strings.Count(got, "level=WARN"))
	})
}

func TestStraggler_OB4_NoReportOnceWaitHasReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		g := taskgroup.New(t.Context(), taskgroup.WithName("done"), taskgroup.WithStragglerTimeout(time.Second),
			taskgroup.WithHooks(rec.hooks()))
		g.Go(sleepThen(time.Second, nil))
		require.NoError(t, g.Wait()) // cancels the group's context as it returns
		time.Sleep(time.Hour)
		synctest.Wait()
		require.Empty(t, rec.reported())
		// The bubble ends only if no goroutine or timer of the group is left.
	})
}

func TestStraggler_OB4_NonPositiveTimeoutPanics(t *testing.T) {
	require.PanicsWithValue(t,
		"taskgroup: WithStragglerTimeout(0s): the timeout must be positive",
		func() { taskgroup.WithStragglerTimeout(0) })
}
