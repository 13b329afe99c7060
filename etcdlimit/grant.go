package etcdlimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A Grant is w permits granted by AcquireGrant or TryAcquireGrant, with its
// fencing token.
type Grant struct {
	// Token is the fencing token: the etcd revision at which the grant's
	// queue key was created. Grants are made in token order (a grant is
	// never made while an older request waits), tokens only grow, and no
	// two grants share one.
	Token int64
	// Key is the grant's queue key; it exists exactly as long as the grant
	// counts.
	Key string
	// Weight is the number of permits granted.
	Weight int64

	s        *Semaphore
	lease    *lease
	released atomic.Bool
}

// Lease returns a context that is done once the grant's permits may have
// been lost, with a cause that wraps ErrLeaseLost (or is ErrClosed after
// Close).
func (g *Grant) Lease() context.Context { return g.lease.ctx }

// Fence returns the etcd comparison that holds exactly while the grant
// counts: a write to etcd made in a Txn that If's on it is refused once the
// grant is released or its lease expired, however late the write arrives.
// For a resource outside etcd, pass Token along and let the resource check
// Key at that revision, or refuse tokens older than one it knows released.
func (g *Grant) Fence() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(g.Key), "=", g.Token)
}

// Release gives the grant's permits back (deletes its key). Calling it again
// does nothing. A grant of 0 permits has nothing to give back.
func (g *Grant) Release() {
	if g.Weight == 0 || !g.released.CompareAndSwap(false, true) {
		return
	}
	g.s.remove(g.lease, g.Key, g.Token, 0)
}

// AcquireGrant is Acquire, returning the grant with its fencing token; give
// the permits back with the Grant's Release, not the Semaphore's.
func (s *Semaphore) AcquireGrant(ctx context.Context, w int64) (*Grant, error) {
	if w < 0 {
		panic("etcdlimit: Acquire with negative weight")
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	l, err := s.current()
	if err != nil {
		return nil, err
	}
	if w == 0 {
		return &Grant{s: s, lease: l}, nil
	}
	if w > s.capacity {
		return nil, ErrTooLarge
	}
	l, err = s.live(ctx, l)
	if err != nil {
		return nil, err
	}
	var p *position
	var rev int64
	for {
		if p, rev, err = s.enqueue(ctx, l, w); err == nil {
			break
		}
		// A server error that may pass (no leader, a member gone, a request
		// timed out) is tried again, at the back of the queue, until ctx is
		// done or the lease ends; only those and a closed client end the
		// Acquire.
		if ctx.Err() != nil || l.ctx.Err() != nil || s.client.Ctx().Err() != nil {
			return nil, err
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		case <-l.ctx.Done():
		case <-s.done:
			return nil, ErrClosed
		}
	}
	if !p.fits(s.capacity) {
		if err := s.wait(ctx, l, p, rev); err != nil {
			return nil, err
		}
	}
	return &Grant{s: s, lease: l, Key: p.key, Token: p.token, Weight: w}, nil
}

// TryAcquireGrant is TryAcquire, returning the grant with its fencing token.
func (s *Semaphore) TryAcquireGrant(w int64) (*Grant, bool) {
	if w < 0 {
		panic("etcdlimit: TryAcquire with negative weight")
	}
	l, err := s.current()
	if err != nil {
		return nil, false
	}
	if w == 0 {
		return &Grant{s: s, lease: l}, true
	}
	if w > s.capacity {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.ttl)
	defer cancel()
	if l, err = s.live(ctx, l); err != nil {
		return nil, false
	}
	p, _, err := s.enqueue(ctx, l, w)
	if err != nil {
		return nil, false
	}
	if !p.fits(s.capacity) {
		s.remove(l, p.key, p.token, 0)
		return nil, false
	}
	return &Grant{s: s, lease: l, Key: p.key, Token: p.token, Weight: w}, true
}

// live returns a lease granted by etcd: l, or the one that replaced it if l
// ended before it could be used.
func (s *Semaphore) live(ctx context.Context, l *lease) (*lease, error) {
	for range 3 {
		err := l.ensure(ctx)
		if err == nil || !errors.Is(err, ErrLeaseLost) {
			return l, err
		}
		if l, err = s.current(); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: three leases in a row ended before use", ErrLeaseLost)
}

// enqueue puts a queue key of weight w under l and reads, in the same
// transaction, the keys ahead of it. It returns the new key's position and
// the revision to watch from.
func (s *Semaphore) enqueue(ctx context.Context, l *lease, w int64) (*position, int64, error) {
	key := s.queue + strconv.FormatInt(int64(l.id), 16) + "-" + strconv.FormatUint(s.seq.Add(1), 10)
	octx, stop := underLease(ctx, l)
	defer stop()
	resp, err := s.client.Txn(octx).Then(
		clientv3.OpPut(key, strconv.FormatInt(w, 10), clientv3.WithLease(l.id)),
		clientv3.OpGet(s.queue, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend)),
	).Commit()
	if err != nil {
		// The put may have been applied: delete the key (SEM2).
		s.remove(l, key, 0, 0)
		if e := ctxErr(ctx); e != nil {
			return nil, 0, e
		}
		if e := l.alive(); e != nil {
			return nil, 0, e
		}
		return nil, 0, fmt.Errorf("etcdlimit: queueing: %w", err)
	}
	// The put's revision is the key's create revision: the fencing token.
	p := &position{key: key, token: resp.Header.Revision, w: w}
	p.load(resp.Responses[1].GetResponseRange().Kvs)
	return p, resp.Header.Revision + 1, nil
}

// A position is a queue key and what is ahead of it.
type position struct {
	key   string
	token int64 // the key's create revision
	w     int64
	ahead map[string]int64 // keys created before, and their weights
	sum   int64            // of ahead
}

// load sets what is ahead from a read of the queue, and reports whether the
// key itself was there.
func (p *position) load(kvs []*mvccpb.KeyValue) bool {
	p.ahead, p.sum = make(map[string]int64), 0
	found := false
	for _, kv := range kvs {
		switch w, ok := weight(kv.Value); {
		case string(kv.Key) == p.key:
			found = true
		case ok && kv.CreateRevision < p.token:
			p.ahead[string(kv.Key)] = w
			p.sum += w
		}
	}
	return found
}

// fits reports whether the key is granted: SEM1 as arithmetic. A key is
// granted when its weight and every weight ahead of it fit in the capacity.
// The keys ahead only leave or shrink, so once true this stays true while
// the key lives; and the keys granted are always the queue's oldest, never
// more than the capacity in all.
func (p *position) fits(capacity int64) bool { return p.sum+p.w <= capacity }

// apply updates what is ahead with one watch event, and reports whether the
// key itself was deleted.
func (p *position) apply(ev *clientv3.Event) (gone bool) {
	k := string(ev.Kv.Key)
	if k == p.key {
		return ev.Type == clientv3.EventTypeDelete
	}
	old, ok := p.ahead[k]
	if !ok {
		return false
	}
	switch w, valid := weight(ev.Kv.Value); {
	case ev.Type == clientv3.EventTypeDelete || !valid:
		delete(p.ahead, k)
		p.sum -= old
	default:
		p.ahead[k] = w
		p.sum += w - old
	}
	return false
}

// wait watches the queue from revision rev until the keys ahead of p leave
// room for it.
func (s *Semaphore) wait(ctx context.Context, l *lease, p *position, rev int64) error {
	for {
		err := s.watch(ctx, l, p, rev)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			s.remove(l, p.key, 0, 0) // SEM2: the permits pass on
			return ctxErr(ctx)
		case !errors.Is(err, errResync):
			return err // the key is gone, or goes with the lease
		}
		// The watch ended (compaction, no leader, a member gone): read the
		// queue again and watch from there.
		octx, stop := underLease(ctx, l)
		resp, err := s.client.Get(octx, s.queue, clientv3.WithPrefix(), clientv3.WithMaxCreateRev(p.token))
		stop()
		switch {
		case ctx.Err() != nil:
			s.remove(l, p.key, 0, 0)
			return ctxErr(ctx)
		case l.ctx.Err() != nil:
			return context.Cause(l.ctx)
		case err != nil && s.client.Ctx().Err() != nil:
			return fmt.Errorf("etcdlimit: waiting: %w", err)
		case err != nil:
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			case <-l.ctx.Done():
			}
			continue // rev stays
		}
		if !p.load(resp.Kvs) {
			return s.keyGone(l, p)
		}
		if p.fits(s.capacity) {
			return nil
		}
		rev = resp.Header.Revision + 1
	}
}

