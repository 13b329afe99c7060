package taskgroup

import "fmt"

// An Option configures a Group (or Map).
type Option func(*config)

type config struct {
	name           string
	limit          int
	collectAll     bool
	panicsAsErrors bool
}

// WithLimit lets at most n of the group's tasks run at once (TG8). Go blocks
// until a slot is free or the group's context is done; TryGo returns false
// when no slot is free. The group runs its tasks on at most n goroutines,
// reusing each for the next task. It panics if n < 1.
func WithLimit(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("taskgroup: WithLimit(%d): the limit must be at least 1", n))
	}
	return func(c *config) { c.limit = n }
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

// WithName names the group in its errors.
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}
