package semaphore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/leash-go/leash/internal/cause"
)

var (
	// ErrClosed is returned by Acquire once the semaphore is closed, and by
	// every Acquire that was waiting when Close was called (SEM5).
	ErrClosed = errors.New("semaphore: closed")

	// ErrTooLarge is returned by Acquire when it asks for more permits than
	// the capacity, at once rather than blocking forever; and by an Acquire
	// still waiting when Resize makes the capacity smaller than its request
	// (SEM3, SEM4).
	ErrTooLarge = errors.New("semaphore: request larger than capacity")
)

// slow is the value of Semaphore.free while the fast path is shut.
const slow = -1

// Semaphore is a weighted semaphore: it hands out up to Capacity permits,
// to waiters in the order they asked (SEM1). Unlike
// golang.org/x/sync/semaphore.Weighted it can be resized and closed, fails a
// request larger than its capacity instead of hanging, and does not allocate
// per waiter.
//
// The zero Semaphore has capacity 0; use New. A Semaphore must not be copied
// after first use, nor shared between testing/synctest bubbles (its waiters'
// channels belong to the bubble that made them).
type Semaphore struct {
	// free is the lock-free fast path. While it is >= 0, nobody waits, the
	// semaphore is open, and free is the number of unused permits: Acquire
	// and Release take or give back permits with one compare-and-swap. While
	// it is slow, the fields under mu are the truth and every caller takes
	// mu. Only lock (fast to slow) and unlock (slow to fast) switch, both
	// with mu held.
	free atomic.Int64
	// capacity is written with mu held; Release's fast path reads it without.
	capacity atomic.Int64

	mu     sync.Mutex
	inUse  int64   // permits held; the truth while free is slow
	closed bool    // set by Close
	queue  queue   // waiting Acquires, oldest first
	spare  *waiter // free list of waiters
	// returned holds waiters given back, without mu, by Acquires done with
	// them; newWaiter moves them to spare.
	returned atomic.Pointer[waiter]
}

// Stats is a snapshot of a Semaphore.
type Stats struct {
	Capacity int64 // permits the semaphore hands out, as set by New or Resize
	InUse    int64 // permits held; above Capacity after a shrink, until enough are released (SEM4)
	Waiters  int   // Acquire calls blocked right now
}

// New returns an open semaphore with capacity permits, all free. It panics if
// capacity is negative (SEM3).
func New(capacity int64) *Semaphore {
	if capacity < 0 {
		panic("semaphore: New with negative capacity")
	}
	s := &Semaphore{}
	s.capacity.Store(capacity)
	s.free.Store(capacity)
	return s
}

// Acquire takes w permits, blocking until they are granted, ctx is done or
// the semaphore is closed. It returns nil when the caller holds the w permits
// and must Release them.
//
// Grants follow arrival order: Acquire waits while anyone who came earlier
// waits, even if w permits are free (SEM1). If ctx is done before the grant,
// Acquire fails with an error that matches both ctx.Err() and
// context.Cause(ctx) under errors.Is, even when permits are free; a grant
// made first stands, and Acquire returns nil with the permits even if ctx is
// done by the time it returns (SEM2). It returns ErrTooLarge at once when w
// exceeds the capacity, and ErrClosed after Close (SEM3, SEM5). A w of 0
// returns nil at once unless ctx is done or the semaphore closed. Acquire
// panics if w is negative.
func (s *Semaphore) Acquire(ctx context.Context, w int64) error {
	// Fast path: nobody waits, w permits are free and ctx is not done; no
	// lock, no loop, one compare-and-swap. ctx.Err is a single atomic load
	// for the standard contexts, cheaper than receiving from ctx.Done, and is
	// asked only when the permits are there. The interface call to ctx.Err
	// puts Acquire over the inliner's budget (go build -gcflags=-m=2); the
	// slow path still lives apart so that this one stays small.
	if f := s.free.Load(); w > 0 && f >= w && ctx != nil && ctx.Err() == nil && s.free.CompareAndSwap(f, f-w) {
		return nil
	}
	return s.acquireSlow(ctx, w)
}

