package taskgroup

import (
	"context"
	"errors"
	"reflect"
	"runtime/trace"
	"sync"
	"sync/atomic"

	"github.com/leash-go/leash/internal/cause"
	"github.com/leash-go/leash/panics"
)

// A Group is a scope that owns the goroutines of its tasks: it cancels the
// siblings on the first failure, collects every error with the task that
// caused it, brings panics home to Wait, and lets nothing outlive Wait.
//
// Create a Group with New; the zero Group is not usable. A Group runs one
// batch of tasks: once Wait has returned, Go panics.
type Group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	cfg    config
	lim    *limiter // nil without WithLimit

	wg     sync.WaitGroup // counts the tasks that were started and have not ended
	next   atomic.Int64   // the index the next task gets
	waited atomic.Bool    // Wait has settled the outcome: Go panics (TG10)

	mu        sync.Mutex
	failures  []*TaskError
	cancelled int
	panicked  bool
	ownCause  error  // the cause the group cancelled itself with, first one only
	outcome   *Error // what Wait reports; nil for success
}

// New returns a Group whose tasks run with a context derived from ctx. The
// group's context is cancelled when a task fails (unless CollectAll), when
// Stop is called, when ctx is done, and once Wait has returned. New(nil)
// panics.
func New(ctx context.Context, opts ...Option) *Group {
	if ctx == nil {
		panic("taskgroup: New called with a nil context; pass context.Background() or the caller's context")
	}
	g := &Group{}
	for _, o := range opts {
		o(&g.cfg)
	}
	if g.cfg.obs != nil || g.cfg.name != "" || trace.IsEnabled() {
		g.newObserved(ctx) // OB1-OB5
	} else {
		g.ctx, g.cancel = context.WithCancelCause(ctx)
	}
	if g.cfg.limit > 0 {
		g.lim = newLimiter(g.cfg.limit)
	}
	return g
}

// Context returns the context the group's tasks receive. It is cancelled when
// the group fails, stops or its parent is done, and once Wait has returned.
func (g *Group) Context() context.Context { return g.ctx }

// Go runs fn in a goroutine the group owns, giving it the group's context.
//
// A non-nil error from fn is a failure that cancels the siblings (TG2) unless
// it merely reports the group's cancellation (TG3). With a limit, Go blocks
// until a slot is free or the group's context is done (TG8). On a group whose
// context is done, fn does not run and the task counts as cancelled (TG7).
// Go may be called from the group's own tasks, also while Wait is waiting
// (TG1); it panics if fn is nil or Wait has already returned (TG10).
func (g *Group) Go(fn func(ctx context.Context) error) {
	g.add("", checkFunc(fn), nil, false)
}

// GoNamed is Go for a named task: the name appears in the task's *TaskError.
func (g *Group) GoNamed(name string, fn func(ctx context.Context) error) {
	g.add(name, checkFunc(fn), nil, false)
}

// TryGo is Go that never blocks. It reports whether fn was started: false
// when the group's limit has no free slot, and false when the group's context
// is already done, in which case the task counts as cancelled (TG7) like any
// task that was never started.
func (g *Group) TryGo(fn func(ctx context.Context) error) bool {
	return g.add("", checkFunc(fn), nil, true)
}

func checkFunc(fn func(ctx context.Context) error) caller {
	if fn == nil {
		panic("taskgroup: Go called with a nil function")
	}
	return goFunc(fn)
}

// Stop cancels the group's context with cause ErrStopped, so every task sees
// ctx.Done(). It does not wait: call Wait for that. Errors that only report
// the stop are cancellation echoes (TG3), so a stopped group whose tasks
// return nil or echo the stop returns nil from Wait (TG4).
func (g *Group) Stop() { g.cancelSelf(&stopError{}) }

// stopError is the cause Stop cancels a group with. Each Stop makes its own,
// so that Wait can tell this group's stop from an enclosing group's (TG4);
// every one of them matches ErrStopped under errors.Is.
type stopError struct{ _ byte }

func (*stopError) Error() string        { return ErrStopped.Error() }
func (*stopError) Is(target error) bool { return target == ErrStopped }

// A caller is a task's function: a plain Go function (goFunc), a Task[T],
// or one item of Map. Being an interface rather than a closure lets Spawn and
// Map hand their tasks over without allocating a wrapper per task.
type caller interface {
	call(ctx context.Context, idx int) error
}

