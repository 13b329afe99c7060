package timeout

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/leash-go/leash/internal/cause"
	"github.com/leash-go/leash/internal/panics"
)

// An Option changes how WaitFor and WaitForValue wait.
type Option interface{ apply(*options) }

type options struct {
	grace    time.Duration
	hasGrace bool
}

func collect(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

type graceOption time.Duration

func (g graceOption) apply(o *options) { o.grace, o.hasGrace = time.Duration(g), true }

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
func Grace(g time.Duration) Option { return graceOption(max(g, 0)) }

// abandoned counts the goroutines Grace and Call gave up on that are still
// running. It holds no channel, so bubbles can share it (ALL2).
var abandoned atomic.Int64

// Abandoned returns how many goroutines that WaitFor with Grace or Call gave
// up on are still running. Each is counted from when it was abandoned until
// its fn returns (or panics). It is a process-wide count, meant for tests and
// metrics: a value that keeps growing means functions that never return.
func Abandoned() int { return int(abandoned.Load()) }

// A flight is one run of fn in a goroutine of its own, which its caller may
// abandon.
type flight[T any] struct {
	state atomic.Int32    // running, then finished or gaveUp, never changing again
	done  chan outcome[T] // gets the outcome unless the flight was abandoned; buffered
	what  string          // "WaitFor" or "Call", for the log
}

const (
	running int32 = iota
	finished
	gaveUp
)

// outcome is how fn ended.
type outcome[T any] struct {
	val    T
	err    error
	panic  *panics.Error
	goexit bool
}

func launch[T any](what string, fn func() (T, error)) *flight[T] {
	f := &flight[T]{done: make(chan outcome[T], 1), what: what}
	go f.run(fn)
	return f
}

func (f *flight[T]) run(fn func() (T, error)) {
	var o outcome[T]
	panics.Run(func() { o.val, o.err = fn() }, func(p *panics.Error, goexit bool) {
		o.panic, o.goexit = p, goexit
		if f.state.CompareAndSwap(running, finished) {
			f.done <- o
			return
		}
		abandoned.Add(-1)
		switch {
		case p != nil:
			// TO5: nobody waits for this panic any more; log it rather than
			// crash the program or lose it.
			slog.Default().Error("timeout: recovered a panic in a goroutine that "+f.what+" abandoned",
				slog.Any("panic", p.Value), slog.String("stack", string(p.Stack)))
		case goexit:
			slog.Default().Error("timeout: a goroutine that " + f.what + " abandoned called runtime.Goexit")
		}
	})
}

// abandon gives up on f and reports true; or reports false when fn has
// finished first, its outcome then being on f.done.
func (f *flight[T]) abandon() bool {
	// Count first, so that fn finishing right after the swap never takes the
	// count below zero.
	abandoned.Add(1)
	if f.state.CompareAndSwap(running, gaveUp) {
		return true
	}
	abandoned.Add(-1)
	return false
}

// result returns fn's value and error, or raises its panic or Goexit again in
// the calling goroutine.
func (o *outcome[T]) result() (T, error) {
	if o.panic != nil {
		panic(o.panic)
	}
	if o.goexit {
		runtime.Goexit()
	}
	return o.val, o.err
}

// waitGrace is WaitForValue with Grace(g) (TO5).
func waitGrace[T any](ctx context.Context, d, g time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	start := time.Now()
	child, cancel := context.WithDeadlineCause(ctx, start.Add(d), errDeadline)
	defer cancel()
	f := launch("WaitFor", func() (T, error) { return fn(child) })

	var o outcome[T]
	select {
	case o = <-f.done:
	case <-child.Done():
		t := time.NewTimer(g)
		defer t.Stop()
		select {
		case o = <-f.done:
		case <-t.C:
			if f.abandon() {
				var zero T
				return zero, abandonment(ctx, child, start, "WaitFor", d, g)
			}
			o = <-f.done
		}
	}
	v, err := o.result()
	if err != nil {
		err = named(ctx, child, start, d, err)
	}
	return v, err
}

// abandonment returns the error for a flight abandoned after child ended.
func abandonment(parent, child context.Context, start time.Time, what string, d, g time.Duration) error {
	e := &abandonedError{what: what, d: d, grace: g, timedOut: ownDeadlineFired(parent, child, start, d)}
	if !e.timedOut {
		// ALL3: child ended because its parent did, with the parent's Err
		// and cause.
		e.ctxErr = cause.Of(child)
	}
	return e
}
