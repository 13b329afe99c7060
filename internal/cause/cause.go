// Package cause builds the errors leash returns for a cancelled context, so
// that they match both ctx.Err() and context.Cause(ctx) under errors.Is (rule
// ALL3 of DESIGN.md).
package cause

import (
	"context"
	"errors"
)

// Of returns the error that stands for ctx's cancellation, or nil while ctx is
// not done. The error matches ctx.Err() (context.Canceled or
// context.DeadlineExceeded) and context.Cause(ctx) under errors.Is. When the
// cause already matches ctx.Err() (or is ctx.Err()), the cause itself is
// returned; otherwise an *Error that joins the two.
func Of(ctx context.Context) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	return join(err, context.Cause(ctx))
}

// join returns an error that matches both err (a context's Err) and cause
// under errors.Is: cause itself when it already matches err, err when cause is
// nil, otherwise an *Error holding both.
func join(err, cause error) error {
	if cause == nil || errors.Is(cause, err) {
		if cause == nil {
			return err
		}
		return cause
	}
	return &Error{Err: err, Cause: cause}
}

// Error is a context's error together with the cause it was cancelled with.
type Error struct {
	Err   error // context.Canceled or context.DeadlineExceeded
	Cause error // what context.Cause reported
}

// Error reads like "context canceled: <cause>".
func (e *Error) Error() string { return e.Err.Error() + ": " + e.Cause.Error() }

// Unwrap returns the context's error and then the cause.
func (e *Error) Unwrap() []error { return []error{e.Err, e.Cause} }
