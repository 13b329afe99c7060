package timeout_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/timeout"
	"github.com/stretchr/testify/require"
)

// stuck is a legacy call that takes a minute and cannot be cancelled.
func stuck() (int, error) {
	time.Sleep(time.Minute)
	return 1, nil
}

func TestCall_SV6_AbandonedGoroutineKeepsItsPermitUntilItReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(1)
		_, err := timeout.Call(t.Context(), time.Second, stuck, timeout.WithLimiter(sem))
		require.ErrorIs(t, err, timeout.ErrAbandoned)
		require.Equal(t, int64(1), sem.Stats().InUse, "the abandoned call still holds its permit")

		ran := false
		_, err = timeout.Call(t.Context(), time.Second, func() (int, error) { ran = true; return 2, nil }, timeout.WithLimiter(sem))
		require.ErrorIs(t, err, timeout.ErrTimeout, "no permit within its own second")
		require.NotErrorIs(t, err, timeout.ErrAbandoned, "nothing was started, so nothing was abandoned")
		require.False(t, ran, "the second call never started")

		time.Sleep(time.Minute) // the stuck call returns at last
		require.Equal(t, int64(0), sem.Stats().InUse, "and its permit comes back")
		v, err := timeout.Call(t.Context(), time.Second, func() (int, error) { return 3, nil }, timeout.WithLimiter(sem))
		require.NoError(t, err)
		require.Equal(t, 3, v)
	})
}

func TestWaitFor_SV6_GraceAbandonedGoroutineKeepsItsPermit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(1)
		err := timeout.WaitFor(t.Context(), time.Second, func(context.Context) error {
			_, err := stuck()
			return err
		}, timeout.Grace(time.Second), timeout.WithLimiter(sem))
		require.ErrorIs(t, err, timeout.ErrAbandoned)
		require.Equal(t, int64(1), sem.Stats().InUse)
		time.Sleep(time.Minute)
		require.Equal(t, int64(0), sem.Stats().InUse)
	})
}

func TestWaitFor_SV6_HoldsThePermitWhileFnRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(1)
		err := timeout.WaitFor(t.Context(), time.Second, func(context.Context) error {
			require.Equal(t, int64(1), sem.Stats().InUse)
			return nil
		}, timeout.WithLimiter(sem))
		require.NoError(t, err)
		require.Equal(t, int64(0), sem.Stats().InUse)
	})
}

func TestCall_SV6_CancelledWhileWaitingForAPermitReturnsTheCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sem := semaphore.New(1)
		require.NoError(t, sem.Acquire(t.Context(), 1)) // held elsewhere
		ctx, cancel := context.WithCancelCause(t.Context())
		go func() {
			time.Sleep(time.Millisecond)
			cancel(errBoom)
		}()
		_, err := timeout.Call(ctx, time.Second, stuck, timeout.WithLimiter(semaphore.New(1)), timeout.WithLimiter(sem)) // the later option wins
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, errBoom)
		require.NotErrorIs(t, err, timeout.ErrTimeout)
	})
}

func TestWithLimiter_SV6_NilPanics(t *testing.T) {
	require.PanicsWithValue(t, "timeout: WithLimiter(nil): pass a semaphore.Limiter, such as a *semaphore.Semaphore",
		func() { timeout.WithLimiter(nil) })
}
