package service

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leash-go/leash/taskgroup"
)

// Run runs a program: it calls run as the task "main" of a group named by
// WithName ("service"), where run starts the program's services and
// background work with g.GoNamed, taskgroup.Start and the like, and returns.
// Run returns once every task of the group has returned (SV1), or once the
// drain gave up on some (SV3).
//
// The shutdown begins at the first of: a task's real failure, ctx's
// cancellation, or one of the signals of WithSignals (SIGINT and SIGTERM by
// default). Every task then sees its context done, with a cause that names
// the trigger (SV2): the failed task's *taskgroup.TaskError, ctx's cause, or
// a *SignalError. Run waits for the tasks at most the drain (WithDrain,
// DefaultDrain), and less if a second signal comes.
//
// Run returns:
//   - nil when every task returned without failing: the program ended by
//     itself, or a signal stopped it and it drained in time (tasks that
//     return the cancellation, as ctx.Err(), count as stopped cleanly);
//   - the group's *taskgroup.Error when tasks failed, panicked (Run does not
//     re-panic: a panic is an error here, logged the moment it happens), or
//     reported ctx's cancellation;
//   - a *DrainError when the drain gave up: it names the tasks still running,
//     which run on (Abandoned counts them, DrainError.Done says when they
//     end); the process can exit.
//
// ExitCode maps each to an exit status. Run panics if ctx or run is nil.
func Run(ctx context.Context, run func(ctx context.Context, g *taskgroup.Group) error, opts ...Option) error {
	if ctx == nil {
		panic("service: Run called with a nil context; pass context.Background() or the caller's context")
	}
	if run == nil {
		panic("service: Run called with a nil function; pass the function that starts the program's services")
	}
	c := defaults()
	for _, o := range opts {
		o(&c)
	}
	logger := c.logger
	if logger == nil {
		logger = slog.Default()
	}
	signalled, stopListening := c.listen()
	defer stopListening()

	parent, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var given givenUp
	g := taskgroup.New(parent,
		taskgroup.WithName(c.name),
		taskgroup.PanicsAsErrors(),
		taskgroup.WithLogger(logger),
		// The straggler timeout makes every task note its goroutine, so that
		// the drain report has its stack; at the bound the group logs its own
		// straggler report too.
		taskgroup.WithStragglerTimeout(c.drain),
		taskgroup.WithHooks(taskgroup.Hooks{OnDone: given.ended, OnStraggler: func(taskgroup.Straggler) {}}),
	)
	g.GoNamed("main", func(ctx context.Context) error { return run(ctx, g) })

	// Wait runs in a goroutine of its own so that Run can stop waiting: it
	// is the one goroutine of Run's that may outlive it, with the tasks the
	// drain gave up on, and it ends with them.
	waited := make(chan struct{})
	var err error
	go func() {
		err = g.Wait()
		close(waited)
	}()

	select {
	case <-waited:
		return outcome(err)
	case s := <-signalled:
		cancel(&SignalError{Signal: s})
	case <-g.Context().Done():
	}
	trigger := context.Cause(g.Context())
	began := time.Now()
	logger.LogAttrs(ctx, slog.LevelInfo, "service: shutting down",
		slog.String("service", c.name), slog.String("trigger", triggerText(trigger)), slog.Duration("drain", c.drain))

	bound := time.NewTimer(c.drain)
	defer bound.Stop()
	var second os.Signal
	select {
	case <-waited:
		return outcome(err)
	case <-bound.C:
	case second = <-signalled:
	}

	// SV3: give up on the tasks still running, and name them.
	de := &DrainError{Trigger: trigger, Drain: c.drain, Signal: second, name: c.name, done: waited}
	if second != nil {
		de.Drain = time.Since(began)
	}
	de.Stragglers = given.giveUp(g)
	var tree strings.Builder
	_ = taskgroup.WriteTree(&tree)
	de.Tree = tree.String()
	logger.LogAttrs(ctx, slog.LevelError, "service: drain gave up", slog.String("service", c.name),
		slog.String("error", de.Error()))
	if second != nil { // at the bound, the group has logged them already (OB4)
		for _, s := range de.Stragglers {
			logger.LogAttrs(ctx, slog.LevelWarn, "service: task still running when the drain gave up",
				slog.String("group", s.Group), slog.String("task", s.Name), slog.Int("index", s.Index),
				slog.Duration("since_cancel", s.SinceCancel), slog.String("state", s.State),
				slog.String("stack", string(s.Stack)))
		}
	}
	return de
}

// outcome is what Run returns once every task has returned: the group's
// error, except that tasks which only reported a signal's shutdown stopped
// as asked.
func outcome(err error) error {
	var se *SignalError
	if ge, ok := err.(*taskgroup.Error); ok && len(ge.Failures) == 0 && errors.As(ge.Cause, &se) {
		return nil
	}
	return err
}

// listen returns the channel the shutdown signals arrive on, and the
// function that stops them. The test seam (c.signalled) replaces os/signal,
// whose delivery goroutine lives outside any synctest bubble.
func (c *config) listen() (<-chan os.Signal, func()) {
	if c.signalled != nil {
		return c.signalled, func() {}
	}
	if len(c.signals) == 0 {
		return nil, func() {}
	}
	ch := make(chan os.Signal, 2) // the trigger and the second signal
	signal.Notify(ch, c.signals...)
	return ch, func() { signal.Stop(ch) }
}

// abandoned counts the tasks that drains gave up on and that are still
// running. It holds no channel, so bubbles can share it (ALL2).
var abandoned atomic.Int64

// Abandoned returns how many tasks that Run's drains gave up on are still
// running: each is counted from when its drain gave up until it returns. It
// is a process-wide count, for tests and metrics.
func Abandoned() int { return int(abandoned.Load()) }

// givenUp tracks the tasks of one Run that its drain gave up on, so that
// each leaves the Abandoned count as it returns.
type givenUp struct {
	mu    sync.Mutex
	tasks map[int]bool // by index
}

// giveUp takes the report of g's running tasks and counts them as
// abandoned. It holds mu while it does, so that a task ending meanwhile
// is either in the report and leaves the count later, or in neither: a
// task leaves g's running list before its OnDone hook runs.
func (a *givenUp) giveUp(g *taskgroup.Group) []taskgroup.Straggler {
	a.mu.Lock()
	defer a.mu.Unlock()
	late := g.Stragglers()
	slices.SortFunc(late, func(a, b taskgroup.Straggler) int { return a.Index - b.Index })
	a.tasks = make(map[int]bool, len(late))
	for _, s := range late {
		a.tasks[s.Index] = true
	}
	abandoned.Add(int64(len(late)))
	return late
}

// ended is the group's OnDone hook.
func (a *givenUp) ended(info taskgroup.TaskInfo, _ error, _ time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tasks[info.Index] {
		delete(a.tasks, info.Index)
		abandoned.Add(-1)
	}
}
