package taskgroup_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

var errLeaseLost = errors.New("lease lost")

// leasedSemaphore is a semaphore.Leased for tests: an in-process semaphore
// whose lease the test ends with lose.
type leasedSemaphore struct {
	*semaphore.Semaphore
	mu     sync.Mutex
	lease  context.Context
	cancel context.CancelCauseFunc
}

func newLeased(n int64) *leasedSemaphore {
	l := &leasedSemaphore{Semaphore: semaphore.New(n)}
	l.lease, l.cancel = context.WithCancelCause(context.Background())
	return l
}

func (l *leasedSemaphore) Lease() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lease
}

// lose ends the current lease and starts a new one.
func (l *leasedSemaphore) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cancel(errLeaseLost)
	l.lease, l.cancel = context.WithCancelCause(context.Background())
}

func TestWithLimiter_LIM1_BoundsTheGroupByAnyLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lim semaphore.Limiter = semaphore.New(2)
		g := taskgroup.New(t.Context(), taskgroup.WithLimiter(lim))
		release := make(chan struct{})
		var mu sync.Mutex
		running, most := 0, 0
		go func() {
			for range 10 {
				g.Go(func(context.Context) error {
					mu.Lock()
					running++
					most = max(most, running)
					mu.Unlock()
					<-release
					mu.Lock()
					running--
					mu.Unlock()
					return nil
				})
			}
		}()
		synctest.Wait()
		require.Equal(t, 2, most)
		close(release)
		synctest.Wait()
		require.NoError(t, g.Wait())
		require.Equal(t, 2, most)
	})
}

func TestWithLimiter_LIM1_LostLeaseCancelsTheTasksHoldingItWithItsCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLeased(4)
		g := taskgroup.New(t.Context(), taskgroup.WithLimiter(l))
		g.GoNamed("holder", func(ctx context.Context) error {
			<-ctx.Done()
			return context.Cause(ctx)
		})
		synctest.Wait()
		l.lose()
		err := g.Wait()
		require.ErrorIs(t, err, errLeaseLost, "a real failure that says why")
		var te *taskgroup.Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, "holder", te.Failures[0].Name)
		require.Equal(t, semaphore.Stats{Capacity: 4}, l.Stats(), "its permit came back")
	})
}

func TestWithLimiter_LIM1_TasksGrantedUnderANewLeaseRunOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLeased(1)
		l.lose() // an old lease, lost before the group began
		g := taskgroup.New(t.Context(), taskgroup.WithLimiter(l))
		done := make(chan struct{})
		g.Go(func(ctx context.Context) error {
			<-done
			return ctx.Err()
		})
		synctest.Wait()
		close(done)
		require.NoError(t, g.Wait())
	})
}

func TestWithLimiter_LIM1_NilPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: WithLimiter(nil): pass a semaphore.Limiter, such as a *semaphore.Semaphore",
		func() { taskgroup.WithLimiter(nil) })
}
