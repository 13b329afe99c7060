package taskgroup_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// slowRecorder keeps the slow-task reports a hook sees.
type slowRecorder struct {
	mu   sync.Mutex
	seen []taskgroup.SlowTask
}

func (r *slowRecorder) hooks() taskgroup.Hooks {
	return taskgroup.Hooks{OnSlow: func(s taskgroup.SlowTask) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.seen = append(r.seen, s)
	}}
}

func (r *slowRecorder) reports() []taskgroup.SlowTask {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]taskgroup.SlowTask(nil), r.seen...)
}

func TestSlowTask_OB7_ReportedOnceBeforeAnythingIsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec slowRecorder
		g := taskgroup.New(t.Context(), taskgroup.WithName("loop"), taskgroup.WithSlowTask(time.Second), taskgroup.WithHooks(rec.hooks()))
		release := make(chan struct{})
		g.GoNamed("blocking-call", func(context.Context) error { <-release; return nil })
		g.GoNamed("quick", func(context.Context) error { return nil })
		time.Sleep(5 * time.Second)
		synctest.Wait()
		got := rec.reports()
		require.Len(t, got, 1, "once, and only the slow task")
		s := got[0]
		require.Equal(t, "loop", s.Group)
		require.Equal(t, "blocking-call", s.Name)
		require.Equal(t, time.Second, s.Running)
		require.Equal(t, "chan receive", s.State)
		require.Contains(t, string(s.Stack), "TestSlowTask_OB7_ReportedOnceBeforeAnythingIsCancelled")
		require.NoError(t, g.Context().Err(), "nothing was cancelled")
		close(release)
		require.NoError(t, g.Wait())
	})
}

func TestSlowTask_OB7_StateSaysWhatTheGoroutineWaitsOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec slowRecorder
		g := taskgroup.New(t.Context(), taskgroup.WithSlowTask(time.Second), taskgroup.WithHooks(rec.hooks()))
		release := make(chan struct{})
		g.GoNamed("select", func(ctx context.Context) error {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})
		g.GoNamed("sleep", func(context.Context) error { time.Sleep(time.Hour); return nil })
		g.GoNamed("waitgroup", func(context.Context) error {
			var wg sync.WaitGroup
			wg.Go(func() { <-release })
			wg.Wait()
			return nil
		})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		states := map[string]string{}
		for _, s := range rec.reports() {
			states[s.Name] = s.State
		}
		require.Equal(t, map[string]string{"select": "select", "sleep": "sleep", "waitgroup": "sync.WaitGroup.Wait"}, states)
		close(release)
		require.NoError(t, g.Wait())
	})
}

func TestSlowTask_OB7_NotReportedForATaskThatEndsInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec slowRecorder
		g := taskgroup.New(t.Context(), taskgroup.WithSlowTask(time.Second), taskgroup.WithHooks(rec.hooks()))
		g.Go(func(context.Context) error { time.Sleep(999 * time.Millisecond); return nil })
		require.NoError(t, g.Wait())
		time.Sleep(time.Minute)
		require.Empty(t, rec.reports())
	})
}

func TestSlowTask_OB7_IsLoggedWithoutAHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log lockedBuffer
		g := taskgroup.New(t.Context(), taskgroup.WithSlowTask(time.Second),
			taskgroup.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		release := make(chan struct{})
		g.GoNamed("stuck", func(context.Context) error { <-release; return nil })
		time.Sleep(2 * time.Second)
		synctest.Wait()
		require.Contains(t, log.String(), `level=WARN msg="taskgroup: task is slow" task=stuck index=0 running=1s state="chan receive" stack="goroutine `)
		close(release)
		require.NoError(t, g.Wait())
	})
}

func TestSlowTask_OB7_APanickingHookFailsTheTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.WithSlowTask(time.Second),
			taskgroup.WithHooks(taskgroup.Hooks{OnSlow: func(taskgroup.SlowTask) { panic("hook") }}))
		g.GoNamed("slow", func(ctx context.Context) error { <-ctx.Done(); return nil })
		var te *taskgroup.Error
		require.ErrorAs(t, g.Wait(), &te, "the hook's panic failed the task, which cancelled the group")
		require.Equal(t, "slow", te.Failures[0].Name)
	})
}

func TestSlowTask_OB7_NonPositiveThresholdPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: WithSlowTask(0s): the threshold must be positive", func() { taskgroup.WithSlowTask(0) })
}
