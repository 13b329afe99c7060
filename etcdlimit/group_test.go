package etcdlimit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leash-go/leash/etcdlimit"
	"github.com/leash-go/leash/etcdlimit/internal/etcdtest"
	"github.com/leash-go/leash/taskgroup"
	"github.com/leash-go/leash/timeout"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestGroup_LIM1_GroupsInTwoProcessesShareTheLimit(t *testing.T) {
	const capacity, tasks = 2, 8
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A task holds its permit until the limit is full (or every task has
	// started, for the last ones): the others queue meanwhile, and a task
	// let through beyond the capacity would be seen running beside them.
	var (
		mu                 sync.Mutex
		changed            = make(chan struct{}) // closed and replaced at every start
		running, peak, ran int64
	)
	task := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		running++
		defer func() { running-- }()
		peak = max(peak, running)
		ran++
		close(changed)
		changed = make(chan struct{})
		for running < capacity && ran < 2*tasks {
			ch := changed
			mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				mu.Lock()
				return fmt.Errorf("a task held its permit alone: %w", context.Cause(ctx))
			}
			mu.Lock()
		}
		return nil
	}
	done := make(chan error, 2)
	for range 2 { // two Semaphores on two clients: two processes, as etcd sees it
		s := newSem(t, "lim", capacity)
		go func() {
			g := taskgroup.New(ctx, taskgroup.WithLimiter(s))
			for range tasks {
				g.Go(task)
			}
			done <- g.Wait()
		}()
	}
	for range 2 {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("the groups did not finish within 30s")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, int64(2*tasks), ran)
	require.LessOrEqual(t, peak, int64(capacity))
}

func TestGroup_LIM1_LostLeaseCancelsItsTasksWithErrLeaseLost(t *testing.T) {
	c := etcdtest.Client(t, server)
	s := newSem(t, "lim", 1)
	g := taskgroup.New(context.Background(), taskgroup.WithLimiter(s))
	started := make(chan struct{})
	g.Go(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return context.Cause(ctx)
	})
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the task did not start within 10s")
	}
	// The server forgets the lease (as when it expires).
	ctx := context.Background()
	resp, err := c.Get(ctx, t.Name()+"/lim/queue/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	_, err = c.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	err = g.Wait()
	require.ErrorIs(t, err, etcdlimit.ErrLeaseLost)
}

func TestCall_SV6_AnAbandonedCallKeepsItsSharedPermitUntilItReturns(t *testing.T) {
	s, other := newSem(t, "lim", 1), newSem(t, "lim", 1)
	stuck := make(chan struct{})
	_, err := timeout.Call(context.Background(), 200*time.Millisecond, func() (int, error) {
		<-stuck // a legacy call that ignores every deadline
		return 0, nil
	}, timeout.WithLimiter(s))
	require.ErrorIs(t, err, timeout.ErrTimeout)
	// Abandoned, it still holds the cluster-wide permit: no other process
	// can start another stuck call.
	require.False(t, other.TryAcquire(1))
	close(stuck)
	waitFor(t, "the permit to return once the call returned", watcher, t.Name()+"/", func() bool { return stats(t, s).InUse == 0 })
	require.True(t, other.TryAcquire(1))
	other.Release(1)
}