func (s *Semaphore) acquireSlow(ctx context.Context, w int64) error {
	if ctx == nil {
		panic("semaphore: Acquire called with a nil context; pass context.Background() or the caller's context")
	}
	if w < 0 {
		panic("semaphore: Acquire with negative weight")
	}
	if err := cause.Of(ctx); err != nil {
		return err // SEM2: done before the grant, even if permits are free
	}
	if w == 0 { // SEM3: nothing to wait for
		if s.isOpen() {
			return nil
		}
		return ErrClosed
	}
	if s.take(w) {
		return nil
	}

	// Asked for here, not under mu: Done runs the context's code, and a
	// cancelCtx makes its channel on the first call.
	done := ctx.Done()
	s.lock()
	switch {
	case s.closed:
		s.unlock()
		return ErrClosed // SEM5
	case w > s.capacity.Load():
		s.unlock()
		return ErrTooLarge // SEM3: it would never fit; do not block those behind
	case s.queue.len == 0 && w <= s.capacity.Load()-s.inUse:
		s.inUse += w
		s.unlock()
		return nil
	}
	wt := s.newWaiter(w, done)
	s.queue.push(wt)
	s.unlock()

	select {
	case <-wt.ready:
		return s.woken(ctx, wt)
	case <-done: // nil, and so never ready, for a context that cannot be done
		return s.leave(ctx, wt)
	}
}

// woken returns the outcome a granter, Resize or Close handed to wt.
func (s *Semaphore) woken(ctx context.Context, wt *waiter) error {
	err := wt.err
	s.recycle(wt)
	if err == errCancelled {
		return cause.Of(ctx)
	}
	return err
}

// leave runs when ctx is done while wt waits. If wt is still queued it leaves
// the queue and fails. If it was taken off the queue first, its outcome stands
// (SEM2): the grant loop checks the waiter's context before granting, so a
// granted waiter was granted before ctx was done, and keeps its permits.
func (s *Semaphore) leave(ctx context.Context, wt *waiter) error {
	s.lock()
	select {
	case <-wt.ready:
		// Whoever took wt off the queue signalled it, with mu held: it is
		// no longer queued, and its outcome stands.
		s.unlock()
		return s.woken(ctx, wt)
	default:
	}
	s.queue.remove(wt)
	s.grant() // SEM2: if wt was the head, the waiters behind it may fit now
	s.unlock()
	s.recycle(wt)
	return cause.Of(ctx)
}

// TryAcquire takes w permits if it can without waiting and reports whether
// it did. It fails while anyone waits (SEM1), when w exceeds the free permits
// or the capacity (SEM3), and after Close (SEM5). A w of 0 succeeds unless
// the semaphore is closed, as Acquire would. It panics if w is negative.
func (s *Semaphore) TryAcquire(w int64) bool {
	if f := s.free.Load(); w > 0 && f >= w && s.free.CompareAndSwap(f, f-w) {
		return true
	}
	return s.tryAcquireSlow(w)
}

func (s *Semaphore) tryAcquireSlow(w int64) bool {
	if w < 0 {
		panic("semaphore: TryAcquire with negative weight")
	}
	if w == 0 {
		return s.isOpen()
	}
	if s.take(w) {
		return true
	}
	// Fast path shut or too few free: decide under mu.
	s.lock()
	ok := !s.closed && s.queue.len == 0 && w <= s.capacity.Load()-s.inUse
	if ok {
		s.inUse += w
	}
	s.unlock()
	return ok
}

// Release gives back w permits and grants them to the waiters at the head of
// the queue that now fit, in order (SEM1). It works after Close (SEM5). It
// panics if w is negative or more than the permits held (SEM3), leaving the
// semaphore unchanged.
func (s *Semaphore) Release(w int64) {
	// Fast path: no one waits and w permits are held; one compare-and-swap.
	// The capacity check can be stale only when Release races Resize and
	// releases more than is held, already a caller's bug.
	if f := s.free.Load(); w > 0 && f >= 0 && w <= s.capacity.Load()-f && s.free.CompareAndSwap(f, f+w) {
		return
	}
	s.releaseSlow(w)
}

