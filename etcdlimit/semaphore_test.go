package etcdlimit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/leash-go/leash/etcdlimit"
	"github.com/leash-go/leash/etcdlimit/internal/etcdtest"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The tests in this file run against one real etcd server (server, started
// by TestMain), each test under its own prefix. Waits on etcd use real time:
// none sleeps, each waits for an event (a watch, a channel) and is bounded
// by a deadline, and none asserts speed.

const testTTL = 5 * time.Second

// newSem returns a Semaphore on a fresh client, as another process would
// have, closed when the test ends.
func newSem(t *testing.T, prefix string, capacity int64) *etcdlimit.Semaphore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := etcdlimit.New(ctx, etcdtest.Client(t, server), t.Name()+"/"+prefix, capacity, etcdlimit.WithTTL(testTTL))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// waitFor waits, at most 10s, until cond holds. cond reads etcd under
// prefix; it is checked once, then again at every change a watch on c
// reports there, from the revision read before the first check: no change
// can slip between a check and the watch.
func waitFor(t *testing.T, what string, c *clientv3.Client, prefix string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	require.NoError(t, err, "waiting for %s", what)
	events := c.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
	for !cond() {
		select {
		case wr, ok := <-events:
			if ok && !wr.Canceled {
				continue
			}
			if ctx.Err() == nil {
				t.Fatalf("waiting for %s: the watch ended: %v", what, wr.Err())
			}
		case <-ctx.Done():
		}
		t.Fatalf("waited 10s for %s", what)
	}
}

// await waits, at most 10s, for ch to be closed.
func await(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("waited 10s for %s", what)
	}
}

func stats(t *testing.T, s *etcdlimit.Semaphore) etcdlimit.Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	return st
}

// waitWaiters waits until n Acquire calls are queued behind the holders of
// s, made by newSem.
func waitWaiters(t *testing.T, s *etcdlimit.Semaphore, n int) {
	t.Helper()
	waitWaitersOn(t, watcher, t.Name()+"/", s, n)
}

// waitWaitersOn is waitWaiters for a Semaphore under prefix on the server c
// talks to.
func waitWaitersOn(t *testing.T, c *clientv3.Client, prefix string, s *etcdlimit.Semaphore, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d waiters", n), c, prefix, func() bool { return stats(t, s).Waiters == n })
}

type result struct {
	g   *etcdlimit.Grant
	err error
}

// acquireAsync starts AcquireGrant in a goroutine; the test must receive
// from the channel before it ends.
func acquireAsync(ctx context.Context, s *etcdlimit.Semaphore, w int64) <-chan result {
	ch := make(chan result, 1)
	go func() {
		g, err := s.AcquireGrant(ctx, w)
		ch <- result{g, err}
	}()
	return ch
}

func recv(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Acquire did not return within 10s")
		return result{}
	}
}

// pending reports that ch has not delivered for a short while: a waiter
// still blocked. It can only fail by a late grant, never by a slow machine
// making a correct grant look missing.
func requirePending(t *testing.T, ch <-chan result) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("Acquire returned (%v) while it should wait", r.err)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestNew_LIM2_FirstProcessStoresTheCapacity(t *testing.T) {
	a := newSem(t, "lim", 3)
	b := newSem(t, "lim/", 3) // the same prefix, with or without the slash
	require.Equal(t, int64(3), a.Capacity())
	require.True(t, a.TryAcquire(3))
	require.False(t, b.TryAcquire(1))
	a.Release(3)
	require.True(t, b.TryAcquire(1))
	b.Release(1)
}

