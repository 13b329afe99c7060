package semaphore_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leash-go/leash/semaphore"
)

// acquire starts s.Acquire(ctx, w) in its own goroutine; the call's error
// arrives on the returned channel. s is a *semaphore.Semaphore, or in the
// differential test an *xsync.Weighted.
func acquire(ctx context.Context, s interface {
	Acquire(context.Context, int64) error
}, w int64) <-chan error {
	res := make(chan error, 1)
	go func() { res <- s.Acquire(ctx, w) }()
	return res
}

// arrive starts s.Acquire(ctx, w) like acquire, and returns once the call
// has blocked or returned, so that calls queue in the order they are made.
// Call it inside a synctest bubble.
func arrive(ctx context.Context, s *semaphore.Semaphore, w int64) <-chan error {
	res := acquire(ctx, s, w)
	synctest.Wait()
	return res
}

// returned reports whether the Acquire behind res has returned, and its error.
func returned(res <-chan error) (err error, ok bool) {
	select {
	case err = <-res:
		return err, true
	default:
		return nil, false
	}
}

// requireWaiting checks that the Acquire behind res still blocks.
func requireWaiting(t *testing.T, res <-chan error) {
	t.Helper()
	err, ok := returned(res)
	require.False(t, ok, "Acquire returned %v; want it still waiting", err)
}

// requireGranted checks that the Acquire behind res returned nil.
func requireGranted(t *testing.T, res <-chan error) {
	t.Helper()
	err, ok := returned(res)
	require.True(t, ok, "Acquire still waits; want it granted")
	require.NoError(t, err)
}

// requireFailed checks that the Acquire behind res returned an error matching target.
func requireFailed(t *testing.T, res <-chan error, target error) {
	t.Helper()
	err, ok := returned(res)
	require.True(t, ok, "Acquire still waits; want it failed with %v", target)
	require.ErrorIs(t, err, target)
}

func stats(capacity, inUse int64, waiters int) semaphore.Stats {
	return semaphore.Stats{Capacity: capacity, InUse: inUse, Waiters: waiters}
}

// --- SEM1 FIFO, no barging ---

func TestAcquire_SEM1_GrantsInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		var waiters []<-chan error
		for range 3 {
			waiters = append(waiters, arrive(t.Context(), s, 1))
		}
		for i, res := range waiters {
			s.Release(1)
			synctest.Wait()
			requireGranted(t, res)
			for _, later := range waiters[i+1:] {
				requireWaiting(t, later)
			}
		}
		s.Release(1)
		require.Equal(t, stats(1, 0, 0), s.Stats())
	})
}

func TestAcquire_SEM1_HeadThatDoesNotFitBlocksThoseBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(4)
		require.True(t, s.TryAcquire(2))
		heavy := arrive(t.Context(), s, 4)
		light := arrive(t.Context(), s, 1)
		requireWaiting(t, heavy)
		requireWaiting(t, light) // 2 permits are free, but the head comes first
		require.Equal(t, stats(4, 2, 2), s.Stats())

		s.Release(2)
		synctest.Wait()
		requireGranted(t, heavy)
		requireWaiting(t, light)

		s.Release(4)
		synctest.Wait()
		requireGranted(t, light)
		s.Release(1)
	})
}

func TestAcquire_SEM1_LargeRequestIsNotStarvedByLightOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(2)
		require.True(t, s.TryAcquire(1))
		heavy := arrive(t.Context(), s, 2)
		// Light requests keep coming while one permit is always held; each
		// queues behind the heavy one instead of taking the free permit.
		light := arrive(t.Context(), s, 1)
		requireWaiting(t, light)
		s.Release(1)
		synctest.Wait()
		requireGranted(t, heavy)
		requireWaiting(t, light)
		s.Release(2)
		synctest.Wait()
		requireGranted(t, light)
		s.Release(1)
	})
}

