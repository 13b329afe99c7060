package timeout

import (
	"context"
	"time"
)

// WaitFor calls fn once, in the calling goroutine, with a child of ctx whose
// deadline is the earlier of ctx's and now+d, and returns after fn has
// returned (TO1). It returns nil when fn does, however late (TO2). When fn
// returns an error after WaitFor's own deadline fired, the error matches
// ErrTimeout, context.DeadlineExceeded and fn's error, and its message names
// d; when ctx ended first, fn's error is returned unchanged (TO3). With d <= 0,
// fn still runs, with a context that has already expired (TO4). A panic in fn
// goes up the caller's stack as any other, and the child context is released.
//
// With the Grace option, fn runs in a goroutine of its own and WaitFor stops
// waiting for it g after the context ended (TO5).
func WaitFor(ctx context.Context, d time.Duration, fn func(ctx context.Context) error, opts ...Option) error {
	if fn == nil {
		panic("timeout: WaitFor with a nil fn")
	}
	if ctx == nil {
		panic("timeout: WaitFor called with a nil context; pass context.Background() or the caller's context")
	}
	var o Option
	if len(opts) != 0 {
		if o = collect(opts); o.hasGrace {
			_, err := waitGrace(ctx, d, o, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, fn(ctx)
			})
			return err
		}
	}
	// WaitFor repeats WaitForValue's body rather than calling it with a
	// wrapper: the wrapper closure would cost an allocation on every call
	// (BenchmarkWaitFor).
	start := time.Now()
	child, cancel := context.WithDeadlineCause(ctx, start.Add(d), errDeadline)
	defer cancel()
	if err := o.acquire(child); err != nil { // SV6
		return named(ctx, child, start, d, err)
	}
	defer o.release()
	// TO1: fn runs here, in the caller's goroutine.
	err := fn(child)
	if err != nil {
		err = named(ctx, child, start, d, err)
	}
	return err
}

// WaitForValue is WaitFor for a function that also returns a value. It
// returns the value as fn returned it, also together with an error (the
// error shaped as WaitFor's); only when Grace abandons fn is it T's zero
// value.
func WaitForValue[T any](ctx context.Context, d time.Duration, fn func(ctx context.Context) (T, error), opts ...Option) (T, error) {
	if fn == nil {
		panic("timeout: WaitForValue with a nil fn")
	}
	if ctx == nil {
		panic("timeout: WaitForValue called with a nil context; pass context.Background() or the caller's context")
	}
	var o Option
	if len(opts) != 0 {
		if o = collect(opts); o.hasGrace {
			return waitGrace(ctx, d, o, fn)
		}
	}
	start := time.Now()
	child, cancel := context.WithDeadlineCause(ctx, start.Add(d), errDeadline)
	defer cancel()
	if err := o.acquire(child); err != nil { // SV6
		var zero T
		return zero, named(ctx, child, start, d, err)
	}
	defer o.release()
	v, err := fn(child)
	if err != nil {
		err = named(ctx, child, start, d, err)
	}
	return v, err
}

// named returns fn's non-nil error err wrapped in a *timeoutError when
// child, the context made at start for a call with duration d, was ended by
// its own deadline (TO3), and err unchanged when child is live or its parent
// ended it.
func named(parent, child context.Context, start time.Time, d time.Duration, err error) error {
	if ownDeadlineFired(parent, child, start, d) {
		return &timeoutError{d: d, err: err}
	}
	return err
}

// ownDeadlineFired reports whether child, made at start by
// context.WithDeadlineCause(parent, start.Add(d), errDeadline), was ended by
// its own deadline rather than by parent. The cause alone does not tell: an
// enclosing WaitFor's timer also cancels with errDeadline, and child inherits
// that cause. But when parent's deadline is earlier than ours,
// WithDeadlineCause makes no timer of its own and child reports parent's
// deadline; and when parent's deadline had passed before the call, parent
// ended first even if ours is earlier still.
func ownDeadlineFired(parent, child context.Context, start time.Time, d time.Duration) bool {
	if context.Cause(child) != errDeadline {
		return false
	}
	if dl, _ := child.Deadline(); !dl.Equal(start.Add(d)) {
		return false
	}
	pd, ok := parent.Deadline()
	return !ok || pd.After(start)
}

// Remaining returns how long is left until ctx's deadline, and true; or 0 and
// false when ctx has no deadline. Once the deadline has passed it returns 0
// and true, never a negative duration, so the result can be passed on as a
// budget (a WaitFor with d == 0 still runs fn, TO4).
func Remaining(ctx context.Context) (time.Duration, bool) {
	if ctx == nil {
		panic("timeout: Remaining called with a nil context; pass context.Background() or the caller's context")
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return max(time.Until(dl), 0), true
}