func TestNew_LIM2_CapacityDisagreementFailsTheLaterProcess(t *testing.T) {
	first := newSem(t, "lim", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := etcdlimit.New(ctx, etcdtest.Client(t, server), t.Name()+"/lim", 5)
	require.ErrorIs(t, err, etcdlimit.ErrCapacityMismatch)
	require.ErrorContains(t, err, "holds 3")
	require.Equal(t, int64(3), stats(t, first).Capacity, "the stored capacity stays")
}

func TestAcquire_LIM2_ProcessesShareOneCapacity(t *testing.T) {
	a, b := newSem(t, "lim", 2), newSem(t, "lim", 2)
	ctx := context.Background()
	require.NoError(t, a.Acquire(ctx, 1))
	require.NoError(t, b.Acquire(ctx, 1))
	require.False(t, a.TryAcquire(1))
	ch := acquireAsync(ctx, b, 1)
	waitWaiters(t, a, 1)
	a.Release(1)
	r := recv(t, ch)
	require.NoError(t, r.err)
	require.Equal(t, etcdlimit.Stats{Capacity: 2, InUse: 2}, stats(t, a))
	r.g.Release()
	b.Release(1)
	require.Equal(t, etcdlimit.Stats{Capacity: 2}, stats(t, a))
}

func TestAcquire_LIM2_FIFOByCreateRevision(t *testing.T) {
	holder := newSem(t, "lim", 3)
	ctx := context.Background()
	require.NoError(t, holder.Acquire(ctx, 3))
	// Three processes queue in turn: 2, then 2, then 1.
	var chs []<-chan result
	for i, w := range []int64{2, 2, 1} {
		chs = append(chs, acquireAsync(ctx, newSem(t, "lim", 3), w))
		waitWaiters(t, holder, i+1)
	}
	holder.Release(3)
	first := recv(t, chs[0])
	require.NoError(t, first.err)
	// The second (2) does not fit beside the first; the third (1) would,
	// but must not pass it (SEM1: head-of-line blocking, no barging).
	requirePending(t, chs[2])
	require.Equal(t, etcdlimit.Stats{Capacity: 3, InUse: 2, Waiters: 2}, stats(t, holder))
	first.g.Release()
	second, third := recv(t, chs[1]), recv(t, chs[2])
	require.NoError(t, second.err)
	require.NoError(t, third.err)
	require.Less(t, first.g.Token, second.g.Token, "tokens follow the queue")
	require.Less(t, second.g.Token, third.g.Token, "tokens follow the queue")
	second.g.Release()
	third.g.Release()
}

func TestTryAcquire_SEM1_FailsWhileAnyoneWaits(t *testing.T) {
	s := newSem(t, "lim", 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, s.Acquire(ctx, 1))
	ch := acquireAsync(ctx, newSem(t, "lim", 2), 2)
	waitWaiters(t, s, 1)
	require.False(t, s.TryAcquire(1), "one permit is free, but someone waits")
	require.Equal(t, 1, stats(t, s).Waiters, "the failed TryAcquire left no key")
	cancel()
	require.ErrorIs(t, recv(t, ch).err, context.Canceled)
	require.True(t, s.TryAcquire(1))
	s.Release(2)
}

func TestAcquire_SEM2_CancelledWaiterDeletesItsKeyAndMatchesCause(t *testing.T) {
	s := newSem(t, "lim", 1)
	require.NoError(t, s.Acquire(context.Background(), 1))
	why := errors.New("caller gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := acquireAsync(ctx, s, 1)
	waitWaiters(t, s, 1)
	cancel(why)
	err := recv(t, ch).err
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, why)
	// The key is gone by the time Acquire returns: no permit is lost.
	require.Equal(t, etcdlimit.Stats{Capacity: 1, InUse: 1}, stats(t, s))
	s.Release(1)
	require.True(t, s.TryAcquire(1))
	s.Release(1)
}

func TestAcquire_SEM2_DeadlineWhileWaitingMatchesDeadlineExceeded(t *testing.T) {
	s := newSem(t, "lim", 1)
	require.NoError(t, s.Acquire(context.Background(), 1))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := s.Acquire(ctx, 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, 0, stats(t, s).Waiters)
	s.Release(1)
}

func TestAcquire_SEM2_DoneContextFailsEvenWhenFree(t *testing.T) {
	s := newSem(t, "lim", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.Acquire(ctx, 1), context.Canceled)
	require.Equal(t, etcdlimit.Stats{Capacity: 1}, stats(t, s))
}

func TestAcquire_SEM2_LeavingWaiterWakesThoseBehind(t *testing.T) {
	s := newSem(t, "lim", 2)
	bg := context.Background()
	require.NoError(t, s.Acquire(bg, 1))
	ctx, cancel := context.WithCancel(bg)
	big := acquireAsync(ctx, newSem(t, "lim", 2), 2)
	waitWaiters(t, s, 1)
	small := acquireAsync(bg, newSem(t, "lim", 2), 1)
	waitWaiters(t, s, 2)
	requirePending(t, small) // behind the big one, though one permit is free
	cancel()
	require.ErrorIs(t, recv(t, big).err, context.Canceled)
	r := recv(t, small)
	require.NoError(t, r.err)
	r.g.Release()
	s.Release(1)
}

func TestAcquire_SEM3_NegativeWeightPanics(t *testing.T) {
	s := newSem(t, "lim", 1)
	require.PanicsWithValue(t, "etcdlimit: Acquire with negative weight", func() { _ = s.Acquire(context.Background(), -1) })
	require.PanicsWithValue(t, "etcdlimit: TryAcquire with negative weight", func() { s.TryAcquire(-1) })
	require.PanicsWithValue(t, "etcdlimit: Release with negative weight", func() { s.Release(-1) })
	require.PanicsWithValue(t, "etcdlimit: New with negative capacity", func() {
		_, _ = etcdlimit.New(context.Background(), etcdtest.Client(t, server), t.Name()+"/other", -1)
	})
}

func TestAcquire_SEM3_MoreThanCapacityIsErrTooLargeAtOnce(t *testing.T) {
	s := newSem(t, "lim", 2)
	require.ErrorIs(t, s.Acquire(context.Background(), 3), etcdlimit.ErrTooLarge)
	require.False(t, s.TryAcquire(3))
	require.Equal(t, etcdlimit.Stats{Capacity: 2}, stats(t, s))
}

func TestAcquire_SEM3_ZeroWeightTakesNothing(t *testing.T) {
	s := newSem(t, "lim", 1)
	require.NoError(t, s.Acquire(context.Background(), 1))
	require.NoError(t, s.Acquire(context.Background(), 0), "0 passes even a full semaphore")
	require.True(t, s.TryAcquire(0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.Acquire(ctx, 0), context.Canceled)
	s.Release(0)
	require.Equal(t, etcdlimit.Stats{Capacity: 1, InUse: 1}, stats(t, s))
	s.Release(1)
}

func TestRelease_SEM3_MoreThanHeldPanics(t *testing.T) {
	s := newSem(t, "lim", 3)
	require.NoError(t, s.Acquire(context.Background(), 2))
	require.PanicsWithValue(t, "etcdlimit: released more than held", func() { s.Release(3) })
	require.Equal(t, int64(2), stats(t, s).InUse, "the panic left the holding as it was")
	s.Release(2)
}

func TestRelease_LIM2_PartOfAGrantShrinksItsKey(t *testing.T) {
	s := newSem(t, "lim", 3)
	require.NoError(t, s.Acquire(context.Background(), 3))
	s.Release(1)
	require.Equal(t, int64(2), stats(t, s).InUse)
	require.True(t, s.TryAcquire(1))
	s.Release(2)
	s.Release(1)
	require.Equal(t, etcdlimit.Stats{Capacity: 3}, stats(t, s))
}

func TestClose_SEM5_WaitersFailAndPermitsReturn(t *testing.T) {
	s, other := newSem(t, "lim", 2), newSem(t, "lim", 2)
	bg := context.Background()
	require.NoError(t, s.Acquire(bg, 2))
	lease := s.Lease()
	ch := acquireAsync(bg, s, 1)
	waitWaiters(t, other, 1)
	require.NoError(t, s.Close())
	require.ErrorIs(t, recv(t, ch).err, etcdlimit.ErrClosed)
	require.ErrorIs(t, context.Cause(lease), etcdlimit.ErrClosed)
	require.ErrorIs(t, s.Acquire(bg, 1), etcdlimit.ErrClosed)
	require.False(t, s.TryAcquire(1))
	s.Release(2) // still works; the revoke already gave the permits back
	require.NoError(t, s.Close(), "idempotent")
	require.True(t, other.TryAcquire(2), "Close returned the permits to the others at once")
	other.Release(2)
}

func TestGrant_LIM2_FenceRefusesWritesOfAReleasedGrant(t *testing.T) {
	c := etcdtest.Client(t, server)
	s := newSem(t, "lim", 2)
	ctx := context.Background()
	g, err := s.AcquireGrant(ctx, 1)
	require.NoError(t, err)
	write := func(g *etcdlimit.Grant) bool {
		resp, err := c.Txn(ctx).If(g.Fence()).Then(clientv3.OpPut("resource", fmt.Sprint(g.Token))).Commit()
		require.NoError(t, err)
		return resp.Succeeded
	}
	require.True(t, write(g))
	g2, err := s.AcquireGrant(ctx, 1)
	require.NoError(t, err)
	require.Greater(t, g2.Token, g.Token)
	g.Release()
	g.Release() // idempotent
	require.False(t, write(g), "a released grant's write is refused")
	require.True(t, write(g2))
	g2.Release()
}

func TestLease_LIM2_LostLeaseEndsWithErrLeaseLostAndANewLeaseServes(t *testing.T) {
	c := etcdtest.Client(t, server)
	s := newSem(t, "lim", 1)
	ctx := context.Background()
	g, err := s.AcquireGrant(ctx, 1)
	require.NoError(t, err)
	held := s.Lease()
	require.Same(t, held, g.Lease())
	waiter := acquireAsync(ctx, newSem(t, "lim", 1), 1)
	waitWaiters(t, s, 1)
	// Someone revokes the lease behind the Semaphore's back, as the server
	// does when it expires.
	leases, err := c.Leases(ctx)
	require.NoError(t, err)
	revoked := 0
	for _, l := range leases.Leases {
		keys, err := c.TimeToLive(ctx, l.ID, clientv3.WithAttachedKeys())
		require.NoError(t, err)
		for _, k := range keys.Keys {
			if string(k) == g.Key {
				_, err := c.Revoke(ctx, l.ID)
				require.NoError(t, err)
				revoked++
			}
		}
	}
	require.Equal(t, 1, revoked)
	select {
	case <-held.Done():
	case <-time.After(2 * testTTL):
		t.Fatal("the Lease context did not end after the lease was revoked")
	}
	require.ErrorIs(t, context.Cause(held), etcdlimit.ErrLeaseLost)
	r := recv(t, waiter)
	require.NoError(t, r.err, "the revoke gave the permit on")
	r.g.Release()
	g.Release() // nothing to delete; must not fail or hang
	// The Semaphore goes on under a new lease.
	require.NotSame(t, held, s.Lease())
	g3, err := s.AcquireGrant(ctx, 1)
	require.NoError(t, err)
	require.NoError(t, g3.Lease().Err())
	g3.Release()
}

func TestAcquire_SEM2_GrantAndCancelRaceLosesNoPermit(t *testing.T) {
	s, other := newSem(t, "lim", 1), newSem(t, "lim", 1)
	bg := context.Background()
	queue := t.Name() + "/lim/queue/"
	granted, cancelled := 0, 0
	for i := range 20 {
		require.NoError(t, s.Acquire(bg, 1))
		ctx, cancel := context.WithCancel(bg)
		ch := acquireAsync(ctx, other, 1)
		waitWaiters(t, s, 1)
		// The first deletion in the queue from now on is the release's.
		wctx, wcancel := context.WithTimeout(bg, 10*time.Second)
		resp, err := watcher.Get(wctx, queue, clientv3.WithPrefix(), clientv3.WithCountOnly())
		require.NoError(t, err)
		deletes := watcher.Watch(wctx, queue, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1), clientv3.WithFilterPut())
		begun, released := make(chan struct{}), make(chan struct{})
		go func() {
			close(begun)
			s.Release(1)
			close(released)
		}()
		// Cancel at one of four points of the release's round trip, so that
		// either side can win: at once; once Release has begun; once etcd
		// has deleted the holder's key (this test's watch hears of it as the
		// waiter's does); once Release has returned.
		switch i % 4 {
		case 1:
			await(t, "the release to begin", begun)
		case 2:
			select {
			case wr := <-deletes:
				require.NoError(t, wr.Err())
				require.NotEmpty(t, wr.Events, "the release's deletion")
			case <-wctx.Done():
				t.Fatal("waited 10s for the release's deletion")
			}
		case 3:
			await(t, "Release to return", released)
		}
		cancel()
		wcancel()
		await(t, "Release to return", released)
		r := recv(t, ch)
		if r.err == nil {
			granted++
			require.Equal(t, etcdlimit.Stats{Capacity: 1, InUse: 1}, stats(t, s), "granted: holds the permit")
			r.g.Release()
		} else {
			cancelled++
			require.ErrorIs(t, r.err, context.Canceled)
		}
		require.Equal(t, etcdlimit.Stats{Capacity: 1}, stats(t, s), "no permit lost, no key left")
	}
	t.Logf("granted %d, cancelled %d", granted, cancelled)
}

func TestAcquire_SEM2_CancelledWhileEtcdPausedReturnsByTheLeaseDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("pauses a server past a lease deadline")
	}
	m := etcdtest.Start(t) // its own server: this test pauses it
	const ttl = 2 * time.Second
	newPaused := func() *etcdlimit.Semaphore {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := etcdlimit.New(ctx, etcdtest.Client(t, m), "lim", 1, etcdlimit.WithTTL(ttl))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	holder, waiter := newPaused(), newPaused()
	require.NoError(t, holder.Acquire(context.Background(), 1))
	ctx, cancel := context.WithCancel(context.Background())
	ch := acquireAsync(ctx, waiter, 1)
	c := etcdtest.Client(t, m)
	waitWaitersOn(t, c, "lim/", holder, 1)
	lease := waiter.Lease()
	m.Pause(t)
	defer m.Resume()
	cancel()
	start := time.Now()
	r := recv(t, ch)
	took := time.Since(start)
	require.ErrorIs(t, r.err, context.Canceled)
	// It could not delete its key: it gave up its lease instead (the server
	// deletes the key when the lease expires), by 3/4 TTL at the latest.
	require.Less(t, took, ttl*3/4+time.Second)
	require.ErrorIs(t, context.Cause(lease), etcdlimit.ErrLeaseLost)
	t.Logf("Acquire returned %v after cancel, with etcd paused", took.Round(time.Millisecond))
	m.Resume()
	// Once the server runs again the key goes, and the limit serves again.
	waitFor(t, "the abandoned waiter key to go", c, "lim/", func() bool { return stats(t, holder).Waiters == 0 })
	// The holder's lease ran out during the pause too: its permit returns.
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer acancel()
	g, err := waiter.AcquireGrant(actx, 1)
	require.NoError(t, err)
	g.Release()
}

func TestRelease_LIM2_AHolderOfALostLeaseNeverFreesALiveKey(t *testing.T) {
	c := etcdtest.Client(t, server)
	s := newSem(t, "lim", 2)
	ctx := context.Background()
	require.NoError(t, s.Acquire(ctx, 1)) // task X, under the first lease
	lost := s.Lease()
	resp, err := c.Get(ctx, t.Name()+"/lim/queue/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	_, err = c.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease)) // the server drops it
	require.NoError(t, err)
	select {
	case <-lost.Done():
	case <-time.After(2 * testTTL):
		t.Fatal("the Lease context did not end after the revoke")
	}
	require.NoError(t, s.Acquire(ctx, 1)) // task Y, under a new lease
	s.Release(1)                          // X, cancelled by its lost lease, gives back its permit
	require.Equal(t, int64(1), stats(t, s).InUse, "Y's key stays while Y runs")
	s.Release(1) // Y
	require.Equal(t, etcdlimit.Stats{Capacity: 2}, stats(t, s))
}
