package semaphore_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leash-go/leash/semaphore"
)

// These tests run real goroutines (asserting with assert, not require, off
// the test's goroutine), outside synctest, so that the scheduler
// and the race detector (go test -race) see the interleavings.

// waitForWaiters yields until n Acquire calls are queued on s.
func waitForWaiters(s *semaphore.Semaphore, n int) {
	for s.Stats().Waiters < n {
		runtime.Gosched()
	}
}

func TestAcquire_SEM2_GrantCancelRaceLosesNoPermit(t *testing.T) {
	for range 1000 {
		s := semaphore.New(1)
		require.True(t, s.TryAcquire(1))
		ctx, cancel := context.WithCancel(context.Background())
		first := acquire(ctx, s, 1)
		waitForWaiters(s, 1)
		second := acquire(context.Background(), s, 1)
		waitForWaiters(s, 2)

		var wg sync.WaitGroup
		wg.Go(func() { s.Release(1) }) // grant to first...
		wg.Go(cancel)                  // ...while it is cancelled
		wg.Wait()

		if err := <-first; err == nil {
			// Granted before the cancellation: it holds the permit.
			require.Equal(t, stats(1, 1, 1), s.Stats())
			s.Release(1)
		} else {
			// Cancelled first: the permit went on to second.
			require.ErrorIs(t, err, context.Canceled)
		}
		require.NoError(t, <-second)
		require.Equal(t, stats(1, 1, 0), s.Stats())
		s.Release(1)
		require.True(t, s.TryAcquire(1), "no permit lost")
	}
}

func TestSemaphore_SEM2_ConcurrentUseAccountsForEveryPermit(t *testing.T) {
	const capacity, workers, rounds = 4, 8, 300
	s := semaphore.New(capacity)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range rounds {
				w := int64(1 + (g+i)%capacity)
				ctx, cancel := context.WithCancel(context.Background())
				if i%3 == 0 {
					go cancel() // races the grant
				}
				var err error
				if i%5 == 0 {
					if !s.TryAcquire(w) {
						err = context.Canceled
					}
				} else {
					err = s.Acquire(ctx, w)
				}
				cancel()
				if err != nil {
					assert.ErrorIs(t, err, context.Canceled)
					continue
				}
				st := s.Stats()
				assert.LessOrEqual(t, st.InUse, int64(capacity))
				assert.GreaterOrEqual(t, st.InUse, w)
				s.Release(w)
			}
		})
	}
	wg.Wait()
	require.Equal(t, stats(capacity, 0, 0), s.Stats())
	require.True(t, s.TryAcquire(capacity), "no permit lost")
}

func TestSemaphore_SEM4_SEM5_ResizeAndCloseRaceWithWaiters(t *testing.T) {
	for range 200 {
		s := semaphore.New(2)
		var wg sync.WaitGroup
		for w := range int64(4) {
			wg.Go(func() {
				if err := s.Acquire(context.Background(), w); err == nil {
					s.Release(w)
				} else if err != semaphore.ErrClosed {
					assert.ErrorIs(t, err, semaphore.ErrTooLarge)
				}
			})
		}
		wg.Go(func() { s.Resize(3) })
		wg.Go(func() { s.Resize(1) })
		wg.Go(s.Close)
		wg.Wait()
		require.Equal(t, int64(0), s.Stats().InUse)
		require.Equal(t, 0, s.Stats().Waiters)
	}
}
