package taskgroup

import (
	"fmt"

	"github.com/leash-go/leash/semaphore"
)

// An Option configures a Group (or Map).
type Option func(*config)

type config struct {
	name           string
	limit          int
	collectAll     bool
	panicsAsErrors bool
	limiter        semaphore.Limiter // shared by groups: WithSemaphore, WithLimiter
	leased         semaphore.Leased  // limiter, when its permits can be lost (LIM1)
	onFailure      func(*TaskError)  // SV5
	obs            *observer         // nil unless the group is named, observed or traced (OB1-OB5)
}

// WithLimit lets at most n of the group's tasks run at once (TG8). Go blocks
// until a slot is free or the group's context is done; TryGo returns false
// when no slot is free. A task that ends runs the next waiting Go's task on
// its own goroutine. The limit is a bound, not a reservation: nothing is
// allocated for n, and WithLimit(math.MaxInt) limits nothing at no cost. It
// panics if n < 1.
func WithLimit(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("taskgroup: WithLimit(%d): the limit must be at least 1", n))
	}
	return func(c *config) { c.limit = n }
}

// WithSemaphore makes every task of the group hold one permit of s while it
// runs, so that several groups (say, every request handler of a server) share
// one limit (TG8). Go waits for a permit, in s's FIFO order, until the group's
// context is done (then TG7); TryGo returns false when none is free. A task
// that cannot get a permit because s is closed, or has capacity 0, fails with
// s's error (semaphore.ErrClosed, semaphore.ErrTooLarge). It combines with
// WithLimit: a task then needs both a slot and a permit. A nil s panics.
func WithSemaphore(s *semaphore.Semaphore) Option {
	if s == nil {
		panic("taskgroup: WithSemaphore(nil): pass a *semaphore.Semaphore from semaphore.New")
	}
	return func(c *config) { c.limiter, c.leased = s, nil }
}

// WithLimiter is WithSemaphore for any semaphore.Limiter, such as a limit
// shared by many processes (LIM1): every task holds one permit of l while it
// runs. When l implements semaphore.Leased, its permits can be lost: a task
// whose permit's lease is lost has its context cancelled with the lease's
// cause (say, the limiter's ErrLeaseLost), so it stops using what the permit
// guards; the error it returns then is a real failure. A nil l panics.
func WithLimiter(l semaphore.Limiter) Option {
	if l == nil {
		panic("taskgroup: WithLimiter(nil): pass a semaphore.Limiter, such as a *semaphore.Semaphore")
	}
	leased, _ := l.(semaphore.Leased)
	return func(c *config) { c.limiter, c.leased = l, leased }
}

// WithFailureHandler hands every real failure to fn as it happens, in the
// failing task's goroutine, instead of keeping it for Wait (SV5): a group
// that lives as long as the program and runs millions of short tasks (a
// server's background work) then holds memory for its running tasks only,
// not for every failure it has seen. Wait's *Error counts them in Handled.
// Panics and Goexits are still kept as well, so that Wait brings them home
// (TG5). The failure still cancels the group unless CollectAll is given too,
// which is what a group of independent background tasks wants. A panic in fn
// is recovered and kept as the task's failure. A nil fn panics.
func WithFailureHandler(fn func(*TaskError)) Option {
	if fn == nil {
		panic("taskgroup: WithFailureHandler(nil): pass a function that logs or counts the failure")
	}
	return func(c *config) { c.onFailure = fn }
}

// CollectAll makes failures and panics leave the siblings running (TG9), like
// asyncio's gather(return_exceptions=True): the group's context is cancelled
// only by Stop or the parent. Wait still returns every failure, and still
// re-panics after every task returned when a task panicked.
func CollectAll() Option {
	return func(c *config) { c.collectAll = true }
}

// PanicsAsErrors makes Wait return an *Error holding the panics (as
// *PanicError failures) instead of re-panicking with it (TG5).
func PanicsAsErrors() Option {
	return func(c *config) { c.panicsAsErrors = true }
}

// WithName names the group in its errors, in profiles and traces, and in
// reports (OB1-OB5): its tasks run under the pprof label group=name, and it
// appears in WriteTree while it is live. A named group pays for this; an
// unnamed one does not. Names should be few and fixed, like metric names: the
// profiler and the tracer keep every distinct one.
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}
