package chaos

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/shield"
	"github.com/leash-go/leash/taskgroup"
	"github.com/leash-go/leash/timeout"
)

// The errors tasks return, panic with and cancel with. Each is comparable, so
// errors.Is finds it by value.
type (
	failErr     struct{ node int }  // kindFail
	canceledErr struct{ node int }  // kindFailCanceled: wraps context.Canceled, an echo only after the cancellation
	panicErr    struct{ node int }  // kindPanic's error value
	shieldErr   struct{ node int }  // kindShield's cleanup
	cancelErr   struct{ group int } // kindCancelParent's cause
)

func (e failErr) Error() string     { return fmt.Sprintf("chaos: n%d failed", e.node) }
func (e canceledErr) Error() string { return fmt.Sprintf("chaos: n%d: %v", e.node, context.Canceled) }
func (e canceledErr) Unwrap() error { return context.Canceled }
func (e panicErr) Error() string    { return fmt.Sprintf("chaos: n%d panicked", e.node) }
func (e shieldErr) Error() string   { return fmt.Sprintf("chaos: n%d's cleanup failed", e.node) }
func (e cancelErr) Error() string   { return fmt.Sprintf("chaos: g%d's parent cancelled", e.group) }

// An execution runs a tree inside a synctest bubble and records what
// happened, for the checks to compare with the model.
type execution struct {
	tr   *tree
	t0   time.Time
	sems []*semaphore.Semaphore
	held []atomic.Int64 // permits of each semaphore held by tasks

	pools   []*semaphore.Semaphore // shared by the pooled groups (WithSemaphore)
	running []atomic.Int64         // tasks of each pool's groups running

	ran   []atomic.Bool   // by node id: the task's function was called
	ends  []time.Duration // by node id: when it returned, panicked or exited
	tryGo []atomic.Int32  // by node id: 1 TryGo returned true, 2 false

	shieldIn, shieldOut atomic.Int64

	mu       sync.Mutex
	problems []string
	results  map[int]taskResult // by node id, for tasks started with Spawn

	rootErr   error
	rootPanic any
	stats     []semaphore.Stats // of the semaphores, then of the pools
}

type taskResult struct {
	val int
	err error
}

// execute runs tr; call it inside a synctest bubble.
func execute(tr *tree) *execution {
	x := &execution{
		tr:      tr,
		t0:      time.Now(),
		held:    make([]atomic.Int64, len(tr.sems)),
		running: make([]atomic.Int64, len(tr.sems)),
		ran:     make([]atomic.Bool, tr.nodes),
		ends:    make([]time.Duration, tr.nodes),
		tryGo:   make([]atomic.Int32, tr.nodes),
		results: map[int]taskResult{},
	}
	for _, c := range tr.sems {
		x.sems = append(x.sems, semaphore.New(c))
		x.pools = append(x.pools, semaphore.New(c))
	}
	ctx, cancel := context.WithTimeout(context.Background(), rootDeadline)
	defer cancel()
	x.rootPanic, x.rootErr = catch(func() error { return x.group(tr.root, ctx) })
	for _, s := range append(x.sems, x.pools...) {
		x.stats = append(x.stats, s.Stats())
	}
	return x
}

func (x *execution) problemf(format string, args ...any) {
	x.mu.Lock()
	x.problems = append(x.problems, fmt.Sprintf(format, args...))
	x.mu.Unlock()
}

// catch calls f and returns what it panicked with, or its error.
func catch(f func() error) (panicked any, err error) {
	defer func() { panicked = recover() }()
	return nil, f()
}

// sleepUntil sleeps until t after the start, ignoring any context.
func (x *execution) sleepUntil(t time.Duration) { time.Sleep(time.Until(x.t0.Add(t))) }