func TestTryAcquire_SEM1_FailsWhileAnyoneWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(4)
		require.True(t, s.TryAcquire(3))
		res := arrive(t.Context(), s, 2)
		require.False(t, s.TryAcquire(1), "1 permit is free, but a waiter is first in line")
		s.Release(3)
		synctest.Wait()
		requireGranted(t, res)
		require.True(t, s.TryAcquire(1))
		s.Release(3)
	})
}

func TestAcquire_SEM1_FastPathDoesNotBargePastWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(4)
		require.True(t, s.TryAcquire(3))
		first := arrive(t.Context(), s, 2)
		second := arrive(t.Context(), s, 1) // 1 free, but first is waiting
		requireWaiting(t, second)
		s.Release(3)
		synctest.Wait()
		requireGranted(t, first)
		requireGranted(t, second)
		s.Release(3)
	})
}

// --- SEM2 never lose a permit ---

func TestAcquire_SEM2_DoneContextFailsEvenWithFreePermits(t *testing.T) {
	s := semaphore.New(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.Acquire(ctx, 1), context.Canceled)
	require.Equal(t, stats(1, 0, 0), s.Stats())
}

func TestAcquire_SEM2_ErrorMatchesErrAndCause(t *testing.T) {
	s := semaphore.New(1)
	why := errors.New("client went away")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(why)
	err := s.Acquire(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, why)
}

func TestAcquire_SEM2_WaiterCancelledFailsWithCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		why := errors.New("shutting down")
		ctx, cancel := context.WithCancelCause(t.Context())
		res := arrive(ctx, s, 1)
		cancel(why)
		synctest.Wait()
		requireFailed(t, res, context.Canceled)
		require.Equal(t, stats(1, 1, 0), s.Stats())
		s.Release(1)
	})
}

func TestAcquire_SEM2_DeadlineFailsWithDeadlineExceededAndCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		why := errors.New("slow backend")
		ctx, cancel := context.WithTimeoutCause(t.Context(), time.Second, why)
		defer cancel()
		start := time.Now()
		err := s.Acquire(ctx, 1) // the bubble's fake clock fires the deadline (ALL1)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, why)
		require.Equal(t, time.Second, time.Since(start))
		require.Equal(t, stats(1, 1, 0), s.Stats())
	})
}

func TestAcquire_SEM2_HeadLeavingWakesThoseBehindThatFit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(4)
		require.True(t, s.TryAcquire(2))
		ctx, cancel := context.WithCancel(t.Context())
		heavy := arrive(ctx, s, 4)
		one := arrive(t.Context(), s, 1)
		two := arrive(t.Context(), s, 2)

		cancel()
		synctest.Wait()
		requireFailed(t, heavy, context.Canceled)
		requireGranted(t, one) // 2 free: 1 fits
		requireWaiting(t, two) // 1 left: 2 does not
		require.Equal(t, stats(4, 3, 1), s.Stats())
		s.Release(3)
		synctest.Wait()
		requireGranted(t, two)
		s.Release(2)
	})
}

func TestAcquire_SEM2_MiddleLeavingKeepsTheOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		first := arrive(t.Context(), s, 1)
		ctx, cancel := context.WithCancel(t.Context())
		middle := arrive(ctx, s, 1)
		last := arrive(t.Context(), s, 1)

		cancel()
		synctest.Wait()
		requireFailed(t, middle, context.Canceled)
		requireWaiting(t, first)
		requireWaiting(t, last)
		s.Release(1)
		synctest.Wait()
		requireGranted(t, first)
		requireWaiting(t, last)
		s.Release(1)
		synctest.Wait()
		requireGranted(t, last)
		s.Release(1)
	})
}

func TestRelease_SEM2_SkipsHeadWhoseContextIsAlreadyDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		ctx, cancel := context.WithCancel(t.Context())
		doomed := arrive(ctx, s, 1)
		next := arrive(t.Context(), s, 1)

		// Cancel and release before the doomed waiter has had a chance to
		// run: its context was done before the grant, so the permit goes on.
		cancel()
		s.Release(1)
		synctest.Wait()
		requireFailed(t, doomed, context.Canceled)
		requireGranted(t, next)
		require.Equal(t, stats(1, 1, 0), s.Stats())
		s.Release(1)
	})
}

