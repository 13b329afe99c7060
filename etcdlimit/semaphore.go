package etcdlimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leash-go/leash/internal/cause"
	"github.com/leash-go/leash/semaphore"
	clientv3 "go.etcd.io/etcd/client/v3"
)

var (
	// ErrLeaseLost is the cause of a Lease context that ended because the
	// lease could not be kept alive (etcd did not acknowledge a keep-alive
	// for 3/4 of the TTL, or said the lease is gone), or because a key under
	// it could not be deleted and the lease was given up so that the server
	// deletes it. An Acquire waiting under that lease fails with it too.
	ErrLeaseLost = errors.New("etcdlimit: lease lost")

	// ErrCapacityMismatch is returned by New when the prefix already holds a
	// capacity other than the one asked for.
	ErrCapacityMismatch = errors.New("etcdlimit: capacity differs from the one stored under the prefix")

	// ErrClosed is semaphore.ErrClosed: Acquire returns it once the
	// Semaphore is closed (SEM5).
	ErrClosed = semaphore.ErrClosed

	// ErrTooLarge is semaphore.ErrTooLarge: Acquire returns it at once when
	// it asks for more permits than the capacity (SEM3).
	ErrTooLarge = semaphore.ErrTooLarge
)

// DefaultTTL is the lease TTL used unless WithTTL says otherwise.
const DefaultTTL = 10 * time.Second

// An Option configures New.
type Option func(*config)

type config struct {
	ttl time.Duration
}

// WithTTL sets the TTL of the etcd leases the permits are held under,
// rounded up to whole seconds (etcd's unit; the server may raise it to its
// minimum, usually 2s). It bounds how long the permits of a process that died
// stay taken, and how soon a process cut off from etcd hears that its permits
// may be gone (3/4 of it).
func WithTTL(ttl time.Duration) Option {
	return func(c *config) {
		if ttl > 0 {
			c.ttl = ttl
		}
	}
}

// Semaphore is a weighted FIFO semaphore kept on etcd: every Semaphore made
// with the same client cluster and prefix shares one capacity, whichever
// process it lives in. It implements semaphore.Limiter and
// semaphore.Leased. See the package documentation for its rules.
type Semaphore struct {
	client   *clientv3.Client
	prefix   string // ends with "/"
	queue    string // prefix + "queue/": one key per waiter or holder
	capacity int64
	ttl      time.Duration

	seq   atomic.Uint64   // makes queue keys unique within a lease
	loops sync.WaitGroup  // keep-alive loops
	done  chan struct{}   // closed by Close
	dead  context.Context // Lease() after Close
	kill  context.CancelCauseFunc

	mu     sync.Mutex
	lease  *lease    // the lease the next Acquire uses
	held   []holding // permits taken by Acquire or TryAcquire, oldest first
	closed bool
}

// holding is one queue key granted to Acquire or TryAcquire (not to a Grant
// the caller holds itself).
type holding struct {
	key   string
	token int64
	w     int64
	lease *lease
}

// New returns a Semaphore of capacity permits shared by everyone using
// prefix on the cluster client talks to. The capacity is stored under the
// prefix by the first New; a later New that asks for another capacity fails
// with ErrCapacityMismatch and the stored one stays (so two versions of a
// program that disagree find out at start rather than each enforcing its
// own). To change it, delete the prefix (etcdctl del --prefix) while no
// process uses it. New panics if capacity is negative (SEM3).
//
// New grants the first lease, so it fails if etcd cannot be reached before
// ctx is done. The Semaphore does not own client: Close it before closing
// the client.
func New(ctx context.Context, client *clientv3.Client, prefix string, capacity int64, opts ...Option) (*Semaphore, error) {
	if capacity < 0 {
		panic("etcdlimit: New with negative capacity")
	}
	if prefix == "" {
		return nil, errors.New("etcdlimit: New with an empty prefix")
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	cfg := config{ttl: DefaultTTL}
	for _, o := range opts {
		o(&cfg)
	}
	capKey := prefix + "capacity"
	want := strconv.FormatInt(capacity, 10)
	resp, err := client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(capKey), "=", 0)).
		Then(clientv3.OpPut(capKey, want)).
		Else(clientv3.OpGet(capKey)).
		Commit()
	if err != nil {
		if e := ctxErr(ctx); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("etcdlimit: storing the capacity: %w", err)
	}
	if !resp.Succeeded {
		got := string(resp.Responses[0].GetResponseRange().Kvs[0].Value)
		if got != want {
			return nil, fmt.Errorf("%w: %s holds %s, this process asked for %d", ErrCapacityMismatch, capKey, got, capacity)
		}
	}
	s := &Semaphore{
		client:   client,
		prefix:   prefix,
		queue:    prefix + "queue/",
		capacity: capacity,
		ttl:      cfg.ttl,
		done:     make(chan struct{}),
	}
	s.dead, s.kill = context.WithCancelCause(context.Background())
	s.lease = s.newLease()
	if err := s.lease.ensure(ctx); err != nil {
		s.kill(ErrClosed)
		return nil, err
	}
	return s, nil
}

