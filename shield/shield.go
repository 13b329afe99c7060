package shield

import (
	"context"
	"errors"
	"time"
)

// Do calls fn once, in the calling goroutine, with a context that carries
// ctx's values but neither its cancellation nor its deadline, and that
// expires d from now (SH1). fn runs even when ctx is already done. d <= 0
// panics (SH2). Do returns fn's error; an error fn returns after d has passed
// also matches context.DeadlineExceeded and names d (SH2). A panic in fn goes
// on to Do's caller (SH4).
func Do(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error {
	if d <= 0 {
		panic(badDuration("Do", d))
	}
	if ctx == nil {
		panic("shield: Do called with a nil context; pass context.Background() or the caller's context")
	}
	if fn == nil {
		panic("shield: Do called with a nil fn")
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	err := fn(sctx)
	if err != nil && sctx.Err() != nil {
		// SH2: nothing but the shield's own timer can end sctx before
		// cancel, so this error came after the shield's deadline.
		err = &deadlineError{d: d, err: err}
	}
	return err
}

// Cleanup is Do for a deferred call (SH3):
//
//	defer shield.Cleanup(ctx, 2*time.Second, &err, tx.Rollback)
//
// It runs fn as Do does and joins fn's error into *errp with errors.Join,
// after the error already there. When *errp is nil, it becomes fn's error
// itself; when fn returns nil, *errp is left as it is. A nil errp or d <= 0
// panics before fn runs.
func Cleanup(ctx context.Context, d time.Duration, errp *error, fn func(ctx context.Context) error) {
	if errp == nil {
		panic("shield: Cleanup with a nil errp: pass the address of the function's named error result")
	}
	if d <= 0 {
		panic(badDuration("Cleanup", d))
	}
	if ctx == nil {
		panic("shield: Cleanup called with a nil context; pass context.Background() or the caller's context")
	}
	err := Do(ctx, d, fn)
	switch {
	case err == nil:
	case *errp == nil:
		*errp = err
	default:
		*errp = errors.Join(*errp, err)
	}
}

// Context returns a context that carries ctx's values but neither its
// cancellation nor its deadline, and that expires d from now (SH1); d <= 0
// panics (SH2). Call the CancelFunc when the protected work is done, as with
// context.WithTimeout.
func Context(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		panic(badDuration("Context", d))
	}
	if ctx == nil {
		panic("shield: Context called with a nil context; pass context.Background() or the caller's context")
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

func badDuration(fn string, d time.Duration) string {
	return "shield: " + fn + " with a non-positive duration " + d.String() + ": every shield needs a bound"
}

// deadlineError is fn's error returned after the shield's deadline (SH2).
type deadlineError struct {
	d   time.Duration
	err error
}

func (e *deadlineError) Error() string {
	return "shield: timed out after " + e.d.String() + ": " + e.err.Error()
}

// Unwrap returns context.DeadlineExceeded, then fn's error.
func (e *deadlineError) Unwrap() []error { return []error{context.DeadlineExceeded, e.err} }

// Timeout reports true.
func (e *deadlineError) Timeout() bool { return true }
