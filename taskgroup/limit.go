package taskgroup

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/leash-go/leash/semaphore"
)

// A limiter runs a limited group's tasks on at most n worker goroutines
// (TG8).
//
// A task holds one of n slots, a permit of a semaphore of the group's own,
// from the moment Go takes it until the task has ended: so at most n tasks
// run at once, and Go blocks exactly "until a slot is free or the group's
// context is done", in the FIFO order of the Go calls. With a slot in hand, Go
// puts the task on a queue that can hold n and so never blocks, and workers,
// started one per task up to n and kept for the group's whole life, take the
// tasks from it. A long batch so reuses n goroutines instead of starting one
// per task, and the uncontended paths are an atomic compare-and-swap and a
// buffered channel operation. Wait ends the workers once every task has
// returned.
type limiter struct {
	n       int32
	live    atomic.Int32         // workers started and not yet ended
	slots   *semaphore.Semaphore // n permits: a task holds one from Go until it ends
	jobs    chan job             // capacity n: never full, as the slots bound it
	workers sync.WaitGroup
}

type job struct {
	c    caller
	t    finisher
	name string
	idx  int
}

func newLimiter(n int) *limiter {
	return &limiter{n: int32(n), slots: semaphore.New(int64(n)), jobs: make(chan job, n)}
}

// start takes a slot for j, waiting for one unless try is set, and then the
// permit of the group's shared semaphore (WithSemaphore), in that order: a
// Go waiting for a slot holds no permit that another group could use. Then
// it queues j for a worker. A task that gets no slot or permit because the
// group's context is done is not started (TG7, TG8).
func (l *limiter) start(g *Group, j job, try bool) bool {
	if err := take(g.ctx, l.slots, try); err != nil {
		g.refuse(j.idx, j.name, j.t, err)
		return false
	}
	if s := g.cfg.sem; s != nil {
		if err := take(g.ctx, s, try); err != nil {
			l.slots.Release(1) // before a Task's Done closes, as in ended
			g.refuse(j.idx, j.name, j.t, err)
			return false
		}
	}
	g.wg.Add(1)
	l.jobs <- j
	for live := l.live.Load(); live < l.n; live = l.live.Load() {
		if l.live.CompareAndSwap(live, live+1) {
			l.workers.Add(1)
			go l.work(g)
			break
		}
	}
	return true
}

// work runs queued tasks until Wait closes the queue. A task taken after the
// group's context is done is not started (TG7), so a task queued just before
// the cancellation does not start late. A task that calls runtime.Goexit ends
// the worker; it starts its own replacement so the group keeps its workers.
func (l *limiter) work(g *Group) {
	ended := false
	defer func() {
		if !ended {
			go l.work(g) // the replacement takes over this worker's count
			return
		}
		l.live.Add(-1)
		l.workers.Done()
	}()
	for j := range l.jobs {
		switch {
		case g.ctx.Err() != nil:
			g.skip(j.t)
		case g.cfg.obs != nil || j.name != "":
			g.runObserved(g.prepare(j.idx, j.name), j.c, j.t) // OB1-OB5
		default:
			g.run(j.idx, j.name, j.c, j.t)
		}
	}
	ended = true
}

// stop ends the workers and waits for them; Wait calls it once every task
// has returned, so no Go can be queueing a task.
func (l *limiter) stop() { close(l.jobs); l.workers.Wait() }

// errBusy is take's answer to TryGo when no permit is free: the task is
// simply not started.
var errBusy = errors.New("taskgroup: no free slot")

// take takes one permit of s for a task: a slot of the group's limit, or a
// permit of its shared semaphore. Unless try is set, it waits in s's FIFO
// order until ctx is done.
func take(ctx context.Context, s *semaphore.Semaphore, try bool) error {
	if !try {
		return s.Acquire(ctx, 1)
	}
	if !s.TryAcquire(1) {
		return errBusy
	}
	return nil
}

// refuse ends a task that take could not start. A TryGo that found nothing
// free counts nothing; a task stopped by the group's cancellation counts as
// cancelled (TG7); a task refused by a closed semaphore, or one too small for
// one permit, fails with the semaphore's error, as a task it is, recorded
// before its Task's Done closes (TG2).
func (g *Group) refuse(idx int, name string, t finisher, err error) {
	switch {
	case err == errBusy:
	case g.ctx.Err() != nil:
		g.notStarted(t)
	default:
		g.record(idx, name, err, false)
		if t != nil {
			t.finish(err)
		}
	}
}
