package taskgroup_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func statuses[T any](outcomes []taskgroup.Outcome[T]) []taskgroup.Status {
	s := make([]taskgroup.Status, len(outcomes))
	for i, o := range outcomes {
		s[i] = o.Status
	}
	return s
}

func TestMapOutcomes_RS1_EveryItemAccountedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outcomes, err := taskgroup.MapOutcomes(t.Context(), items(5), func(ctx context.Context, x int) (int, error) {
			switch x {
			case 1:
				<-ctx.Done()
				return 0, ctx.Err()
			case 2:
				time.Sleep(time.Second)
				return 0, errA
			}
			return x + 10, nil
		}, taskgroup.WithLimit(2))
		require.Equal(t, []taskgroup.Status{taskgroup.Succeeded, taskgroup.Cancelled, taskgroup.Failed,
			taskgroup.NotStarted, taskgroup.NotStarted}, statuses(outcomes))
		require.Equal(t, 10, outcomes[0].Value)
		require.NoError(t, outcomes[0].Err)
		require.ErrorIs(t, outcomes[1].Err, context.Canceled, "the echo fn returned")
		require.Equal(t, errA, outcomes[2].Err, "the item's own error, as listed in the group's error")
		for _, o := range outcomes[3:] {
			require.ErrorIs(t, o.Err, context.Canceled, "ALL3: the group's ctx.Err()")
			require.ErrorIs(t, o.Err, errA, "ALL3: and its cause, the failure")
		}
		var e *taskgroup.Error
		require.ErrorAs(t, err, &e)
		require.Len(t, e.Failures, 1)
		require.Equal(t, 3, e.Cancelled)
	})
}

func TestMapOutcomes_RS1_UnlimitedItemsEchoOrSucceed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		outcomes, err := taskgroup.MapOutcomes(ctx, items(3), func(ctx context.Context, x int) (int, error) {
			if x == 1 {
				<-ctx.Done()
				return 0, context.Cause(ctx)
			}
			time.Sleep(2 * time.Second) // ignores the deadline and finishes its work
			return x, nil
		})
		require.Equal(t, []taskgroup.Status{taskgroup.Succeeded, taskgroup.Cancelled, taskgroup.Succeeded}, statuses(outcomes))
		require.Equal(t, 2, outcomes[2].Value)
		require.ErrorIs(t, err, context.DeadlineExceeded, "TG4: the parent's cancellation, with an echo")
	})
}

func TestMapOutcomes_RS1_CancelledParentLeavesEveryItemNotStarted(t *testing.T) {
	errGone := errors.New("client went away")
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errGone)
	outcomes, err := taskgroup.MapOutcomes(ctx, items(3), double)
	require.Equal(t, []taskgroup.Status{taskgroup.NotStarted, taskgroup.NotStarted, taskgroup.NotStarted}, statuses(outcomes))
	for _, o := range outcomes {
		require.ErrorIs(t, o.Err, context.Canceled)
		require.ErrorIs(t, o.Err, errGone)
	}
	require.ErrorIs(t, err, errGone)
}

func TestMapOutcomes_RS1_PanicIsTheItemsFailure(t *testing.T) {
	outcomes, err := taskgroup.MapOutcomes(t.Context(), items(3), func(_ context.Context, x int) (int, error) {
		if x == 1 {
			panic("boom")
		}
		return x, nil
	}, taskgroup.CollectAll(), taskgroup.PanicsAsErrors())
	require.Error(t, err)
	require.Equal(t, []taskgroup.Status{taskgroup.Succeeded, taskgroup.Failed, taskgroup.Succeeded}, statuses(outcomes))
	var p *taskgroup.PanicError
	require.ErrorAs(t, outcomes[1].Err, &p)
	require.Equal(t, "boom", p.Value)
}

func TestMapOutcomes_RS1_PanicIsReraised(t *testing.T) {
	require.Panics(t, func() {
		_, _ = taskgroup.MapOutcomes(t.Context(), items(2), func(context.Context, int) (int, error) { panic("boom") })
	}, "TG5")
}

func TestMapOutcomes_RS1_GoexitIsTheItemsFailure(t *testing.T) {
	outcomes, _ := taskgroup.MapOutcomes(t.Context(), items(2), func(_ context.Context, x int) (int, error) {
		if x == 0 {
			runtime.Goexit()
		}
		return x, nil
	}, taskgroup.CollectAll(), taskgroup.WithLimit(1))
	require.Equal(t, []taskgroup.Status{taskgroup.Failed, taskgroup.Succeeded}, statuses(outcomes))
	require.Equal(t, taskgroup.ErrGoexit, outcomes[0].Err, "TG6")
}

func TestMapOutcomes_RS1_ClosedSemaphoreFailsEveryItem(t *testing.T) {
	s := semaphore.New(1)
	s.Close()
	outcomes, err := taskgroup.MapOutcomes(t.Context(), items(2), double, taskgroup.WithSemaphore(s), taskgroup.CollectAll())
	require.ErrorIs(t, err, semaphore.ErrClosed)
	for _, o := range outcomes {
		require.Equal(t, taskgroup.Failed, o.Status)
		require.ErrorIs(t, o.Err, semaphore.ErrClosed)
	}
}

func TestMapOutcomes_RS1_EmptyInput(t *testing.T) {
	outcomes, err := taskgroup.MapOutcomes(t.Context(), nil, double)
	require.NoError(t, err)
	require.Empty(t, outcomes)
}

func TestMapOutcomes_TG10_NilFunctionPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: MapOutcomes called with a nil function", func() {
		_, _ = taskgroup.MapOutcomes[int, int](t.Context(), nil, nil)
	})
}

func TestStatus_RS1_String(t *testing.T) {
	require.Equal(t, "not started", taskgroup.NotStarted.String())
	require.Equal(t, "succeeded", taskgroup.Succeeded.String())
	require.Equal(t, "failed", taskgroup.Failed.String())
	require.Equal(t, "cancelled", taskgroup.Cancelled.String())
	require.Equal(t, "Status(17)", taskgroup.Status(17).String())
}
