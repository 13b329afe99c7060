package taskgroup

import (
	"runtime"
	"sync"
)

// slots bound how many of a limited group's tasks run at once (TG8).
//
// A task takes a slot when Go starts it and gives it back when it ends. A Go
// that finds every slot taken waits in a FIFO queue holding its task; the
// task that ends next hands its slot straight to the head of the queue and
// runs that task itself, on the goroutine it already has, before the waiting
// Go returns. A busy batch so reuses at most n goroutines, with one wake-up
// per task, and nothing is reserved for n: memory grows with the tasks
// running and the Go calls waiting, never with the limit, so
// WithLimit(math.MaxInt) costs what WithLimit(8) costs.
type slots struct {
	n int

	// mu guards the fields below. It is held for a few instructions, never
	// across a wait (ALL1).
	mu         sync.Mutex
	taken      int         // slots held by running tasks, or handed to a waiting Go's task
	head, tail *slotWaiter // the Go calls waiting for a slot, in arrival order
	free       *slotWaiter // waiters to reuse: the group's own, never shared (ALL2)
}

// A slotWaiter is one Go call waiting for a slot, with its task.
type slotWaiter struct {
	j          job
	ready      chan struct{} // signalled when a worker has taken j: started or refused it
	prev, next *slotWaiter
	queued     bool
}

// start runs j in a free slot, or waits for one, unless try is set, until the
// group's context is done (TG7, TG8). With a shared limiter too, the slot
// comes first and then the permit: a Go that waits for a slot holds no permit
// another group could use.
func (s *slots) start(g *Group, j job, try bool) bool {
	s.mu.Lock()
	if s.taken < s.n && s.head == nil {
		s.taken++
		s.mu.Unlock()
		if g.cfg.limiter != nil {
			if err := g.acquire(&j, try); err != nil {
				if next := s.put(g); next != nil {
					go s.resume(g, next)
				}
				g.refuse(j, err)
				return false
			}
		}
		g.wg.Add(1)
		go s.work(g, j)
		return true
	}
	if try {
		s.mu.Unlock()
		return false
	}
	w := s.enqueue(j)
	s.mu.Unlock()
	if w.spin() {
		s.mu.Lock()
		s.recycle(w)
		s.mu.Unlock()
		return true
	}
	select {
	case <-w.ready:
	case <-g.ctx.Done():
		s.mu.Lock()
		if w.queued { // TG7: no worker took it; it never starts
			s.remove(w)
			s.recycle(w)
			s.mu.Unlock()
			g.notStarted(j)
			return false
		}
		s.mu.Unlock()
		<-w.ready // a worker took it a moment ago, and decides
	}
	s.mu.Lock()
	s.recycle(w)
	s.mu.Unlock()
	return true
}

// work runs j, a task that holds a slot, then the tasks of the Go calls its
// slot is handed to, until no Go waits.
func (s *slots) work(g *Group, j job) {
	for {
		var r *taskRun
		if g.cfg.obs != nil || j.name != "" {
			r = g.prepare(j) // OB1-OB5
		}
		next := g.run(j, r)
		var ok bool
		if j, ok = s.admit(g, next); !ok {
			return
		}
	}
}

// resume runs the task of w, a Go call handed a slot by a worker that cannot
// run it: one that is exiting after runtime.Goexit, or a Go that gave its
// slot back.
func (s *slots) resume(g *Group, w *slotWaiter) {
	if j, ok := s.admit(g, w); ok {
		s.work(g, j)
	}
}

// admit takes the task of w, the Go call just handed a slot, for the worker
// to run, and lets the Go return. A task whose group's context is done by
// now, or that cannot get its permit of a shared limiter, is not started
// (TG7): its slot goes to the next Go in line, whose task admit tries next.
func (s *slots) admit(g *Group, w *slotWaiter) (job, bool) {
	for w != nil {
		j := w.j
		err := g.ctx.Err()
		if err == nil && g.cfg.limiter != nil {
			err = g.acquire(&j, false)
		}
		if err == nil {
			w.ready <- struct{}{}
			return j, true
		}
		next := s.put(g)
		g.refuse(j, err)
		g.wg.Done()
		w.ready <- struct{}{}
		w = next
	}
	return job{}, false
}

// put gives back a slot: to the first Go call in line, whose task then counts
// as started in the group's WaitGroup and is returned for the caller to run,
// or to the free slots.
func (s *slots) put(g *Group) *slotWaiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.head
	if w == nil {
		s.taken--
		return nil
	}
	s.remove(w)
	g.wg.Add(1)
	return w
}

// spin gives the running tasks a moment to end before the Go call parks:
// with short tasks a slot is often handed over within a few yields, and a
// yield costs less than parking and being woken. It reports whether w was
// taken meanwhile. Each yield lets the scheduler run others, so it is no
// busy wait, and a Go in a testing/synctest bubble still ends in a durable
// wait (ALL1).
func (w *slotWaiter) spin() bool {
	for range spinYields {
		runtime.Gosched()
		select {
		case <-w.ready:
			return true
		default:
		}
	}
	return false
}

// spinYields is how many times a goroutine about to park for something
// that short tasks soon give (a slot, a stream's slot or result) yields
// first, checking again after each yield.
const spinYields = 3

func (s *slots) enqueue(j job) *slotWaiter {
	w := s.free
	if w != nil {
		s.free = w.next
		w.next = nil
	} else {
		w = &slotWaiter{ready: make(chan struct{}, 1)}
	}
	w.j, w.queued = j, true
	w.prev = s.tail
	if s.tail != nil {
		s.tail.next = w
	} else {
		s.head = w
	}
	s.tail = w
	return w
}

func (s *slots) remove(w *slotWaiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		s.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		s.tail = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
}

// recycle keeps w for a later wait; its ready channel has been drained.
func (s *slots) recycle(w *slotWaiter) {
	w.j = job{}
	w.next = s.free
	s.free = w
}
