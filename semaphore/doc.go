// Package semaphore provides a weighted semaphore: Semaphore hands out up to
// a capacity of permits, and callers ask for any number of them at once. It
// is golang.org/x/sync/semaphore.Weighted with the awkward cases decided: it
// can be resized and closed, a request larger than the capacity fails instead
// of hanging forever, and a blocked Acquire allocates nothing.
//
//	sem := semaphore.New(8) // say, 8 CPU-heavy jobs at once
//	if err := sem.Acquire(ctx, 2); err != nil {
//		return err // ctx is done, the semaphore closed, or 2 > capacity
//	}
//	defer sem.Release(2)
//
// # Which one do I use
//
// Use a Semaphore to bound work of varying weight (bytes in flight, CPU-heavy
// jobs counted by cost); to bound the tasks of one task group, use
// taskgroup.WithLimit; to share one bound among many groups, pass a
// Semaphore to taskgroup.WithSemaphore. Limiter is the interface those
// accept, which a limit shared by many processes implements too; Leased is
// a Limiter whose permits can be lost.
//
// # Guarantees
//
// These rules hold for every method; the tests that check them carry the
// rule's name.
//
// SEM1, fairness: permits are granted in the order Acquire calls arrived,
// with no barging. A waiter at the head of the queue that does not fit blocks
// those behind it, even those that would fit, so a large request is never
// starved by a stream of small ones. TryAcquire of one permit or more fails while anyone waits.
//
// SEM2, cancel safety: a permit is never lost. If ctx is done before the
// permits are granted, Acquire fails, even when permits are free; its error
// matches both ctx.Err() and context.Cause(ctx) under errors.Is. A waiter that
// leaves the queue wakes the waiters behind it that now fit. When a grant and
// a cancellation race, the grant decides: Release checks each waiter's
// context at the moment it would grant, so a waiter is granted only while its
// context is not done, and a granted Acquire returns nil holding the permits
// even if its context is done by the time it returns. Either Acquire returns
// nil and the caller holds the permits, or it returns an error and the
// permits went to the next in line.
//
// SEM3, bad input: a clear error or panic, never a hang. Acquire of more than
// the capacity returns ErrTooLarge at once, and TryAcquire returns false. A
// negative weight, a Release of more than is held, and New or Resize below
// zero panic with a message that starts "semaphore: ", and leave the
// semaphore as it was. A weight of 0 takes nothing and passes no one: Acquire
// returns nil at once unless ctx is done or the semaphore is closed, and
// TryAcquire returns true unless the semaphore is closed.
//
// SEM4, resize: Resize grants, in order, the waiters that fit under a larger
// capacity. Shrinking revokes nothing: Stats().InUse may exceed the capacity
// until releases bring it down, and no one is granted meanwhile. Waiters that
// ask for more than the new capacity fail with ErrTooLarge.
//
// SEM5, close: Close makes every waiting Acquire return ErrClosed; later
// Acquire calls return ErrClosed and TryAcquire false. Release still works, so
// holders can give their permits back. Close is idempotent.
//
// When a call meets more than one of these cases, the first in this list
// decides: a negative weight panics; a done context fails (SEM2); a closed
// semaphore returns ErrClosed (SEM5); a weight of 0 succeeds; a weight above
// the capacity returns ErrTooLarge (SEM3).
//
// # Testing with synctest
//
// Every wait is a channel operation, never a long wait on a mutex nor a spin
// loop, so a blocked Acquire is durably blocked inside a testing/synctest
// bubble, and the bubble's fake clock drives the contexts it waits on.
// The free list of waiters belongs to each Semaphore, not to the package
// (there is no package-level pool a bubble could share): a Semaphore made in
// one bubble must not be used in another.
//
// # Performance
//
// An Acquire or Release that neither waits nor wakes anyone is one
// compare-and-swap on an atomic word, with no lock. Release hands the permits
// to the head waiter directly and signals its channel; the waiter returns
// without taking the lock. Waiters and their channels are reused, so after the
// first few waits nothing is allocated.
package semaphore
