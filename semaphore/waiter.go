package semaphore

import "errors"

// A waiter is one blocked Acquire. Waiters are reused: each Semaphore keeps
// its own free list (ALL2), and a waiter's ready channel, of capacity 1, is
// made once and signalled once per use, so a blocked Acquire allocates
// nothing once the semaphore has seen as many waiters at once as now wait.
type waiter struct {
	w    int64           // permits asked for
	done <-chan struct{} // the Acquire's ctx.Done(); nil if it can never be done
	err  error           // the outcome, written before ready is signalled
	// ready has capacity 1. Whoever takes the waiter off the queue, other
	// than the waiting Acquire itself, signals it once, with mu held; so
	// under mu, a waiter whose ready is not yet signalled is still queued.
	ready chan struct{}
	// next and prev link the queue; next alone links the free lists.
	next, prev *waiter
}

// errCancelled tells a waiter that the grant loop found its context done
// before the grant (SEM2); the waiter returns cause.Of(ctx) instead, so this
// error never reaches a caller.
var errCancelled = errors.New("semaphore: context done before the grant")

// wake hands the waiter its outcome. The waiter must already be off the
// queue, and the caller must not touch it afterwards: the woken Acquire may
// recycle it at once.
func (wt *waiter) wake(err error) {
	wt.err = err
	wt.ready <- struct{}{} // never blocks: one signal per use, drained before reuse
}

// queue holds the waiters in arrival order (SEM1). Guarded by mu.
type queue struct {
	head, tail *waiter
	len        int
}

func (q *queue) push(wt *waiter) {
	wt.next, wt.prev = nil, q.tail
	if q.tail == nil {
		q.head = wt
	} else {
		q.tail.next = wt
	}
	q.tail = wt
	q.len++
}

func (q *queue) remove(wt *waiter) {
	if wt.prev == nil {
		q.head = wt.next
	} else {
		wt.prev.next = wt.next
	}
	if wt.next == nil {
		q.tail = wt.prev
	} else {
		wt.next.prev = wt.prev
	}
	wt.next, wt.prev = nil, nil
	q.len--
}

// newWaiter returns a waiter for w permits, from the free lists when they
// have one. Called with mu held.
func (s *Semaphore) newWaiter(w int64, done <-chan struct{}) *waiter {
	wt := s.spare
	if wt == nil {
		// Take everything granted Acquires gave back since the last time.
		wt = s.returned.Swap(nil)
	}
	if wt == nil {
		wt = &waiter{ready: make(chan struct{}, 1)}
	} else {
		s.spare = wt.next
	}
	wt.w, wt.done, wt.next = w, done, nil
	return wt
}

// recycle gives a waiter back without taking mu, so that a granted Acquire
// returns without touching the lock. Many goroutines push here but
// only newWaiter, under mu, takes from it, and it takes the whole stack at
// once, so the compare-and-swap cannot suffer ABA.
func (s *Semaphore) recycle(wt *waiter) {
	wt.done, wt.err = nil, nil
	for {
		head := s.returned.Load()
		wt.next = head
		if s.returned.CompareAndSwap(head, wt) {
			return
		}
	}
}