// --- SEM3 bad input is a clear error or panic, never a hang ---

func TestAcquire_SEM3_TooLargeFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(2)
		require.ErrorIs(t, s.Acquire(t.Context(), 3), semaphore.ErrTooLarge)
		require.Equal(t, stats(2, 0, 0), s.Stats())
	})
}

func TestAcquire_SEM3_TooLargeFailsAtOnceWhileOthersWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(2)
		require.True(t, s.TryAcquire(2))
		res := arrive(t.Context(), s, 1)
		require.ErrorIs(t, s.Acquire(t.Context(), 3), semaphore.ErrTooLarge)
		require.Equal(t, stats(2, 2, 1), s.Stats())
		s.Release(2)
		synctest.Wait()
		requireGranted(t, res)
		s.Release(1)
	})
}

func TestTryAcquire_SEM3_TooLargeIsFalse(t *testing.T) {
	s := semaphore.New(2)
	require.False(t, s.TryAcquire(3))
	require.Equal(t, stats(2, 0, 0), s.Stats())
}

func TestAcquire_SEM3_NegativeWeightPanics(t *testing.T) {
	s := semaphore.New(2)
	require.PanicsWithValue(t, "semaphore: Acquire with negative weight", func() {
		_ = s.Acquire(context.Background(), -1)
	})
}

func TestTryAcquire_SEM3_NegativeWeightPanics(t *testing.T) {
	s := semaphore.New(2)
	require.PanicsWithValue(t, "semaphore: TryAcquire with negative weight", func() { s.TryAcquire(-1) })
}

func TestRelease_SEM3_NegativeWeightPanics(t *testing.T) {
	s := semaphore.New(2)
	require.True(t, s.TryAcquire(1))
	require.PanicsWithValue(t, "semaphore: Release with negative weight", func() { s.Release(-1) })
	require.Equal(t, stats(2, 1, 0), s.Stats())
}

func TestRelease_SEM3_MoreThanHeldPanicsAndChangesNothing(t *testing.T) {
	s := semaphore.New(4)
	require.True(t, s.TryAcquire(2))
	require.PanicsWithValue(t, "semaphore: released more than held", func() { s.Release(3) })
	require.Equal(t, stats(4, 2, 0), s.Stats())
	s.Release(2)
	require.True(t, s.TryAcquire(4), "no permit lost to the bad Release")
}

func TestRelease_SEM3_MoreThanHeldPanicsWhileOthersWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(2)
		require.True(t, s.TryAcquire(2))
		res := arrive(t.Context(), s, 1)
		require.PanicsWithValue(t, "semaphore: released more than held", func() { s.Release(3) })
		require.Equal(t, stats(2, 2, 1), s.Stats())
		s.Release(2)
		synctest.Wait()
		requireGranted(t, res)
		s.Release(1)
	})
}

func TestRelease_SEM3_WithNothingHeldPanics(t *testing.T) {
	s := semaphore.New(2)
	require.PanicsWithValue(t, "semaphore: released more than held", func() { s.Release(1) })
	require.Equal(t, stats(2, 0, 0), s.Stats())
}

func TestNew_SEM3_NegativeCapacityPanics(t *testing.T) {
	require.PanicsWithValue(t, "semaphore: New with negative capacity", func() { semaphore.New(-1) })
}

func TestResize_SEM3_NegativeCapacityPanics(t *testing.T) {
	s := semaphore.New(2)
	require.PanicsWithValue(t, "semaphore: Resize to negative capacity", func() { s.Resize(-1) })
	require.Equal(t, stats(2, 0, 0), s.Stats())
}

