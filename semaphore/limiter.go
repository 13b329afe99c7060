package semaphore

import "context"

// A Limiter bounds how much work runs at once: Acquire waits for w permits,
// TryAcquire takes them only if it need not wait, and Release gives them
// back. *Semaphore is the in-process Limiter; a limiter shared by many
// processes (say, one kept on etcd) is another. taskgroup.WithLimiter and
// timeout.WithLimiter accept any Limiter.
//
// An implementation keeps SEM2's promise: Acquire either returns nil holding
// the permits or an error holding none, and a context done before the grant
// makes it fail with an error that matches ctx.Err() and context.Cause(ctx).
type Limiter interface {
	Acquire(ctx context.Context, w int64) error
	TryAcquire(w int64) bool
	Release(w int64)
}

// Leased is implemented by a Limiter whose permits are held under a lease
// that can be lost: the lease of a distributed limiter expires when its
// process is cut off from the server for too long, and the permits it held
// then count for other processes again. *Semaphore never loses a permit and
// does not implement it.
//
// Lease returns a context that is done once the permits granted by any
// Acquire or TryAcquire that began after Lease returned may have been lost;
// its cause (context.Cause) says why. Code holding such permits stops using
// what they guard when it is done: taskgroup cancels the tasks that hold
// them, with that cause.
type Leased interface {
	Limiter
	Lease() context.Context
}

var _ Limiter = (*Semaphore)(nil)
