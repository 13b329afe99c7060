package timeout

import (
	"context"
	"time"

	"github.com/leash-go/leash/semaphore"
)

// An Option changes how WaitFor, WaitForValue and Call run fn. The zero
// Option changes nothing.
type Option struct {
	grace    time.Duration
	hasGrace bool
	limiter  semaphore.Limiter
}

// collect merges opts; a later option wins.
func collect(opts []Option) Option {
	var o Option
	for _, opt := range opts {
		if opt.hasGrace {
			o.grace, o.hasGrace = opt.grace, true
		}
		if opt.limiter != nil {
			o.limiter = opt.limiter
		}
	}
	return o
}

// WithLimiter makes fn hold one permit of l while it runs (SV6), taken
// before fn starts, within the time WaitFor or Call allows. With Grace or
// Call, a goroutine that is abandoned keeps its permit until fn really
// returns: a stuck legacy client cannot multiply behind a timeout, as it
// would if the permit came back at the deadline. When no permit comes in
// time, fn does not run, and the error is that of the wait for the permit,
// matching ErrTimeout when the own deadline ran out (TO3). A nil l panics.
func WithLimiter(l semaphore.Limiter) Option {
	if l == nil {
		panic("timeout: WithLimiter(nil): pass a semaphore.Limiter, such as a *semaphore.Semaphore")
	}
	return Option{limiter: l}
}

// acquire takes the permit of o's limiter, if any, within child's time.
func (o Option) acquire(child context.Context) error {
	if o.limiter == nil {
		return nil
	}
	return o.limiter.Acquire(child, 1)
}

// release gives back what acquire took.
func (o Option) release() {
	if o.limiter != nil {
		o.limiter.Release(1)
	}
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