func (s *Semaphore) newLease() *lease {
	return newLease(s.client, s.ttl, &s.loops, s.leaseEnded)
}

// leaseEnded replaces l, once it has ended, by a fresh lease for the next
// Acquire: a Semaphore outlives the loss of a lease (a server paused, a
// network cut) and serves again once etcd answers.
func (s *Semaphore) leaseEnded(l *lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease == l && !s.closed {
		s.lease = s.newLease()
	}
}

// current returns the lease the next Acquire uses.
func (s *Semaphore) current() (*lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.lease.ctx.Err() != nil {
		s.lease = s.newLease()
	}
	return s.lease, nil
}

// Capacity returns the number of permits shared under the prefix.
func (s *Semaphore) Capacity() int64 { return s.capacity }

// Lease returns a context that is done once the permits granted by an
// Acquire or TryAcquire that begins after Lease returns may have been lost,
// with a cause that wraps ErrLeaseLost (or is ErrClosed after Close). It
// ends 3/4 TTL after the last keep-alive etcd acknowledged was sent, so
// before the server can expire the lease and hand the permits to someone
// else: holders have TTL/4 to stop.
//
// After a lease is lost the Semaphore makes a new one for the next Acquire,
// and Lease returns the new lease's context from then on.
func (s *Semaphore) Lease() context.Context {
	l, err := s.current()
	if err != nil {
		return s.dead
	}
	return l.ctx
}

// Acquire takes w permits, blocking until they are granted, ctx is done, the
// lease is lost or the Semaphore is closed. It returns nil when the caller
// holds the w permits and must Release them. Grants follow the order in
// which Acquire calls reached etcd, across every process (SEM1).
//
// If ctx is done first, Acquire deletes its waiter key and returns an error
// that matches ctx.Err() and context.Cause(ctx) (SEM2); a waiter that cannot
// reach etcd to delete its key gives up the lease instead (the server then
// deletes the key within one TTL), so Acquire may return up to 3/4 TTL after
// ctx is done while etcd does not answer.
func (s *Semaphore) Acquire(ctx context.Context, w int64) error {
	g, err := s.AcquireGrant(ctx, w)
	if err != nil {
		return err
	}
	s.hold(g)
	return nil
}

// TryAcquire takes w permits if it can without waiting behind anyone, and
// reports whether it did. It makes one round trip to etcd, bounded by the
// TTL, and returns false if etcd does not answer (SEM1, SEM3).
func (s *Semaphore) TryAcquire(w int64) bool {
	g, ok := s.TryAcquireGrant(w)
	if ok {
		s.hold(g)
	}
	return ok
}

func (s *Semaphore) hold(g *Grant) {
	if g.Weight == 0 {
		return
	}
	s.mu.Lock()
	s.held = append(s.held, holding{key: g.Key, token: g.Token, w: g.Weight, lease: g.lease})
	s.mu.Unlock()
}

