package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
)

// The run: a scenario's tasks handed to the group, recording what each saw
// and did.

// propObs is what one task saw and did.
type propObs struct {
	started   bool
	finished  atomic.Bool
	startAt   time.Duration
	endAt     time.Duration
	sawCancel bool
	cause     error // context.Cause when it woke on ctx.Done
	ret       error // what it returned
	tried     bool  // TryGo's report
	task      *taskgroup.Task[int]
}

// propRun runs one scenario's tasks and records what they saw.
type propRun struct {
	sc         *propScenario
	start      time.Time
	g          *taskgroup.Group // nil for Map and First
	obs        []propObs
	sentinels  []error
	panicErrs  []error
	running    atomic.Int32
	maxRunning atomic.Int32

	parentCause error // the parent's cause; context.DeadlineExceeded for a plain deadline

	sem *semaphore.Semaphore // WithSemaphore's, nil without
}

func newPropRun(sc *propScenario) *propRun {
	r := &propRun{sc: sc, start: time.Now(), obs: make([]propObs, len(sc.tasks))}
	for id := range sc.tasks {
		r.sentinels = append(r.sentinels, fmt.Errorf("task %d failed", id))
		r.panicErrs = append(r.panicErrs, fmt.Errorf("task %d panicked", id))
	}
	if sc.withSemaphore > 0 {
		r.sem = semaphore.New(int64(sc.withSemaphore))
	}
	return r
}

func (r *propRun) since() time.Duration { return time.Since(r.start) }

func propValue(id int) int { return 100 + id }

func propName(id int) string { return fmt.Sprintf("t%d", id) }

// withParent calls body with the parent context as drawn, and stops its
// timers afterwards.
func (r *propRun) withParent(body func(ctx context.Context)) {
	defer r.holdOutside()()
	p := r.sc.parent
	bg := context.Background()
	switch p.kind {
	case "cancel":
		r.parentCause = errors.New("parent cancelled")
		ctx, cancel := context.WithCancelCause(bg)
		defer cancel(nil)
		if p.at < 0 {
			cancel(r.parentCause)
		} else {
			timer := time.AfterFunc(p.at, func() { cancel(r.parentCause) })
			defer timer.Stop()
		}
		body(ctx)
	case "deadline":
		r.parentCause = context.DeadlineExceeded
		var (
			ctx    context.Context
			cancel context.CancelFunc
		)
		if p.customCause {
			r.parentCause = errors.New("parent's deadline")
			ctx, cancel = context.WithDeadlineCause(bg, r.start.Add(p.at), r.parentCause)
		} else {
			ctx, cancel = context.WithDeadline(bg, r.start.Add(p.at))
		}
		defer cancel()
		body(ctx)
	case "stopped group":
		// Nested groups: the parent is a task's context whose group is
		// stopped, so the parent's cause is ErrStopped too.
		r.parentCause = taskgroup.ErrStopped
		outer := taskgroup.New(bg)
		if p.at < 0 {
			outer.Stop()
		} else {
			timer := time.AfterFunc(p.at, outer.Stop)
			defer timer.Stop()
		}
		defer outer.Wait()
		body(outer.Context())
	default:
		body(bg)
	}
}

// holdOutside takes the outsider's permits of the group's semaphore and lets
// them go at sc.outsideUntil, one at a time: each is granted, and whatever
// that grant sets off at this instant has happened (synctest.Wait), before
// the next. Let go at once, two permits could wake both the test goroutine
// and a spawner, and the order in which they go on (the spawner returning
// its permit, the test goroutine's TryGo looking for one) would be up to the
// scheduler. The function it returns stops that timer, and lets them go at
// once if it has not fired.
func (r *propRun) holdOutside() func() {
	if r.sc.outside == 0 {
		return func() {}
	}
	if !r.sem.TryAcquire(int64(r.sc.outside)) {
		panic("property: the outsider cannot take its permits")
	}
	timer := time.AfterFunc(r.sc.outsideUntil, func() {
		for range r.sc.outside {
			r.sem.Release(1)
			synctest.Wait()
		}
	})
	return func() {
		if timer.Stop() {
			r.sem.Release(int64(r.sc.outside))
		}
	}
}

// body is task id's function.
func (r *propRun) body(ctx context.Context, id int) (val int, err error) {
	t, o := r.sc.tasks[id], &r.obs[id]
	o.started, o.startAt = true, r.since()
	n := r.running.Add(1)
	for {
		most := r.maxRunning.Load()
		if n <= most || r.maxRunning.CompareAndSwap(most, n) {
			break
		}
	}
	defer func() {
		o.endAt = r.since()
		o.ret = err
		r.running.Add(-1)
		o.finished.Store(true)
	}()
	val = propValue(id)
	if t.coop {
		timer := time.NewTimer(t.delay)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			o.sawCancel, o.cause = true, context.Cause(ctx)
			return val, t.echo.of(ctx, id)
		case <-timer.C:
		}
	} else {
		time.Sleep(t.delay) // fake time: the property runs in a testing/synctest bubble (rapid.SyncTest)
	}
	switch t.kind {
	case kindFail:
		return val, r.sentinels[id]
	case kindFailCanceled:
		inner, cancel := context.WithCancel(context.Background())
		cancel()
		return val, inner.Err()
	case kindFailNested:
		inner := taskgroup.New(ctx)
		inner.Go(func(context.Context) error { return r.sentinels[id] })
		return val, inner.Wait()
	case kindLateEcho:
		if ctx.Err() != nil {
			return val, t.echo.of(ctx, id)
		}
	case kindPanicErr:
		panic(r.panicErrs[id])
	case kindPanicStr:
		panic(fmt.Sprintf("task %d panicked", id))
	case kindPanicNil:
		panic(nil)
	case kindPanicCanceled:
		panic(context.Canceled)
	case kindGoexit:
		runtime.Goexit()
	case kindSpawn:
		r.launch(t.child)
	}
	return val, nil
}

// launch hands task id to the group the way it was drawn.
func (r *propRun) launch(id int) {
	g, t, o := r.g, r.sc.tasks[id], &r.obs[id]
	fn := func(ctx context.Context) error {
		_, err := r.body(ctx, id)
		return err
	}
	typed := func(ctx context.Context) (int, error) { return r.body(ctx, id) }
	switch t.via {
	case viaGo:
		g.Go(fn)
	case viaGoNamed:
		g.GoNamed(propName(id), fn)
	case viaTryGo:
		o.tried = g.TryGo(fn)
	case viaSpawn:
		o.task = taskgroup.Spawn(g, typed)
	case viaSpawnNamed:
		o.task = taskgroup.SpawnNamed(g, propName(id), typed)
	}
}

// propRecover calls wait and returns what it returned or the value it
// panicked with.
func propRecover(wait func() error) (panicked any, err error) {
	defer func() { panicked = recover() }()
	return nil, wait()
}
