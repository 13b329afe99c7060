package taskgroup

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"runtime/debug"
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
	cfg    *config // noOptions, or the config allocated with the group
	slots  *slots  // nil without WithLimit

	wg        sync.WaitGroup        // counts the tasks that were started and have not ended
	next      atomic.Int64          // the index the next task gets; negative once Wait has settled the outcome (TG10)
	cancelled atomic.Int64          // tasks that echoed the cancellation or never started (TG3, TG7)
	doneCause atomic.Pointer[error] // context.Cause(ctx), once ctx is done: it never changes then

	// mu guards the record. It is held for bookkeeping only, never across a
	// wait (ALL1), and it is the last lock taken: nothing is locked while it
	// is held but the group's context, whose cancel takes the context's own
	// lock.
	mu sync.Mutex
	// rec is nil until the group has something to remember beyond counts;
	// once set it stays. It is set and its fields are read and written
	// under mu; it may be loaded without mu only to learn whether it is set.
	rec atomic.Pointer[record]
}

// A record is what a group remembers beyond counts: its failures, its own
// cancellation and what Wait reports. A group that is never stopped and
// whose tasks all succeed never has one, and so stays small (96 bytes):
// many short-lived groups, nested ones above all, cost less to allocate and
// to collect. A record is allocated together with the first thing that
// needs it (the first failure's *TaskError, Stop's cause, Wait's *Error; see
// withRecord), so it adds no allocation.
type record struct {
	failures []*TaskError // real failures, in the order they were recorded
	handled  int          // failures handed to WithFailureHandler's function instead (SV5)
	panicked bool         // a failure is a panic: Wait re-panics (TG5)
	ownCause error        // the cause the group cancelled itself with, the first one only
	outcome  *Error       // what Wait reports; nil for success
}

// withRecord allocates v, with a spare record for g when g has none yet: a
// group's first record costs no allocation of its own, and later values
// carry no unused record.
func withRecord[T any](g *Group, v T) (*T, *record) {
	if g.rec.Load() != nil {
		return &v, nil
	}
	p := &struct {
		v   T
		rec record
	}{v: v}
	return &p.v, &p.rec
}

// adopt returns the group's record, making spare the record if it has none.
// spare is not nil when withRecord found none. g.mu is held.
func (g *Group) adopt(spare *record) *record {
	if rec := g.rec.Load(); rec != nil {
		return rec
	}
	g.rec.Store(spare)
	return spare
}

// New returns a Group whose tasks run with a context derived from ctx. The
// group's context is cancelled when a task fails (unless CollectAll), when
// Stop is called, when ctx is done, and once Wait has returned. New(nil)
// panics.
func New(ctx context.Context, opts ...Option) *Group {
	if ctx == nil {
		panic("taskgroup: New called with a nil context; pass context.Background() or the caller's context")
	}
	return newGroup(ctx, opts)
}

// noOptions is the config of every group made without options and without
// the execution tracer. It is never written.
var noOptions config

// configured is a group allocated with its config: one allocation.
type configured struct {
	g   Group
	cfg config
}

