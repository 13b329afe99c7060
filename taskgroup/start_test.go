package taskgroup_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func TestStart_SV4_ReturnsTheReadyValueAndTheTaskRunsOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		stopped := false
		addr, err := taskgroup.Start(g, "listener", func(ctx context.Context, ready func(string)) error {
			time.Sleep(time.Second) // binding takes a while
			ready("127.0.0.1:8080")
			<-ctx.Done()
			stopped = true
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:8080", addr)
		synctest.Wait()
		require.False(t, stopped, "the task keeps running after ready")
		g.Stop()
		require.NoError(t, g.Wait())
		require.True(t, stopped)
	})
}

func TestStart_SV4_ServicesStartInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		var order []string
		for _, name := range []string{"db", "cache", "http"} {
			_, err := taskgroup.Start(g, name, func(ctx context.Context, ready func(struct{})) error {
				time.Sleep(time.Duration(len(name)) * time.Second) // later services are quicker to start
				order = append(order, name)
				ready(struct{}{})
				<-ctx.Done()
				return nil
			})
			require.NoError(t, err)
		}
		require.Equal(t, []string{"db", "cache", "http"}, order)
		g.Stop()
		require.NoError(t, g.Wait())
	})
}

func TestStart_SV4_ReturnsTheErrorOfATaskThatFailsBeforeReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		_, err := taskgroup.Start(g, "listener", func(ctx context.Context, ready func(int)) error {
			return errA
		})
		require.Same(t, errA, err, "the task's own error")
		require.ErrorIs(t, g.Wait(), errA, "and a failure of the group")
	})
}

func TestStart_SV4_ReturnsThePanicOfATaskThatPanicsBeforeReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors(), taskgroup.WithLogger(discard))
		_, err := taskgroup.Start(g, "listener", func(ctx context.Context, ready func(int)) error {
			panic("bind failed")
		})
		var pe *taskgroup.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "bind failed", pe.Value)
		require.Error(t, g.Wait())
	})
}

func TestStart_SV4_ReturnsErrGoexitForATaskThatGoexitsBeforeReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithLogger(discard))
		_, err := taskgroup.Start(g, "listener", func(ctx context.Context, ready func(int)) error {
			runtimeGoexit()
			return nil
		})
		require.ErrorIs(t, err, taskgroup.ErrGoexit)
		require.ErrorIs(t, g.Wait(), taskgroup.ErrGoexit)
	})
}

func TestStart_SV4_ReturnsTheGroupsCauseWhenTheGroupIsDoneFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Go(func(context.Context) error {
			time.Sleep(time.Second)
			return errA
		})
		_, err := taskgroup.Start(g, "slow", func(ctx context.Context, ready func(int)) error {
			time.Sleep(time.Hour) // ignores its context for an hour
			return nil
		})
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, errA, "the cause says which task failed")
		require.ErrorIs(t, g.Wait(), errA)
	})
}

func TestStart_SV4_ReadyTwiceIsHarmless(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		v, err := taskgroup.Start(g, "twice", func(ctx context.Context, ready func(int)) error {
			ready(1)
			ready(2)
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, 1, v, "the first value counts")
		require.NoError(t, g.Wait(), "returning nil after ready is a success")
	})
}

func TestStart_SV4_ReturningNilWithoutReadyIsErrNotReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		_, err := taskgroup.Start(g, "never", func(ctx context.Context, ready func(int)) error {
			return nil
		})
		require.ErrorIs(t, err, taskgroup.ErrNotReady)
		require.ErrorIs(t, g.Wait(), taskgroup.ErrNotReady, "a real failure of the group")
	})
}

func TestStart_SV4_ReturningNilWithoutReadyAfterCancellationIsAnEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		go func() {
			time.Sleep(time.Second)
			g.Stop()
		}()
		_, err := taskgroup.Start(g, "stopped", func(ctx context.Context, ready func(int)) error {
			<-ctx.Done()
			return nil
		})
		require.ErrorIs(t, err, taskgroup.ErrStopped)
		require.NoError(t, g.Wait(), "a stop during start is no failure")
	})
}

func TestStart_SV4_OnADoneGroupDoesNotRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		g.Stop()
		ran := false
		_, err := taskgroup.Start(g, "late", func(ctx context.Context, ready func(int)) error {
			ran = true
			return nil
		})
		require.ErrorIs(t, err, taskgroup.ErrStopped)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, ran)
		require.NoError(t, g.Wait())
	})
}

func TestStart_SV4_NilFunctionPanics(t *testing.T) {
	g := taskgroup.New(t.Context())
	require.PanicsWithValue(t, "taskgroup: Start called with a nil function", func() {
		taskgroup.Start[int](g, "nil", nil)
	})
	require.NoError(t, g.Wait())
}

// discard is a logger for tests whose tasks panic on purpose: TG14 logs
// every panic, and the test output need not show it.
var discard = slog.New(slog.DiscardHandler)
