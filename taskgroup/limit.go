package taskgroup

import (
	"context"
	"sync"
	"sync/atomic"
)

// A limiter runs a limited group's tasks on at most n worker goroutines
// (TG8). Go hands a task to an idle worker over an unbuffered channel, so it
// returns only once a worker has taken it: exactly "until a slot is free".
// While fewer than n workers exist, Go starts one instead. Workers stay for
// the group's whole life, so a long batch reuses n goroutines instead of
// starting one per task; Wait ends them once every task has returned.
//
// A Go blocked on the hand-off must not ignore cancellation (TG8). Rather than
// pay for a select on every hand-off, the limiter registers a drainer with
// context.AfterFunc: once the group's context is done, the drainer takes every
// task handed over and counts it as not started (TG7), as workers do with a
// task they receive after cancellation.
type limiter struct {
	n       int32
	live    atomic.Int32 // workers started and not yet ended
	jobs    chan job
	workers sync.WaitGroup

	stopDrainer func() bool
	drained     chan struct{} // closed when the drainer has ended

	// reserved holds a token for every task that has its permit of the
	// group's semaphore (WithSemaphore with WithLimit): at most n.
	reserved chan struct{}
}

type job struct {
	c    caller
	t    finisher
	name string
	idx  int
	held bool // the task already holds its permit of the group's semaphore
}

func newLimiter(g *Group, n int) *limiter {
	l := &limiter{n: int32(n), jobs: make(chan job), drained: make(chan struct{})}
	if g.cfg.sem != nil {
		l.reserved = make(chan struct{}, n)
	}
	l.stopDrainer = context.AfterFunc(g.ctx, func() {
		defer close(l.drained)
		for j := range l.jobs {
			g.skip(j.t, j.held)
		}
	})
	return l
}

// start hands j to an idle worker, or to a new one while there are fewer
// than n. Unless try is set, it then waits for a worker to take it; once the
// group's context is done, the drainer takes it instead and it is not started
// (TG7, TG8).
func (l *limiter) start(g *Group, j job, try bool) bool {
	g.wg.Add(1)
	select {
	case l.jobs <- j: // an idle worker took it
		return true
	default:
	}
	for {
		live := l.live.Load()
		if live >= l.n {
			break
		}
		if l.live.CompareAndSwap(live, live+1) {
			l.workers.Add(1)
			go l.work(g, j)
			return true
		}
	}
	if try {
		if j.held {
			g.releasePermit()
		}
		g.wg.Done()
		return false
	}
	l.jobs <- j
	return true
}

// work runs j and then every task handed to it, until Wait closes the jobs
// channel. A task received after the group's context is done is not started
// (TG7), so a Go that was blocked never starts its task late. A task that
// calls runtime.Goexit ends the worker; it starts its own replacement so the
// group keeps n workers for the Go calls that wait on them.
func (l *limiter) work(g *Group, j job) {
	ended := false
	defer func() {
		if !ended {
			l.workers.Add(1)
			go l.work(g, job{})
		} else {
			l.live.Add(-1)
		}
		l.workers.Done()
	}()
	for ok := j.c != nil; ; {
		if ok {
			if g.ctx.Err() != nil {
				g.skip(j.t, j.held)
			} else if g.cfg.obs != nil || j.name != "" {
				g.runObserved(g.prepare(j.idx, j.name), j.c, j.t) // OB1-OB5
			} else {
				g.run(j.idx, j.name, j.c, j.t)
			}
		}
		if j, ok = <-l.jobs; !ok {
			ended = true
			return
		}
	}
}

// stop ends the workers and the drainer and waits for them; Wait calls it
// once every task has returned, so no Go can be handing a task over.
func (l *limiter) stop() {
	close(l.jobs)
	l.workers.Wait()
	if !l.stopDrainer() {
		<-l.drained
	}
}

// acquire takes the task's permit of the group's shared semaphore
// (WithSemaphore), waiting in the semaphore's FIFO order unless try is set.
// A task that gets no permit is not started: on cancellation it counts as
// cancelled (TG7); when the semaphore is closed or too small for one permit,
// it fails with the semaphore's error, as a task it is.
func (g *Group) acquire(idx int, name string, t finisher, try bool) bool {
	s := g.cfg.sem
	if try {
		return s.TryAcquire(1)
	}
	err := s.Acquire(g.ctx, 1)
	if err == nil {
		return true
	}
	if g.ctx.Err() != nil {
		g.notStarted(t)
		return false
	}
	if t != nil {
		t.finish(err)
	}
	g.record(idx, name, err, false)
	return false
}

// reserve readies a task of a group with both a limit and a semaphore: it
// reserves one of the group's n slots, then takes the task's permit of the
// shared semaphore, both in Go's goroutine and in call order. A Go waiting
// for a slot so holds no permit that another group could use, and the tasks
// take their permits in the order of their Go calls. Unless try is set, it
// waits for both until the group's context is done (TG7, TG8).
func (l *limiter) reserve(g *Group, idx int, name string, t finisher, try bool) bool {
	select {
	case l.reserved <- struct{}{}:
	default:
		if try {
			return false
		}
		select {
		case l.reserved <- struct{}{}:
		case <-g.ctx.Done():
			g.notStarted(t)
			return false
		}
	}
	if !g.acquire(idx, name, t, try) {
		<-l.reserved
		return false
	}
	return true
}
