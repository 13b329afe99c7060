package timeout

import (
	"context"
	"time"
)

var (
	// ErrTimeout reports that a timeout of this package ran out. It matches
	// context.DeadlineExceeded under errors.Is, and its Timeout method reports
	// true, as net.Error's does. The errors of TO3 and TO5 match it.
	ErrTimeout error = &sentinel{msg: "timeout: deadline exceeded", parent: context.DeadlineExceeded}

	// ErrAbandoned reports that WaitFor (with Grace) or Call stopped waiting
	// for a goroutine that had not returned, and left it running. It matches
	// ErrTimeout under errors.Is. An error returned for an abandoned goroutine
	// always matches ErrAbandoned; it matches ErrTimeout when the call's own
	// deadline fired, and otherwise the parent context's error and cause
	// (TO5, ALL3), which are a timeout only if the parent's were.
	ErrAbandoned error = &sentinel{msg: "timeout: abandoned a goroutine that is still running", parent: ErrTimeout}

	// errDeadline is the cause of the context that WaitFor and Call give fn
	// when their own deadline fires. It is unexported so that no other
	// cancellation can carry it: seeing it (and ruling out an enclosing
	// WaitFor's, see ownDeadlineFired) means this call's timer fired first.
	errDeadline error = &sentinel{msg: "timeout: deadline exceeded", parent: ErrTimeout}
)

// sentinel is an error value that wraps a more general one.
type sentinel struct {
	msg    string
	parent error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.parent }
func (e *sentinel) Timeout() bool { return true }

// timeoutError is the error of TO3: fn failed after the call's own deadline.
type timeoutError struct {
	d   time.Duration
	err error // what fn returned
}

func (e *timeoutError) Error() string {
	return "timeout: timed out after " + e.d.String() + ": " + e.err.Error()
}

// Unwrap returns ErrTimeout (and through it context.DeadlineExceeded), then
// fn's error.
func (e *timeoutError) Unwrap() []error { return []error{ErrTimeout, e.err} }

// Timeout reports true.
func (e *timeoutError) Timeout() bool { return true }

// abandonedError is the error of TO5 and TO6: the goroutine running fn was
// left running.
type abandonedError struct {
	what     string        // "WaitFor" or "Call"
	d        time.Duration // the call's timeout
	grace    time.Duration // how long after the context ended we waited
	timedOut bool          // the call's own deadline fired
	ctxErr   error         // when !timedOut: the parent's Err joined with its cause
}

func (e *abandonedError) Error() string {
	s := "timeout: " + e.what + " abandoned fn, still running "
	switch {
	case e.timedOut && e.grace > 0:
		return s + e.grace.String() + " after its " + e.d.String() + " timeout"
	case e.timedOut:
		return s + "at its " + e.d.String() + " timeout"
	case e.grace > 0:
		return s + e.grace.String() + " after its context ended: " + e.ctxErr.Error()
	default:
		return s + "when its context ended: " + e.ctxErr.Error()
	}
}

// Is reports whether target is ErrAbandoned: every abandonment matches it,
// also one caused by the parent context, which does not match ErrTimeout.
func (e *abandonedError) Is(target error) bool { return target == ErrAbandoned }

// Unwrap returns ErrAbandoned (and through it ErrTimeout and
// context.DeadlineExceeded) when the call's own deadline fired, and otherwise
// the error of the parent context (its Err and its cause).
func (e *abandonedError) Unwrap() error {
	if e.timedOut {
		return ErrAbandoned
	}
	return e.ctxErr
}

// Timeout reports whether the call's own deadline fired.
func (e *abandonedError) Timeout() bool { return e.timedOut }