var errResync = errors.New("etcdlimit: watch ended")

// watch is one etcd watch of the queue for wait. It returns nil once p fits,
// errResync if the watch ended, or the reason to stop waiting.
func (s *Semaphore) watch(ctx context.Context, l *lease, p *position, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	events := s.client.Watch(wctx, s.queue, clientv3.WithPrefix(), clientv3.WithRev(rev))
	for {
		select {
		case <-ctx.Done():
			return ctxErr(ctx)
		case <-l.ctx.Done():
			return context.Cause(l.ctx) // the key goes with the lease
		case <-s.done:
			return ErrClosed
		case resp, ok := <-events:
			if !ok || resp.Err() != nil || resp.Canceled {
				return errResync
			}
			for _, ev := range resp.Events {
				if p.apply(ev) {
					return s.keyGone(l, p)
				}
			}
			if p.fits(s.capacity) {
				return nil
			}
		}
	}
}

// keyGone is the error of an Acquire whose key was deleted by someone else:
// its lease expired at the server, or the prefix was deleted.
func (s *Semaphore) keyGone(l *lease, p *position) error {
	if l.ctx.Err() != nil {
		return context.Cause(l.ctx)
	}
	return fmt.Errorf("%w: queue key %s was deleted while waiting", ErrLeaseLost, p.key)
}

// underLease returns ctx, cancelled also when l ends: a request on behalf of
// a lease is pointless once the lease is gone, and must not keep its caller
// waiting on a server that does not answer.
func underLease(ctx context.Context, l *lease) (context.Context, func()) {
	octx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(l.ctx, func() { cancel(context.Cause(l.ctx)) })
	return octx, func() {
		stop()
		cancel(nil)
	}
}