func (s *Semaphore) releaseSlow(w int64) {
	if w < 0 {
		panic("semaphore: Release with negative weight")
	}
	if w == 0 {
		return
	}
	// The fast path may have lost a race with another fast path: retry it
	// before taking mu.
	for f := s.free.Load(); f >= 0 && w <= s.capacity.Load()-f; f = s.free.Load() {
		if s.free.CompareAndSwap(f, f+w) {
			return
		}
	}
	s.lock()
	if w > s.inUse {
		s.unlock()
		panic("semaphore: released more than held")
	}
	s.inUse -= w
	s.grant()
	s.unlock()
}

// Resize sets the capacity. Growing grants the waiters that now fit, in
// order. Shrinking revokes nothing: InUse may exceed Capacity until releases
// bring it down, and no one is granted meanwhile; waiters that ask for more
// than the new capacity fail with ErrTooLarge (SEM4). Resize panics if
// capacity is negative (SEM3). Resizing a closed semaphore only changes its
// Stats.
func (s *Semaphore) Resize(capacity int64) {
	if capacity < 0 {
		panic("semaphore: Resize to negative capacity")
	}
	s.lock()
	s.capacity.Store(capacity)
	for wt := s.queue.head; wt != nil; {
		next := wt.next // read before wake: the woken Acquire may reuse wt
		if wt.w > capacity {
			s.queue.remove(wt)
			wt.wake(ErrTooLarge)
		}
		wt = next
	}
	s.grant()
	s.unlock()
}

// Close closes the semaphore: every waiting Acquire returns ErrClosed, later
// calls to Acquire return ErrClosed and TryAcquire false. Release still works,
// so holders can give back their permits. Close is idempotent (SEM5).
func (s *Semaphore) Close() {
	s.lock()
	s.closed = true
	for wt := s.queue.head; wt != nil; wt = s.queue.head {
		s.queue.remove(wt)
		wt.wake(ErrClosed)
	}
	s.unlock()
}

// Stats returns a snapshot of the capacity, the permits in use and the number
// of waiters, taken at one instant.
func (s *Semaphore) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	inUse := s.inUse
	if f := s.free.Load(); f >= 0 {
		inUse = s.capacity.Load() - f
	}
	return Stats{Capacity: s.capacity.Load(), InUse: inUse, Waiters: s.queue.len}
}

// grant hands permits to the waiters at the head of the queue while they fit.
// Called with mu held, after anything that may let the head in.
func (s *Semaphore) grant() {
	for wt := s.queue.head; wt != nil; wt = s.queue.head {
		if wt.done != nil && isDone(wt.done) {
			// SEM2: its context was done before this grant; it fails, and
			// the permits go to the next in line.
			s.queue.remove(wt)
			wt.wake(errCancelled)
			continue
		}
		if wt.w > s.capacity.Load()-s.inUse {
			return // SEM1: a head that does not fit blocks those behind it
		}
		s.inUse += wt.w
		s.queue.remove(wt)
		wt.wake(nil)
	}
}

// lock takes mu and shuts the fast path, folding its count into inUse.
func (s *Semaphore) lock() {
	s.mu.Lock()
	if f := s.free.Swap(slow); f != slow {
		s.inUse = s.capacity.Load() - f
	}
}

// unlock reopens the fast path when nobody waits, the semaphore is open and
// not over capacity, and releases mu.
func (s *Semaphore) unlock() {
	if !s.closed && s.queue.len == 0 {
		if f := s.capacity.Load() - s.inUse; f >= 0 {
			s.free.Store(f)
		}
	}
	s.mu.Unlock()
}

// take is the fast path's compare-and-swap, retried while w permits are free:
// the slow paths try it again before they take mu, in case the fast path only
// lost a race.
func (s *Semaphore) take(w int64) bool {
	for f := s.free.Load(); f >= w; f = s.free.Load() {
		if s.free.CompareAndSwap(f, f-w) {
			return true
		}
	}
	return false
}

// isOpen reports whether Close has not been called. An open fast path says so
// without taking mu.
func (s *Semaphore) isOpen() bool {
	if s.free.Load() >= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed
}

func isDone(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