// waitUntil waits until t after the start or until ctx is done, and reports
// whether t came first.
func (x *execution) waitUntil(ctx context.Context, t time.Duration) bool {
	left := time.Until(x.t0.Add(t))
	if left <= 0 {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	timer := time.NewTimer(left)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// group runs g under a parent of its own, derived from parent, that its
// kindCancelParent tasks cancel, and returns what Wait reports.
func (x *execution) group(g *group, parent context.Context) error {
	pctx, cancelParent := context.WithCancelCause(parent)
	defer cancelParent(nil)
	var opts []taskgroup.Option
	if g.collectAll {
		opts = append(opts, taskgroup.CollectAll())
	}
	if g.panicsAsErrors {
		opts = append(opts, taskgroup.PanicsAsErrors())
	}
	if g.named {
		opts = append(opts, taskgroup.WithName(g.name()))
	}
	if g.limit > 0 {
		opts = append(opts, taskgroup.WithLimit(g.limit))
	}
	if g.pool >= 0 {
		opts = append(opts, taskgroup.WithSemaphore(x.pools[g.pool]))
	}
	if g.items != itemsNone {
		return x.items(g, pctx, cancelParent, opts)
	}
	tg := taskgroup.New(pctx, opts...)
	run := &groupRun{x: x, g: g, tg: tg, cancelParent: cancelParent}
	for _, n := range g.tasks {
		run.start(n)
	}
	return run.wait()
}

// A groupRun is one group being run.
type groupRun struct {
	x            *execution
	g            *group
	tg           *taskgroup.Group
	cancelParent context.CancelCauseFunc

	mu    sync.Mutex
	tasks []spawned // tasks started with Spawn, spawned tasks included
}

type spawned struct {
	n    *node
	task *taskgroup.Task[int]
}

// wait waits for the group, checks that a second Wait reports the same
// (TG10) and that the group's context is done, records every Task's Result,
// and returns or re-raises what the first Wait reported.
func (r *groupRun) wait() error {
	panicked, err := catch(r.tg.Wait)
	panicked2, err2 := catch(r.tg.Wait)
	if err2 != err || panicked2 != panicked {
		r.x.problemf("g%d: TG10: a second Wait reported something else: %s (panic %T), then %s (panic %T)", r.g.id, summarize(err), panicked, summarize(err2), panicked2)
	}
	if r.tg.Context().Err() == nil {
		r.x.problemf("g%d: the group's context is not done after Wait", r.g.id)
	}
	r.mu.Lock()
	tasks := r.tasks
	r.mu.Unlock()
	for _, t := range tasks {
		select {
		case <-t.task.Done():
		default:
			r.x.problemf("n%d: TG1: its Task is not done after Wait", t.n.id)
		}
		val, err := t.task.Result()
		r.x.mu.Lock()
		r.x.results[t.n.id] = taskResult{val, err}
		r.x.mu.Unlock()
	}
	if panicked != nil {
		panic(panicked)
	}
	return err
}

// start hands task n to the group.
func (r *groupRun) start(n *node) {
	fn := r.task(n)
	switch n.via {
	case viaGo:
		r.tg.Go(fn)
	case viaGoNamed:
		r.tg.GoNamed(n.name(), fn)
	case viaTryGo:
		if r.tg.TryGo(fn) {
			r.x.tryGo[n.id].Store(1)
		} else {
			r.x.tryGo[n.id].Store(2)
		}
	case viaSpawn, viaSpawnNamed:
		t := taskgroup.SpawnNamed(r.tg, n.name(), func(ctx context.Context) (int, error) {
			return n.id, fn(ctx)
		})
		r.mu.Lock()
		r.tasks = append(r.tasks, spawned{n, t})
		r.mu.Unlock()
	}
}

// task returns the function of task n. A task of a pooled group holds a
// permit of the pool while it runs, and acts at its times rolled on past
// its start (node.rolled).
func (r *groupRun) task(n *node) func(ctx context.Context) error {
	x := r.x
	return func(ctx context.Context) error {
		if x.ran[n.id].Swap(true) {
			x.problemf("n%d: its function was called twice", n.id)
		}
		defer func() { x.ends[n.id] = time.Since(x.t0) }() // also on panic and Goexit
		if p := r.g.pool; p >= 0 {
			if running, capacity := x.running[p].Add(1), x.tr.sems[p]; running > capacity {
				x.problemf("n%d: TG8: %d tasks of pool%d's groups run at once; it has %d permits", n.id, running, p, capacity)
			}
			defer x.running[p].Add(-1)
			return r.do(ctx, n.rolled(time.Since(x.t0)))
		}
		return r.do(ctx, n)
	}
}

func (r *groupRun) do(ctx context.Context, n *node) error {
	x := r.x
	switch n.kind {
	case kindSucceed:
		x.sleepUntil(n.a)
		return nil
	case kindIgnore:
		x.sleepUntil(n.a)
		return ctx.Err()
	case kindFail:
		x.sleepUntil(n.a)
		if n.failWrapped() {
			return fmt.Errorf("n%d: %w", n.id, failErr{n.id})
		}
		return failErr{n.id}
	case kindFailCanceled:
		x.sleepUntil(n.a)
		return canceledErr{n.id}
	case kindPanic:
		x.sleepUntil(n.a)
		var v any // panic(nil) panics with a *runtime.PanicNilError
		switch n.panicStyle() {
		case 0:
			v = panicErr{n.id}
		case 1:
			v = n.panicString()
		}
		panic(v)
	case kindGoexit:
		x.sleepUntil(n.a)
		runtime.Goexit()
	case kindBlock:
		<-ctx.Done()
		switch n.blockStyle() {
		case 0:
			return ctx.Err()
		case 1:
			return context.Cause(ctx)
		default:
			return fmt.Errorf("n%d gave up: %w", n.id, ctx.Err())
		}
	case kindWaitFor:
		return timeout.WaitFor(ctx, time.Until(x.t0.Add(n.b)), func(ctx context.Context) error {
			if n.waitForIgnores() {
				x.sleepUntil(n.c)
				return ctx.Err()
			}
			if x.waitUntil(ctx, n.c) {
				return nil
			}
			return ctx.Err()
		})
	case kindShield:
		if n.entersOnCancel() {
			x.waitUntil(ctx, n.a)
		} else {
			x.sleepUntil(n.a)
		}
		d := max(time.Until(x.t0.Add(n.b)), 0) + time.Second
		err := shield.Do(ctx, d, func(sctx context.Context) error {
			x.shieldIn.Add(1)
			x.sleepUntil(n.b)
			if sctx.Err() != nil {
				x.problemf("n%d: SH1: the shield's context is done before its deadline: %v", n.id, context.Cause(sctx))
			}
			x.shieldOut.Add(1)
			if n.shieldFails() {
				return shieldErr{n.id}
			}
			return nil
		})
		if n.shieldFails() {
			return err
		}
		if err != nil {
			x.problemf("n%d: shield.Do returned %v for a cleanup that returned nil", n.id, err)
		}
		return ctx.Err()
	case kindSem:
		x.sleepUntil(n.a)
		return x.hold(ctx, n)
	case kindStop:
		x.sleepUntil(n.a)
		r.tg.Stop()
		return nil
	case kindCancelParent:
		x.sleepUntil(n.a)
		r.cancelParent(cancelErr{r.g.id})
		return nil
	case kindSpawn:
		x.sleepUntil(n.a)
		r.start(n.spawn)
		return nil
	case kindGroup:
		if n.entersOnCancel() {
			x.waitUntil(ctx, n.a)
		} else {
			x.sleepUntil(n.a)
		}
		err := x.group(n.child, ctx)
		if err != nil && n.groupWrapsError() {
			err = fmt.Errorf("n%d: %w", n.id, err)
		}
		return err
	}
	panic("chaos: unknown kind " + n.kind.String())
}

// hold acquires n's permits until n.b, holds them until n.b or until ctx is
// done, and returns nil, or the cancellation with its cause (an echo).
func (x *execution) hold(ctx context.Context, n *node) error {
	s, capacity := x.sems[n.sem], x.tr.sems[n.sem]
	actx, cancel := context.WithDeadline(ctx, x.t0.Add(n.b))
	defer cancel()
	if err := s.Acquire(actx, n.weight); err != nil {
		if ctx.Err() != nil {
			if !errors.Is(err, ctx.Err()) || !errors.Is(err, context.Cause(ctx)) {
				x.problemf("n%d: SEM2: Acquire's error %v does not match ctx.Err() %v and its cause %v", n.id, err, ctx.Err(), context.Cause(ctx))
			}
			return err
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			x.problemf("n%d: Acquire(%d) of a semaphore of %d returned %v", n.id, n.weight, capacity, err)
		}
		return nil
	}
	if held := x.held[n.sem].Add(n.weight); held > capacity {
		x.problemf("n%d: SEM: %d permits held of a semaphore of %d", n.id, held, capacity)
	}
	<-actx.Done()
	x.held[n.sem].Add(-n.weight)
	s.Release(n.weight)
	if ctx.Err() != nil {
		// Report the cancellation as Acquire would have (ALL3), so that
		// what the task returns does not depend on when its grant came.
		return errors.Join(ctx.Err(), context.Cause(ctx))
	}
	return nil
}
