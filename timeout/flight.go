package timeout

import (
	"log/slog"
	"runtime"
	"sync/atomic"

	"github.com/leash-go/leash/internal/panics"
)

// abandoned counts the goroutines Grace and Call gave up on that are still
// running. It holds no channel, so bubbles can share it (ALL2).
var abandoned atomic.Int64

// Abandoned returns how many goroutines that WaitFor with Grace or Call gave
// up on are still running. Each is counted from when it was abandoned until
// its fn returns (or panics). It is a process-wide count, meant for tests and
// metrics: a value that keeps growing means functions that never return.
func Abandoned() int { return int(abandoned.Load()) }

// A flight is one run of fn in a goroutine of its own, which its caller
// either waits for or abandons; state decides which, once.
type flight[T any] struct {
	fn    func() (T, error)
	opt   Option        // its limiter's permit is released when fn returns (SV6)
	what  string        // "WaitFor" or "Call", for the log
	state atomic.Int32  // running, then finished or gaveUp
	done  chan struct{} // closed once out is set, unless the flight was abandoned; nil from launchAbandoned
	out   outcome[T]
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

// launch starts fn in a goroutine of its own, for the caller to wait for or
// abandon.
func launch[T any](what string, o Option, fn func() (T, error)) *flight[T] {
	f := &flight[T]{fn: fn, opt: o, what: what, done: make(chan struct{})}
	go f.run()
	return f
}

// launchAbandoned starts fn in a goroutine of its own that is abandoned from
// the start, counted by Abandoned until fn returns, as if abandon had won at
// once. It is for a caller whose context ended before fn could start, so that
// fn cannot win a race it has already lost. Nobody waits, so there is no done
// channel.
func launchAbandoned[T any](what string, o Option, fn func() (T, error)) {
	f := &flight[T]{fn: fn, opt: o, what: what}
	abandoned.Add(1)
	f.state.Store(gaveUp)
	go f.run()
}

func (f *flight[T]) run() {
	panics.Run(f.call, f.finish)
}

func (f *flight[T]) call() { f.out.val, f.out.err = f.fn() }

// finish hands fn's outcome to the caller, or, when the caller has given up,
// takes the flight off the count and logs what nobody will see otherwise.
func (f *flight[T]) finish(p *panics.Error, goexit bool) {
	f.opt.release() // fn has returned: only now may another start (SV6)
	if f.state.CompareAndSwap(running, finished) {
		f.out.panic, f.out.goexit = p, goexit
		close(f.done)
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
}

// abandon gives up on f and reports true; or reports false when fn has
// finished first, f.done then being closed or about to be.
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

// result returns fn's value and error, or raises its panic or Goexit again
// in the calling goroutine: the panic as a *panics.Error, so that recover
// yields an exported type with the value and the stack (TO5, TO6). Call it
// after f.done is closed.
func (f *flight[T]) result() (T, error) {
	if f.out.panic != nil {
		f.out.panic.Reraise() // a *panics.Error, or http.ErrAbortHandler as itself
	}
	if f.out.goexit {
		runtime.Goexit()
	}
	return f.out.val, f.out.err
}
