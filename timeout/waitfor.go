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
// fn still runs, with a context that has already expired (TO4).
//
// With the Grace option, fn runs in a goroutine of its own and WaitFor stops
// waiting for it g after the context ended (TO5).
func WaitFor(ctx context.Context, d time.Duration, fn func(ctx context.Context) error, opts ...Option) error {
	if fn == nil {
		panic("timeout: WaitFor with a nil fn")
	}
	if len(opts) != 0 {
		return waitForOptions(ctx, d, fn, opts)
	}
	deadline := time.Now().Add(d)
	child, cancel := context.WithDeadlineCause(ctx, deadline, errDeadline)
	defer cancel()
	// TO1: fn runs here, in the caller's goroutine.
	err := fn(child)
	if err != nil {
		err = named(child, deadline, d, err)
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
	if len(opts) != 0 {
		if o := collect(opts); o.hasGrace {
			return waitGrace(ctx, d, o.grace, fn)
		}
	}
	deadline := time.Now().Add(d)
	child, cancel := context.WithDeadlineCause(ctx, deadline, errDeadline)
	defer cancel()
	v, err := fn(child)
	if err != nil {
		err = named(child, deadline, d, err)
	}
	return v, err
}

func waitForOptions(ctx context.Context, d time.Duration, fn func(ctx context.Context) error, opts []Option) error {
	o := collect(opts)
	if !o.hasGrace {
		return WaitFor(ctx, d, fn)
	}
	_, err := waitGrace(ctx, d, o.grace, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// named returns fn's non-nil error err wrapped in a *timeoutError when the
// deadline of child, the context WaitFor made, fired (TO3), and err unchanged
// when child is live or its parent ended it.
func named(child context.Context, deadline time.Time, d time.Duration, err error) error {
	if ownDeadlineFired(child, deadline) {
		return &timeoutError{d: d, err: err}
	}
	return err
}

// ownDeadlineFired reports whether child, made by
// context.WithDeadlineCause(parent, deadline, errDeadline), was ended by its
// own timer. The cause alone does not tell: an enclosing WaitFor's timer also
// cancels with errDeadline, and child inherits that cause. But when the
// parent's deadline is earlier than ours, WithDeadlineCause makes no timer of
// its own and child reports the parent's deadline; so the cause is ours only
// if child's deadline is the one we asked for.
func ownDeadlineFired(child context.Context, deadline time.Time) bool {
	if context.Cause(child) != errDeadline {
		return false
	}
	dl, _ := child.Deadline()
	return dl.Equal(deadline)
}

// Remaining returns how long is left until ctx's deadline, and true; or 0 and
// false when ctx has no deadline. Once the deadline has passed it returns 0
// and true, never a negative duration, so the result can be passed on as a
// budget (a WaitFor with d == 0 still runs fn, TO4).
func Remaining(ctx context.Context) (time.Duration, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return max(time.Until(dl), 0), true
}