func newGroup(ctx context.Context, opts []Option) *Group {
	// A group without options is small, so that a short-lived one costs
	// little to allocate and to collect: its config is the shared zero one.
	var g *Group
	traced := trace.IsEnabled()
	if len(opts) == 0 && !traced {
		g = &Group{cfg: &noOptions}
	} else {
		c := &configured{}
		g = &c.g
		g.cfg = &c.cfg
		for _, o := range opts {
			o(g.cfg)
		}
	}
	if g.cfg.obs != nil || g.cfg.name != "" || traced {
		g.newObserved(ctx) // OB1-OB5
	} else {
		g.ctx, g.cancel = context.WithCancelCause(ctx)
	}
	if g.cfg.limit > 0 {
		g.slots = &slots{n: g.cfg.limit}
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
	g.add(job{c: checkFunc(fn, viaGo)}, viaGo)
}

// GoNamed is Go for a named task: the name appears in the task's *TaskError,
// in profiles and in reports.
func (g *Group) GoNamed(name string, fn func(ctx context.Context) error) {
	g.add(job{c: checkFunc(fn, viaGoNamed), name: name}, viaGoNamed)
}

// TryGo is Go that never blocks. It reports whether fn was started: false
// when the group's limit has no free slot, and false when the group's context
// is already done, in which case the task counts as cancelled (TG7) like any
// task that was never started.
func (g *Group) TryGo(fn func(ctx context.Context) error) bool {
	return g.add(job{c: checkFunc(fn, viaTryGo)}, viaTryGo)
}

func checkFunc(fn func(ctx context.Context) error, via entry) caller {
	if fn == nil {
		panic("taskgroup: " + via.String() + " called with a nil function")
	}
	return goFunc(fn)
}

// entry names the function that gave the group a task, for messages.
type entry uint8

const (
	viaGo entry = iota
	viaGoNamed
	viaTryGo
	viaSpawn
	viaSpawnNamed
	viaStart
	viaMap
	viaStream
)

func (e entry) String() string {
	return [...]string{"Go", "GoNamed", "TryGo", "Spawn", "SpawnNamed", "Start", "Map", "Stream"}[e]
}

// Stop cancels the group's context with cause ErrStopped, so every task sees
// ctx.Done(). It does not wait: call Wait for that. Errors that only report
// the stop are cancellation echoes (TG3), so a stopped group whose tasks
// return nil or echo the stop returns nil from Wait (TG4).
func (g *Group) Stop() { g.cancelSelf(withRecord(g, stopError{})) }

// stopError is the cause Stop cancels a group with. Each Stop makes its own,
// so that Wait can tell this group's stop from an enclosing group's (TG4);
// every one of them matches ErrStopped under errors.Is. The field gives each
// its own address: pointers to distinct zero-size values may be equal.
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

// A job is one task on its way through the group, from add to ended: what
// to call, who receives its error (nil for Go), its name and its index.
type job struct {
	c    caller
	t    finisher
	name string
	idx  int
}

// add accepts a task: it gives the task its index, then runs it or, on a done
// group, counts it as cancelled without running it (TG7). It reports whether
// the task was started; only TryGo can be refused without a trace.
func (g *Group) add(j job, via entry) bool {
	idx := g.next.Add(1) - 1
	if idx < 0 {
		panic("taskgroup: " + via.String() + " called after Wait returned; a Group runs one batch of tasks, create a new Group with New")
	}
	j.idx = int(idx)
	if g.ctx.Err() != nil { // TG7
		g.notStarted(j)
		return false
	}
	try := via == viaTryGo
	if g.slots != nil {
		return g.slots.start(g, j, try)
	}
	if g.cfg.limiter != nil {
		if err := g.acquire(&j, try); err != nil {
			g.refuse(j, err)
			return false
		}
	}
	g.wg.Add(1)
	g.launch(j)
	return true
}

// launch starts a task that holds what it needs (a slot, a permit) in a
// goroutine of its own.
func (g *Group) launch(j job) {
	switch f, ok := j.c.(goFunc); {
	case g.cfg.obs != nil || j.name != "":
		go g.runObserved(g.prepare(j), j) // OB1-OB5
	case ok && j.t == nil:
		go g.runGo(j.idx, f) // a smaller goroutine start for the commonest task
	case isTask(j):
		go g.runTask(j.idx, j.t.(task)) // a Task: its closure holds one interface, not a job
	default:
		go g.runPlain(j)
	}
}

// runGo is run for the commonest task: a plain function of a group with no
// observer and no limit. Its frames are small, as the task's own code runs
// on top of them: a task that runs a nested group (New, Go, Wait, and the
// context's cancel below them) then fits in the stack a goroutine starts
// with, instead of copying it to a larger one.
func (g *Group) runGo(idx int, f goFunc) {
	var o outcome
	defer g.end(job{c: f, idx: idx}, &o)
	o.err = f(g.ctx)
	o.returned = true
}

// task is a job that is both what it calls and what receives its error: a
// Task[T], Start's starter, a stream's item. Each is a pointer, so isTask's
// comparison never panics.
type task interface {
	caller
	finisher
}

// isTask reports whether j calls what receives its error. (Interfaces of
// different dynamic types compare unequal without panicking, and a task's
// dynamic type is a pointer.)
func isTask(j job) bool {
	t, ok := j.t.(task)
	return ok && j.c == caller(t)
}

// runTask is runGo for a task (a Task[T], a starter, a stream's item).
func (g *Group) runTask(idx int, t task) {
	var o outcome
	defer g.end(job{c: t, t: t, idx: idx}, &o)
	o.err = t.call(g.ctx, idx)
	o.returned = true
}

// runPlain is runGo for any other task of a group with no observer and no
// limit, such as Map's items and tasks holding a leased permit.
func (g *Group) runPlain(j job) {
	var o outcome
	defer g.end(j, &o)
	o.err = j.c.call(g.ctx, j.idx)
	o.returned = true
}

// outcome is how a task's function ended.
type outcome struct {
	err      error
	returned bool // false: it panicked or called runtime.Goexit
}

// end ends a task run by runGo, runTask or runPlain, as run's deferred
// function does; being the deferred call itself, it recovers the task's
// panic.
func (g *Group) end(j job, o *outcome) {
	if !o.returned {
		o.err = g.abnormal(j, recover())
	}
	g.ended(j, o.err, !o.returned)
}

func (g *Group) runObserved(r *taskRun, j job) { g.run(j, r) }

// errBusy is acquire's answer to TryGo when no permit is free: the task is
// simply not started.
var errBusy = errors.New("taskgroup: no free slot")

// acquire takes one permit of the group's shared limiter for j, waiting for it
// unless try is set, in the limiter's order until the group's context is done.
// A permit granted once the context is done is given back and the task is not
// started (TG7): the grant may race a Stop. With a limiter that can lose its
// permits, j's function is wrapped to run with a context that ends when the
// lease under which the permit was granted is lost (LIM1).
func (g *Group) acquire(j *job, try bool) error {
	l := g.cfg.limiter
	var lease context.Context
	if g.cfg.leased != nil {
		lease = g.cfg.leased.Lease() // before the grant: see semaphore.Leased
	}
	if try {
		if !l.TryAcquire(1) {
			return errBusy
		}
	} else if err := l.Acquire(g.ctx, 1); err != nil {
		return err
	}
	if g.ctx.Err() != nil {
		l.Release(1)
		return cause.Of(g.ctx)
	}
	if lease != nil {
		j.c = leasedCaller{j.c, lease}
	}
	return nil
}

// leasedCaller runs a task whose permit is held under a lease: its context is
// cancelled, with the lease's cause, when the lease is lost (LIM1).
type leasedCaller struct {
	caller
	lease context.Context
}

func (l leasedCaller) call(ctx context.Context, idx int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(l.lease, func() { cancel(context.Cause(l.lease)) })
	defer stop()
	return l.caller.call(ctx, idx)
}

// refuse ends a task that could not get a permit or a slot. A TryGo that
// found nothing free counts nothing; a task stopped by the group's
// cancellation counts as cancelled (TG7); a task refused by a closed
// semaphore, or one too small for one permit, fails with the semaphore's
// error, as a task it is, recorded before its Task's Done closes (TG2).
func (g *Group) refuse(j job, err error) {
	switch {
	case err == errBusy:
	case g.ctx.Err() != nil:
		g.notStarted(j)
	default:
		g.record(j, err, false)
		if j.t != nil {
			j.t.finish(err)
		}
	}
}

// notStarted counts a task that will never run, and gives a Task[T] the
// group's cancellation as its error (TG7).
func (g *Group) notStarted(j job) {
	g.cancelled.Add(1)
	if j.t != nil {
		j.t.finish(cause.Of(g.ctx))
	}
}

// run calls j's function and records how it ended: returned, panicked (TG5)
// or called runtime.Goexit (TG6). The recover sits in run's own deferred
// function, so a panic is recovered in the goroutine that panicked, with its
// stack. A task that is seen (named, or of a group with an observer) has a
// taskRun r; others have none, and pay nothing for it.
//
// run ends the task in the group's WaitGroup, so it must be called once for
// every task counted there. In a limited group it returns the Go call that
// was handed the task's slot, for the worker to run next.
func (g *Group) run(j job, r *taskRun) (next *slotWaiter) {
	var err error
	returned := false
	defer func() {
		abnormal := !returned
		if abnormal {
			err = g.abnormal(j, recover())
		}
		if r != nil {
			err, abnormal = r.stop(g, err, abnormal)
		}
		next = g.ended(j, err, abnormal)
		if next != nil && !returned && err == ErrGoexit {
			go g.slots.resume(g, next) // this goroutine is exiting: another runs the next task
			next = nil
		}
	}()
	ctx := g.ctx
	if r != nil {
		ctx = r.begin()
	}
	err = j.c.call(ctx, j.idx)
	returned = true
	return nil
}

// abnormal is the error of a task that did not return: its panic, recovered
// as v in the panicking goroutine's deferred function and captured there with
// its stack (TG5), or ErrGoexit when v is nil (TG6; a panic(nil) recovers as
// a *runtime.PanicNilError). A panic is logged at once, in the task's
// goroutine, so that a caller that never reaches Wait still sees it (TG14).
func (g *Group) abnormal(j job, v any) error {
	if v == nil {
		if o := g.cfg.obs; o != nil && o.logger != nil { // OB3
			o.logger.LogAttrs(g.ctx, slog.LevelError, "taskgroup: task called runtime.Goexit",
				append(g.taskAttrs(j), slog.String("stack", string(panics.Trim(debug.Stack()))))...)
		}
		return ErrGoexit
	}
	p := panics.Capture(v)
	g.logPanic(j, p)
	return p
}

// logPanic logs a recovered panic, with its value and stack, to the group's
// logger (TG14, OB3).
func (g *Group) logPanic(j job, p *PanicError) {
	l := slog.Default()
	if o := g.cfg.obs; o != nil && o.logger != nil {
		l = o.logger
	}
	l.LogAttrs(g.ctx, slog.LevelError, "taskgroup: task panicked",
		append(g.taskAttrs(j), slog.Any("panic", p.Value), slog.String("stack", string(panics.Trim(p.Stack))))...)
}

// ended settles a task that has ended with err, and ends it in the group's
// WaitGroup. It returns the Go call its slot was handed to, if any.
func (g *Group) ended(j job, err error, abnormal bool) *slotWaiter {
	// Record and release first: once a Task's Done is closed, its failure has
	// already cancelled the group (TG2), and its slot and permit are free
	// for the next task (TG8).
	if err != nil {
		g.record(j, err, abnormal)
	}
	next := g.release()
	if j.t != nil {
		j.t.finish(err)
	}
	g.wg.Done()
	return next
}

// release gives back what a task held while it ran: its permit of the
// group's shared limiter and its slot of the group's limit, which goes to
// the first Go call waiting for one, if any.
func (g *Group) release() *slotWaiter {
	if g.cfg.limiter != nil {
		g.cfg.limiter.Release(1)
	}
	if g.slots != nil {
		return g.slots.put(g)
	}
	return nil
}

// record files a task's non-nil error as a cancellation echo (TG3) or a real
// failure, and cancels the siblings on a real failure (TG2).
func (g *Group) record(j job, err error, abnormal bool) {
	if !abnormal && g.isEcho(err) {
		g.cancelled.Add(1)
		return
	}
	te, spare := withRecord(g, TaskError{Index: j.idx, Name: j.name, Err: err})
	handler := g.cfg.onFailure
	g.mu.Lock()
	rec := g.adopt(spare)
	if handler != nil && !abnormal {
		rec.handled++ // SV5: the handler keeps it, if anyone does
	} else {
		rec.failures = append(rec.failures, te)
	}
	rec.panicked = rec.panicked || abnormal && err != ErrGoexit
	if !g.cfg.collectAll && rec.ownCause == nil {
		// TG2: the failure that is recorded first is the cause, in the same
		// step, so two failures at once cannot swap places.
		rec.ownCause = te
		g.cancel(te)
	}
	g.mu.Unlock()
	if handler != nil && !abnormal {
		g.handle(handler, te)
	}
}

// handle hands a failure to WithFailureHandler's function. A panic in it is
// the task's failure too, kept for Wait (TG5, OB6): it never crashes the
// task's goroutine, which the caller does not own.
func (g *Group) handle(handler func(*TaskError), te *TaskError) {
	defer func() {
		if v := recover(); v != nil {
			p := panics.Capture(v)
			j := job{idx: te.Index, name: te.Name}
			g.logPanic(j, p)
			g.record(j, p, true)
		}
	}()
	handler(te)
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
	if err == ctxErr {
		return true // the commonest echo, return ctx.Err(): it wraps nothing
	}
	c := g.cause()
	if !errors.Is(err, ctxErr) && !errors.Is(err, c) {
		return false
	}
	return !holdsFailures(err, c)
}

// cause returns context.Cause of the group's done context. It is read once
// and kept: when many tasks echo a cancellation at once, context.Cause's lock
// would serialise them.
func (g *Group) cause() error {
	if c := g.doneCause.Load(); c != nil {
		return *c
	}
	c := context.Cause(g.ctx)
	g.doneCause.CompareAndSwap(nil, &c)
	return c
}

// holdsFailures reports whether err's tree holds an *Error with real
// failures, looking at every error that err wraps except c and what c wraps.
// c is compared with == only when its dynamic type is comparable: == on two
// interfaces holding the same uncomparable type panics.
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

// cancelSelf cancels the group's context with c, unless the group has
// cancelled itself already. The first cause the group gives itself is
// remembered and set in one step under g.mu: Wait tells the group's own
// cancellation from the parent's by comparing the two (TG4).
func (g *Group) cancelSelf(c error, spare *record) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if rec := g.adopt(spare); rec.ownCause == nil {
		rec.ownCause = c
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
	if g.next.Load() >= 0 {
		g.conclude()
	}
	var outcome *Error
	repanic := false
	if rec := g.rec.Load(); rec != nil {
		outcome, repanic = rec.outcome, rec.panicked && !g.cfg.panicsAsErrors
	}
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
	g.next.Or(math.MinInt64) // sets the sign bit, which later Adds keep: Go panics (TG10)
	// The group's context carries the parent's error and cause when the
	// parent cancelled it first; otherwise its cause is the group's own.
	// (A parent that cancels after every task has returned but before Wait
	// settles still counts: the group was cancelled by it.)
	var rec record // the group's record, or an empty one when it has none
	if r := g.rec.Load(); r != nil {
		rec = *r
	}
	var parentCause error
	if g.ctx.Err() != nil && (rec.ownCause == nil || context.Cause(g.ctx) != rec.ownCause) {
		parentCause = cause.Of(g.ctx)
	}
	cancelled := int(g.cancelled.Load())
	if len(rec.failures) > 0 || rec.handled > 0 || (parentCause != nil && cancelled > 0) {
		e, spare := withRecord(g, Error{Failures: rec.failures, Cancelled: cancelled, Handled: rec.handled, Cause: parentCause, group: g.cfg.name})
		g.adopt(spare).outcome = e
	}
	g.cancel(context.Canceled)
}
