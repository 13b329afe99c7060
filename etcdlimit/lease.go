package etcdlimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A lease is one etcd lease and the context that says whether the permits
// held under it still count. The etcd lease itself is granted lazily, by the
// first Acquire that needs it (or New), so that Lease can hand out the
// context of the lease the next Acquire will use without a network call.
//
// Keep-alive is done here rather than by clientv3's KeepAlive (or
// concurrency.Session) for one reason: the context must end before the
// server can expire the lease, not after. clientv3 closes its keep-alive
// channel a whole TTL after the last response arrived, checked once a
// second, so a holder could go on for up to a second (plus a round trip)
// after the server had deleted its keys and granted its permits to others.
// Here the deadline counts from the moment the last acknowledged keep-alive
// was sent, which is no later than the server's renewal, and it is
// 3/4 TTL, not the whole TTL: holders get at least TTL/4 to stop before the
// server may hand their permits on.
type lease struct {
	client clientv3.Lease // a *clientv3.Client; an interface for the synctest tests
	ttl    time.Duration  // asked for; the server's answer replaces it

	ctx    context.Context // Lease(): done once permits under this lease may be lost
	cancel context.CancelCauseFunc

	grantLock chan struct{} // held (a token in it) while the lease is granted
	granted   chan struct{} // closed once id is set
	id        clientv3.LeaseID

	stop     context.CancelFunc // ends the keep-alive loop
	stopCtx  context.Context
	loopDone chan struct{} // closed when the keep-alive loop has returned
	onEnd    func(*lease)  // called once, when ctx ends
	loops    *sync.WaitGroup
}

func newLease(client clientv3.Lease, ttl time.Duration, loops *sync.WaitGroup, onEnd func(*lease)) *lease {
	l := &lease{
		client:    client,
		loops:     loops,
		ttl:       ttl,
		grantLock: make(chan struct{}, 1),
		granted:   make(chan struct{}),
		loopDone:  make(chan struct{}),
		onEnd:     onEnd,
	}
	l.ctx, l.cancel = context.WithCancelCause(context.Background())
	l.stopCtx, l.stop = context.WithCancel(context.Background())
	return l
}

// ensure grants the etcd lease if that has not been done yet, waiting at
// most until ctx is done. It fails if the lease has ended.
func (l *lease) ensure(ctx context.Context) error {
	select {
	case <-l.granted:
		return l.alive()
	default:
	}
	select {
	case l.grantLock <- struct{}{}:
	case <-l.granted:
		return l.alive()
	case <-l.ctx.Done():
		return context.Cause(l.ctx)
	case <-ctx.Done():
		return ctxErr(ctx)
	}
	defer func() { <-l.grantLock }()
	select {
	case <-l.granted:
		return l.alive()
	default:
	}
	if err := l.alive(); err != nil {
		return err
	}
	sent := time.Now()
	resp, err := l.client.Grant(ctx, int64((l.ttl+time.Second-1)/time.Second))
	if err != nil {
		if ctx.Err() != nil {
			return ctxErr(ctx)
		}
		return fmt.Errorf("etcdlimit: granting a lease: %w", err)
	}
	if err := l.alive(); err != nil {
		// Closed while the grant was on its way: give it back.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.ttl)
		defer cancel()
		_, _ = l.client.Revoke(rctx, resp.ID)
		return err
	}
	l.id = resp.ID
	l.ttl = time.Duration(resp.TTL) * time.Second
	close(l.granted)
	l.loops.Go(func() { l.keepAlive(sent) })
	return nil
}

func (l *lease) alive() error {
	if l.ctx.Err() != nil {
		return context.Cause(l.ctx)
	}
	return nil
}

// keepAlive renews the lease every TTL/4 and ends l.ctx once 3/4 TTL has
// passed since the last renewal the server acknowledged was sent, or at once
// when the server says the lease is gone.
func (l *lease) keepAlive(sent time.Time) {
	defer close(l.loopDone)
	deadline := sent.Add(l.ttl * 3 / 4)
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now().Add(l.ttl / 4)
	for {
		wait := time.Until(next)
		if d := time.Until(deadline); d < wait {
			wait = d
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-l.stopCtx.Done():
			return
		}
		if !time.Now().Before(deadline) {
			l.end(fmt.Errorf("%w: no keep-alive acknowledged for %v", ErrLeaseLost, l.ttl*3/4))
			// The server may still hold the lease (it was only slow to
			// answer): revoke it, so that its keys need not wait for the
			// expiry to free their permits. Best effort, for TTL/4.
			ctx, cancel := context.WithTimeout(l.stopCtx, l.ttl/4)
			_, _ = l.client.Revoke(ctx, l.id)
			cancel()
			return
		}
		ctx, cancel := context.WithDeadline(l.stopCtx, deadline)
		sent := time.Now()
		resp, err := l.client.KeepAliveOnce(ctx, l.id)
		cancel()
		switch {
		case l.stopCtx.Err() != nil:
			return
		case err == nil && resp.TTL > 0:
			deadline = sent.Add(time.Duration(resp.TTL) * time.Second * 3 / 4)
			next = time.Now().Add(time.Duration(resp.TTL) * time.Second / 4)
		case err == nil || errors.Is(err, rpctypes.ErrLeaseNotFound):
			l.end(fmt.Errorf("%w: the server no longer knows lease %x", ErrLeaseLost, int64(l.id)))
			return
		default:
			// The server did not answer in time, or answered with an error
			// that may pass (no leader, a member going away): try again
			// soon, until the deadline.
			next = time.Now().Add(100 * time.Millisecond)
		}
	}
}

// end ends l.ctx with cause, once, and tells the Semaphore.
func (l *lease) end(cause error) {
	if l.ctx.Err() != nil {
		return
	}
	l.cancel(cause)
	l.onEnd(l)
}

// abandon stops renewing the lease and ends it with cause: used when a key
// under it could not be deleted, so that the server deletes the key when the
// lease expires, within one TTL, rather than never.
func (l *lease) abandon(cause error) {
	l.end(cause)
	l.stop()
}

// close stops the keep-alive loop, ends the lease with cause and revokes it,
// which deletes every key under it at once. It waits at most one TTL for the
// server: after that the lease has expired anyway.
func (l *lease) close(cause error) error {
	l.end(cause)
	l.stop()
	l.grantLock <- struct{}{} // wait for a grant on its way: ensure gives it back
	<-l.grantLock
	select {
	case <-l.granted:
	default:
		return nil // never granted: nothing to revoke
	}
	<-l.loopDone
	ctx, cancel := context.WithTimeout(context.Background(), l.ttl)
	defer cancel()
	_, err := l.client.Revoke(ctx, l.id)
	if err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("etcdlimit: revoking lease %x: %w", int64(l.id), err)
	}
	return nil
}
