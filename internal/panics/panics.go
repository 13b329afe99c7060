// Package panics carries a recovered panic to another goroutine without losing
// where it happened: the value passed to panic and the stack of the goroutine
// that panicked, captured while that stack still holds the panicking frames.
//
// taskgroup uses it to bring a task's panic home to Wait; timeout uses it to
// re-raise a panic from the goroutine that Grace or Call started.
package panics

import (
	"fmt"
	"runtime/debug"
)

// Error is a recovered panic: its value and the stack of the goroutine that
// panicked.
type Error struct {
	Value any    // what was passed to panic
	Stack []byte // the stack of the panicking goroutine, captured at the panic
}

// Capture records v, a value recover just returned, with the stack of the
// current goroutine. Call it from the deferred function that recovered v: the
// stack is then still the one that panicked, with the panicking frames on top.
func Capture(v any) *Error {
	return &Error{Value: v, Stack: debug.Stack()}
}

// Error returns the panic's value and the stack of the goroutine that
// panicked, so that a message that reaches a log or a crash report still says
// where it happened.
func (e *Error) Error() string {
	return fmt.Sprintf("panic: %v\n\ngoroutine stack at the panic:\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic's value when it is an error, so errors.Is and
// errors.As reach it; otherwise nil.
func (e *Error) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Run calls fn and then calls report exactly once, with how fn ended:
//   - fn returned: report(nil, false);
//   - fn panicked: report(p, false), p holding the value and the stack; the
//     panic is recovered and goes no further;
//   - fn called runtime.Goexit: report(nil, true), after which the goroutine
//     goes on exiting (Goexit cannot be stopped), so Run does not return.
//
// A panic(nil) reaches report as a *runtime.PanicNilError value, never as a
// Goexit.
func Run(fn func(), report func(p *Error, goexit bool)) {
	returned := false
	defer func() {
		if returned {
			report(nil, false)
			return
		}
		if v := recover(); v != nil {
			report(Capture(v), false)
			return
		}
		report(nil, true)
	}()
	fn()
	returned = true
}
