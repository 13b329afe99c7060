package timeout

import (
	"context"
	"time"
)

// Call runs fn, a blocking function that takes no context, in a goroutine of
// its own (TO6). When fn returns before ctx is done and before d has passed,
// Call returns fn's value and error unchanged. Otherwise Call returns at once,
// with T's zero value and an error matching ErrAbandoned (and ErrTimeout when
// d ran out, or ctx's Err and cause when ctx ended first), and the goroutine
// runs on, counted by Abandoned, until fn returns.
//
// fn is started even when ctx is already done or d <= 0, and is then
// abandoned at once. Panics and runtime.Goexit in fn are handled as with
// Grace: raised again in the caller before abandonment, logged after.
//
// Call is the last resort for code that cannot be cancelled: the work goes on
// after Call returned, so bound how many such calls can be in flight with
// WithLimiter (SV6), whose permit an abandoned goroutine keeps until fn
// returns. With a limiter, fn starts only once it holds a permit: not at all
// when ctx is done or d runs out first. Grace does not apply to Call.
func Call[T any](ctx context.Context, d time.Duration, fn func() (T, error), opts ...Option) (T, error) {
	if fn == nil {
		panic("timeout: Call with a nil fn")
	}
	if ctx == nil {
		panic("timeout: Call called with a nil context; pass context.Background() or the caller's context")
	}
	o := collect(opts)
	start := time.Now()
	child, cancel := context.WithDeadlineCause(ctx, start.Add(d), errDeadline)
	defer cancel()
	var zero T
	if err := o.acquire(child); err != nil { // SV6: fn never starts
		return zero, named(ctx, child, start, d, err)
	}
	if child.Err() != nil {
		// ctx was done, or d ran out, before fn could start: fn has lost
		// already (a select would let a quick fn win now and then).
		launchAbandoned("Call", o, fn)
		return zero, abandonment(ctx, child, start, "Call", d, 0)
	}
	f := launch("Call", o, fn)

	select {
	case <-f.done:
	case <-child.Done():
		if f.abandon() {
			return zero, abandonment(ctx, child, start, "Call", d, 0)
		}
		<-f.done
	}
	return f.result()
}