type goFunc func(ctx context.Context) error

func (f goFunc) call(ctx context.Context, _ int) error { return f(ctx) }

// finisher receives a task's final error; a Task[T] is one.
type finisher interface{ finish(err error) }

// add accepts a task: it gives the task its index, then runs it or, on a done
// group, counts it as cancelled without running it (TG7).
func (g *Group) add(name string, c caller, t finisher, try bool) bool {
	if g.waited.Load() {
		panic("taskgroup: Go called after Wait returned; a Group runs one batch of tasks, create a new Group with New")
	}
	idx := int(g.next.Add(1) - 1)
	if g.ctx.Err() != nil { // TG7
		g.notStarted(t)
		return false
	}
	if g.lim != nil {
		return g.lim.start(g, job{c: c, name: name, idx: idx, t: t}, try)
	}
	if s := g.cfg.sem; s != nil {
		if err := take(g.ctx, s, try); err != nil {
			g.refuse(idx, name, t, err)
			return false
		}
	}
	g.wg.Add(1)
	switch f, ok := c.(goFunc); {
	case g.cfg.obs != nil || name != "":
		go g.runObserved(g.prepare(idx, name), c, t) // OB1-OB5
	case ok:
		go g.runGo(idx, f) // a smaller closure for the commonest task
	default:
		go g.run(idx, name, c, t)
	}
	return true
}

func (g *Group) runGo(idx int, f goFunc) { g.run(idx, "", f, nil) }

// skip ends a task that was counted in the WaitGroup but will not run because
// the group's context is done (TG7), giving back what it held.
func (g *Group) skip(t finisher) {
	g.release() // before a Task's Done closes, as in ended
	g.notStarted(t)
	g.wg.Done()
}

// release gives back what a task held while it ran: its permit of the
// group's semaphore and its slot of the group's limit.
func (g *Group) release() {
	if g.cfg.sem != nil {
		g.cfg.sem.Release(1)
	}
	if g.lim != nil {
		g.lim.slots.Release(1)
	}
}

// notStarted counts a task that will never run, and gives a Task[T] the
// group's cancellation as its error (TG7).
func (g *Group) notStarted(t finisher) {
	g.mu.Lock()
	g.cancelled++
	g.mu.Unlock()
	if t != nil {
		t.finish(cause.Of(g.ctx))
	}
}

// run calls fn and records how it ended: returned, panicked (TG5) or called
// runtime.Goexit (TG6). The recover sits in run's own deferred function, so a
// panic is recovered in the goroutine that panicked, with its stack.
//
// run ends the task in the group's WaitGroup, so it must be called once for
// every task counted there.
//
// A task that is seen (named, or of a group with an observer) runs with
// runObserved instead.
func (g *Group) run(idx int, name string, c caller, t finisher) {
	var err error
	returned := false
	defer func() {
		abnormal := !returned
		if abnormal {
			err = abnormalError(recover())
		}
		g.ended(idx, name, t, err, abnormal)
	}()
	err = c.call(g.ctx, idx)
	returned = true
}

// abnormalError is the error of a task that did not return: its panic,
// recovered as v in the panicking goroutine's deferred function and captured
// there with its stack (TG5), or ErrGoexit when v is nil (TG6; a panic(nil)
// recovers as a *runtime.PanicNilError).
func abnormalError(v any) error {
	if v != nil {
		return panics.Capture(v)
	}
	return ErrGoexit
}

// ended settles a task that has ended with err, and ends it in the group's
// WaitGroup.
func (g *Group) ended(idx int, name string, t finisher, err error, abnormal bool) {
	// Record and release first: once a Task's Done is closed, its failure has
	// already cancelled the group (TG2), and its slot and permit are free
	// for the next task (TG8).
	if err != nil {
		g.record(idx, name, err, abnormal)
	}
	g.release()
	if t != nil {
		t.finish(err)
	}
	g.wg.Done()
}