func TestAcquire_SEM3_ZeroWeightReturnsAtOnceWhileOthersWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		res := arrive(t.Context(), s, 1)
		require.NoError(t, s.Acquire(t.Context(), 0))
		require.Equal(t, stats(1, 1, 1), s.Stats())
		s.Release(1)
		synctest.Wait()
		requireGranted(t, res)
		s.Release(1)
	})
}

func TestAcquire_SEM3_ZeroWeightWithDoneContextFails(t *testing.T) {
	s := semaphore.New(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.Acquire(ctx, 0), context.Canceled)
}

func TestTryAcquire_SEM3_ZeroWeightSucceedsWhileOthersWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		res := arrive(t.Context(), s, 1)
		require.True(t, s.TryAcquire(0), "taking nothing passes no one")
		s.Release(1)
		synctest.Wait()
		requireGranted(t, res)
		s.Release(1)
	})
}

func TestRelease_SEM3_ZeroWeightIsANoOp(t *testing.T) {
	s := semaphore.New(1)
	s.Release(0)
	require.Equal(t, stats(1, 0, 0), s.Stats())
}

// --- SEM4 Resize ---

func TestResize_SEM4_GrowingGrantsWaitersThatFitInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(3)
		require.True(t, s.TryAcquire(3))
		two := arrive(t.Context(), s, 2)
		one := arrive(t.Context(), s, 1)
		three := arrive(t.Context(), s, 3)
		last := arrive(t.Context(), s, 1)

		s.Resize(6) // 3 more: two and one fit, three does not and blocks last
		synctest.Wait()
		requireGranted(t, two)
		requireGranted(t, one)
		requireWaiting(t, three)
		requireWaiting(t, last)
		require.Equal(t, stats(6, 6, 2), s.Stats())

		s.Resize(9)
		synctest.Wait()
		requireGranted(t, three)
		requireWaiting(t, last)
		s.Release(3 + 2 + 1)
		synctest.Wait()
		requireGranted(t, last)
		s.Release(3 + 1)
	})
}

func TestResize_SEM4_ShrinkingRevokesNothing(t *testing.T) {
	s := semaphore.New(4)
	require.True(t, s.TryAcquire(4))
	s.Resize(2)
	require.Equal(t, stats(2, 4, 0), s.Stats())
	s.Release(4)
	require.Equal(t, stats(2, 0, 0), s.Stats())
}

func TestResize_SEM4_NoGrantWhileOverCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(4)
		require.True(t, s.TryAcquire(4))
		s.Resize(2)
		require.False(t, s.TryAcquire(1))
		res := arrive(t.Context(), s, 1)
		s.Release(2) // 2 in use, capacity 2: still full
		synctest.Wait()
		requireWaiting(t, res)
		s.Release(1)
		synctest.Wait()
		requireGranted(t, res)
		require.Equal(t, stats(2, 2, 0), s.Stats())
		s.Release(2)
	})
}

// TestResize_SEM4_Shrink queues heavy and then light behind held of 4
// permits, and shrinks the capacity below heavy's request: heavy fails at
// once, and light keeps its place in line.
func TestResize_SEM4_Shrink(t *testing.T) {
	tests := []struct {
		name                   string
		held, heavy, light, to int64
		lightFits              bool            // light is granted by the shrink itself
		want                   semaphore.Stats // after the shrink
	}{
		{name: "FailsWaitersHeavierThanNewCapacity", held: 4, heavy: 3, light: 2, to: 2, want: stats(2, 4, 1)},
		{name: "ThatFailsTheHeadGrantsThoseBehind", held: 1, heavy: 4, light: 1, to: 3, lightFits: true, want: stats(3, 2, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := semaphore.New(4)
				require.True(t, s.TryAcquire(tt.held))
				heavy := arrive(t.Context(), s, tt.heavy)
				light := arrive(t.Context(), s, tt.light)

				s.Resize(tt.to)
				synctest.Wait()
				requireFailed(t, heavy, semaphore.ErrTooLarge)
				require.Equal(t, tt.want, s.Stats())
				if !tt.lightFits {
					requireWaiting(t, light)
					s.Release(tt.held)
					synctest.Wait()
				}
				requireGranted(t, light)
				s.Release(s.Stats().InUse)
			})
		})
	}
}

