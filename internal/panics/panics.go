// Package panics runs a function and reports how it ended: returned,
// panicked (with the value and the stack, as a public *panics.Error) or
// called runtime.Goexit.
//
// timeout uses it to re-raise a panic from the goroutine that Grace or Call
// started.
package panics

import "github.com/leash-go/leash/panics"

// Error is the public panics.Error.
type Error = panics.Error

// Capture is panics.Capture.
func Capture(v any) *Error { return panics.Capture(v) }

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