// record files a task's non-nil error as a cancellation echo (TG3) or a real
// failure, and cancels the siblings on a real failure (TG2).
func (g *Group) record(idx int, name string, err error, abnormal bool) {
	if !abnormal && g.isEcho(err) {
		g.mu.Lock()
		g.cancelled++
		g.mu.Unlock()
		return
	}
	te := &TaskError{Index: idx, Name: name, Err: err}
	g.mu.Lock()
	g.failures = append(g.failures, te)
	g.panicked = g.panicked || abnormal && err != ErrGoexit
	g.mu.Unlock()
	if !g.cfg.collectAll {
		g.cancelSelf(te)
	}
}

// isEcho reports whether err only reports the group's cancellation: the
// context is done and err matches its Err or its Cause (TG3).
//
// One kind of error matches the cancellation and still says more: one that
// holds a nested group's *Error listing real failures, other than inside the
// cause itself. It is never an echo, so a failure deep in a tree of groups is
// never hidden; while an error that merely carries the cause (a sibling's
// failure, already listed, wrapped in a nested cancellation) is an echo,
// whatever the cause holds.
func (g *Group) isEcho(err error) bool {
	ctxErr := g.ctx.Err()
	if ctxErr == nil {
		return false
	}
	c := context.Cause(g.ctx)
	if !errors.Is(err, ctxErr) && !errors.Is(err, c) {
		return false
	}
	return !holdsFailures(err, c)
}

// holdsFailures reports whether err's tree holds an *Error with real
// failures, looking at every error that err wraps except c and what c wraps.
func holdsFailures(err, c error) bool {
	comparable := c != nil && reflect.TypeOf(c).Comparable()
	for stack := []error{err}; len(stack) > 0; {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil || comparable && e == c {
			continue
		}
		if nested, ok := e.(*Error); ok && len(nested.Failures) > 0 {
			return true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			stack = append(stack, u.Unwrap())
		case interface{ Unwrap() []error }:
			stack = append(stack, u.Unwrap()...)
		}
	}
	return false
}

// cancelSelf cancels the group's context with c. The first cause the group
// gives itself is remembered, and set while g.mu is held, so that two
// failures at once cannot make the second one the context's cause while the
// first is remembered: Wait tells the group's own cancellation from the
// parent's by comparing the two (TG4).
func (g *Group) cancelSelf(c error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ownCause == nil {
		g.ownCause = c
		g.cancel(c)
	}
}

// Wait blocks until every task the group started has returned, panicked or
// called runtime.Goexit, including tasks started by tasks while Wait waits
// (TG1). It then returns nil, or an *Error with every real failure (TG4).
//
// When a task panicked, Wait re-panics with that *Error once every task has
// returned, its message carrying each panic's value and stack (TG5); with
// PanicsAsErrors it returns the *Error instead.
//
// Wait may be called more than once and from several goroutines: every call
// reports the same outcome (TG10). Once Wait returns, the group's context is
// cancelled.
func (g *Group) Wait() error {
	g.wg.Wait()
	if g.cfg.obs != nil {
		g.cfg.obs.close() // before conclude cancels the context: no report after Wait (OB4)
	}
	g.mu.Lock()
	if !g.waited.Load() {
		g.conclude()
	}
	outcome, repanic := g.outcome, g.panicked && !g.cfg.panicsAsErrors
	g.mu.Unlock()
	if outcome == nil {
		return nil // never a nil *Error in a non-nil error
	}
	if repanic {
		panic(outcome)
	}
	return outcome
}

// conclude settles what every call of Wait reports, once every task has
// ended. g.mu is held: a concurrent Wait waits for it, briefly, as no task is
// left to wait for.
func (g *Group) conclude() {
	g.waited.Store(true)
	if g.lim != nil {
		g.lim.stop()
	}
	// The group's context carries the parent's error and cause when the
	// parent cancelled it first; otherwise its cause is the group's own.
	// (A parent that cancels after every task has returned but before Wait
	// settles still counts: the group was cancelled by it.)
	var parentCause error
	if g.ctx.Err() != nil && (g.ownCause == nil || context.Cause(g.ctx) != g.ownCause) {
		parentCause = cause.Of(g.ctx)
	}
	if len(g.failures) > 0 || (parentCause != nil && g.cancelled > 0) {
		g.outcome = &Error{Failures: g.failures, Cancelled: g.cancelled, Cause: parentCause, group: g.cfg.name}
	}
	g.cancel(context.Canceled)
}