// --- SEM5 Close ---

func TestClose_SEM5_EveryWaiterReturnsErrClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		a := acquire(t.Context(), s, 1)
		b := acquire(t.Context(), s, 1)
		synctest.Wait()
		s.Close()
		synctest.Wait()
		requireFailed(t, a, semaphore.ErrClosed)
		requireFailed(t, b, semaphore.ErrClosed)
		require.Equal(t, stats(1, 1, 0), s.Stats())
	})
}

func TestClose_SEM5_LaterAcquireReturnsErrClosed(t *testing.T) {
	s := semaphore.New(2)
	s.Close()
	require.ErrorIs(t, s.Acquire(context.Background(), 1), semaphore.ErrClosed)
	require.ErrorIs(t, s.Acquire(context.Background(), 0), semaphore.ErrClosed)
	require.ErrorIs(t, s.Acquire(context.Background(), 3), semaphore.ErrClosed)
}

func TestClose_SEM5_LaterTryAcquireFails(t *testing.T) {
	s := semaphore.New(2)
	s.Close()
	require.False(t, s.TryAcquire(1))
	require.False(t, s.TryAcquire(0))
}

func TestClose_SEM5_ReleaseStillWorks(t *testing.T) {
	s := semaphore.New(2)
	require.True(t, s.TryAcquire(2))
	s.Close()
	s.Release(1)
	s.Release(1)
	require.Equal(t, stats(2, 0, 0), s.Stats())
	require.PanicsWithValue(t, "semaphore: released more than held", func() { s.Release(1) })
}

func TestClose_SEM5_IsIdempotent(t *testing.T) {
	s := semaphore.New(2)
	s.Close()
	s.Close()
	require.False(t, s.TryAcquire(1))
	require.Equal(t, stats(2, 0, 0), s.Stats())
}

// --- ALL1, ALL2 ---

func TestAcquire_ALL1_BlockedAcquireIsDurablyBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		res := acquire(t.Context(), s, 1)
		synctest.Wait() // returns only if the waiter is durably blocked
		require.Equal(t, stats(1, 1, 1), s.Stats())
		s.Release(1)
		synctest.Wait()
		requireGranted(t, res)
		s.Release(1)
	})
}

func TestAcquire_ALL2_BlockedAcquireReusesItsWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := semaphore.New(1)
		ctx := t.Context()
		turn, back := make(chan struct{}), make(chan error)
		go func() {
			for range turn {
				back <- s.Acquire(ctx, 1)
			}
		}()
		cycle := func() {
			require.True(t, s.TryAcquire(1))
			turn <- struct{}{}
			synctest.Wait() // the partner now waits in Acquire
			s.Release(1)    // and is granted
			require.NoError(t, <-back)
			s.Release(1)
		}
		cycle() // the first waiter is made here
		allocs := testing.AllocsPerRun(100, cycle)
		close(turn)
		require.Zero(t, allocs)
	})
}

func TestSemaphore_ZeroValueHasCapacityZero(t *testing.T) {
	var s semaphore.Semaphore
	require.Equal(t, stats(0, 0, 0), s.Stats())
	require.ErrorIs(t, s.Acquire(context.Background(), 1), semaphore.ErrTooLarge)
	s.Resize(1)
	require.True(t, s.TryAcquire(1))
	s.Release(1)
}

func TestAcquire_ALL4_NilContextPanicsWithAMessage(t *testing.T) {
	s := semaphore.New(1)
	const msg = "semaphore: Acquire called with a nil context; pass context.Background() or the caller's context"
	//lint:ignore SA1012 the nil context is what this test is about
	require.PanicsWithValue(t, msg, func() { _ = s.Acquire(nil, 1) })
	require.Equal(t, semaphore.Stats{Capacity: 1}, s.Stats(), "nothing taken")
}