// Release gives back w permits taken by Acquire or TryAcquire: it deletes
// (or, for part of a grant, shrinks) their keys in etcd before it returns,
// so the next in line may be granted. It panics if w is negative or more
// than those calls hold (SEM3). Permits held under a lease that has ended go
// first, without a round trip (the server deleted them); which of the others
// goes is unspecified: use AcquireGrant and Grant.Release to release one
// grant in particular.
func (s *Semaphore) Release(w int64) {
	if w < 0 {
		panic("etcdlimit: Release with negative weight")
	}
	if w == 0 {
		return
	}
	s.mu.Lock()
	var total int64
	for _, h := range s.held {
		total += h.w
	}
	if w > total {
		s.mu.Unlock()
		panic("etcdlimit: released more than held")
	}
	// Permits are not interchangeable across leases. Holdings under a lease
	// that has ended go first: their holders were told to stop, and no key
	// of theirs is left to delete. Were a live key deleted while a holder of
	// a lost lease releases, the live key's holder would run on without its
	// permit. Taken in this order, the live keys never count fewer permits
	// than the holders under live leases still running.
	var todo []holding // keys to shrink to w, or delete when w is 0
	for _, dead := range []bool{true, false} {
		take := func(i int) {
			h := s.held[i]
			s.held = append(s.held[:i], s.held[i+1:]...)
			w -= h.w
			h.w = 0
			todo = append(todo, h)
		}
		for i := len(s.held) - 1; i >= 0 && w > 0; i-- { // an exact match first
			if h := s.held[i]; h.w == w && (h.lease.ctx.Err() != nil) == dead {
				take(i)
			}
		}
		for i := len(s.held) - 1; i >= 0 && w > 0; i-- {
			h := &s.held[i]
			if (h.lease.ctx.Err() != nil) != dead {
				continue
			}
			if h.w > w {
				h.w -= w
				todo = append(todo, *h)
				w = 0
				break
			}
			take(i)
		}
	}
	s.mu.Unlock()
	for _, h := range todo {
		s.remove(h.lease, h.key, h.token, h.w)
	}
}

// Close revokes the lease: every permit this Semaphore holds returns to the
// shared pool at once and its Lease context ends with cause ErrClosed. Every
// waiting Acquire returns ErrClosed, later ones too, and TryAcquire returns
// false; Release still works (it has nothing left to delete). Close is
// idempotent; it returns the error of the revoke, if any (the lease then
// expires within one TTL).
func (s *Semaphore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	l := s.lease
	s.mu.Unlock()
	s.kill(ErrClosed)
	err := l.close(ErrClosed)
	s.loops.Wait()
	return err
}

// remove deletes key (keep == 0) or shrinks it to keep permits, if its lease
// is still alive. If etcd cannot be told within the TTL, the lease is given
// up so that the server deletes the key when it expires: a key must never
// outlive its use, or the permits it stands for would be lost for good.
func (s *Semaphore) remove(l *lease, key string, token, keep int64) {
	if l.ctx.Err() != nil {
		return // the key goes with the lease
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.ttl)
	defer cancel()
	for {
		// Each try has TTL/4: a request stuck on a member that lost its
		// leader is tried again (on another member, or after the election)
		// rather than waited for. Both writes can be repeated safely.
		try, cancelTry := context.WithTimeout(ctx, max(l.ttl/4, 500*time.Millisecond))
		var err error
		if keep == 0 {
			_, err = s.client.Delete(try, key)
		} else {
			_, err = s.client.Txn(try).
				If(clientv3.Compare(clientv3.CreateRevision(key), "=", token)).
				Then(clientv3.OpPut(key, strconv.FormatInt(keep, 10), clientv3.WithIgnoreLease())).
				Commit()
		}
		cancelTry()
		if err == nil || l.ctx.Err() != nil {
			return
		}
		if ctx.Err() != nil || s.client.Ctx().Err() != nil {
			l.abandon(fmt.Errorf("%w: could not remove %s: %v", ErrLeaseLost, key, err))
			return
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// Stats is a snapshot of the shared queue, read from etcd.
type Stats struct {
	Capacity int64 // permits shared under the prefix
	InUse    int64 // permits granted, in every process
	Waiters  int   // Acquire calls queued behind them, in every process
}

// Stats reads the queue from etcd.
func (s *Semaphore) Stats(ctx context.Context) (Stats, error) {
	resp, err := s.client.Get(ctx, s.queue, clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Capacity: s.capacity}
	for _, kv := range resp.Kvs {
		w, ok := weight(kv.Value)
		switch {
		case !ok:
		case st.Waiters == 0 && st.InUse+w <= s.capacity:
			st.InUse += w
		default:
			st.Waiters++
		}
	}
	return st, nil
}

func weight(v []byte) (int64, bool) {
	w, err := strconv.ParseInt(string(v), 10, 64)
	return w, err == nil && w >= 0
}

func ctxErr(ctx context.Context) error { return cause.Of(ctx) }

var (
	_ semaphore.Limiter = (*Semaphore)(nil)
	_ semaphore.Leased  = (*Semaphore)(nil)
)
