package timeout

import "time"

// An Option changes how WaitFor and WaitForValue wait. The zero Option
// changes nothing.
type Option struct {
	grace    time.Duration
	hasGrace bool
}

// collect merges opts; a later option wins.
func collect(opts []Option) Option {
	var o Option
	for _, opt := range opts {
		if opt.hasGrace {
			o.grace, o.hasGrace = opt.grace, true
		}
	}
	return o
}

// Grace makes WaitFor run fn in a goroutine of its own and stop waiting for
// it g after fn's context ended (TO5). fn that returns by then is treated as
// without Grace. fn that does not is abandoned: WaitFor returns an error
// matching ErrAbandoned, and the goroutine runs on, counted by Abandoned,
// until fn returns. A negative g counts as 0: abandon as soon as the context
// ends.
//
// A panic in fn before it is abandoned is raised again in WaitFor's caller,
// as an error whose message holds the panic's value and the stack of fn's
// goroutine at the panic (errors.Is and errors.As reach the value when it is
// an error); a runtime.Goexit in fn is carried out in the caller too. A panic
// after abandonment has nobody to go to: it is recovered and logged with
// slog.Default at level Error, with its stack.
//
// Use Grace for functions that may ignore their context; a function that
// honours it does not need a goroutine.
func Grace(g time.Duration) Option { return Option{grace: max(g, 0), hasGrace: true} }
