package taskgroup

import (
	"context"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
)

// Results is a stream of results (RS2): what Stream and AsCompleted return.
// Nothing runs until its All is ranged over; then fn runs on the input's
// items as tasks of a new group, and the loop body receives each success as
// it comes. After the loop, Err says how the group ended (RS3).
//
// A Results can be ranged once: a second range statement panics. Call
// Stream again for another run.
type Results[T any] struct {
	run    func(r *Results[T], yield func(int, T) bool)
	ranged atomic.Bool
	err    error
	state  interface{ waiting() int } // the running stream, for tests
}

// Stream calls fn on each item of in, each as a task of a new group under
// ctx, and hands the results to the loop over All in input order (RS2), like
// conc's stream:
//
//	res := taskgroup.Stream(ctx, slices.Values(urls), fetch, taskgroup.WithLimit(8))
//	for i, page := range res.All() {
//		fmt.Println(urls[i], len(page))
//	}
//	if err := res.Err(); err != nil {
//		return err
//	}
//
// The loop receives (index, value) for every item whose fn returned a nil
// error, the index counting the input's items from 0; see Results.All for
// what happens when the loop is left early, and Results.Err for the rest.
//
// WithLimit(n) bounds the items started and not yet received by the loop:
// at most n run at once, and at most n finished results wait for a slow
// loop body, however long the input, so memory stays bounded (with a slow
// first item, the items behind it wait rather than pile up). Without a
// limit, every item starts as soon as the input yields it, and finished
// results wait for the loop in memory. The other options are the group's:
// CollectAll, PanicsAsErrors, WithName, WithHooks, WithSemaphore and the
// rest apply to the items as to any task.
//
// in is ranged once per run, in a goroutine of the stream's own, alongside
// the loop body; it should end, or yield its next item, promptly once ctx is
// done, as the range statement waits for it. A nil in is an empty input: the
// loop body never runs. A nil ctx or fn panics (ALL4, TG10).
func Stream[In, Out any](ctx context.Context, in iter.Seq[In], fn func(ctx context.Context, item In) (Out, error), opts ...Option) *Results[Out] {
	return newResults("Stream", ctx, in, fn, opts, true)
}

// AsCompleted is Stream with the results in the order the items finished,
// like asyncio's as_completed: the loop receives each success as soon as
// its fn has returned, with the item's index in the input. WithLimit(n)
// bounds the items started and not yet received by the loop, as in Stream.
func AsCompleted[In, Out any](ctx context.Context, in iter.Seq[In], fn func(ctx context.Context, item In) (Out, error), opts ...Option) *Results[Out] {
	return newResults("AsCompleted", ctx, in, fn, opts, false)
}

func newResults[In, Out any](what string, ctx context.Context, in iter.Seq[In], fn func(ctx context.Context, item In) (Out, error), opts []Option, ordered bool) *Results[Out] {
	checkItemCall(what, ctx, fn == nil)
	return &Results[Out]{run: func(r *Results[Out], yield func(int, Out) bool) {
		if in == nil {
			return
		}
		g, limit := newItemGroup(ctx, opts, true)
		s := &stream[In, Out]{
			g: g, fn: fn, limit: limit, ordered: ordered, feeding: true,
			ready: make(chan struct{}, 1), free: make(chan struct{}, 1), fed: make(chan struct{}),
		}
		if g.cfg.limiter == nil {
			s.work = make(chan *streamItem[In, Out])
		}
		r.state = s
		s.run(r, in, yield)
	}}
}

// All returns the sequence of results for a range statement: the index of
// each item that succeeded, and its value.
//
// The loop body runs in the ranging goroutine. The range statement ends
// only once every item's fn has returned and the input is no longer ranged
// (TG1). Leaving the loop early, by break, return, goto or a panic, stops
// the group (cause ErrStopped): no item starts any more, the running ones
// see their context done, and the range statement waits for them. A panic
// in the body goes on, unchanged, once they have returned.
//
// A panic in an item is re-raised by the range statement once every item
// has returned, as Wait re-raises it (TG5), even when the loop was left
// early, unless PanicsAsErrors is given. A panic in the input is re-raised
// by the range statement the same way, as a *PanicError with the input's
// stack, and takes precedence.
//
// Ranging a second time panics.
func (r *Results[T]) All() iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		if !r.ranged.CompareAndSwap(false, true) {
			panic("taskgroup: the results of a stream were ranged twice; call Stream or AsCompleted again for another run")
		}
		r.run(r, yield)
	}
}

// Err reports how the stream's group ended, as Wait does (RS3, TG4), once
// the range statement over All has ended; before that, and when nothing was
// ranged, it returns nil.
//
// The loop receives the successes only; Err has the rest. Fail-fast by
// default: the first real failure (an error that is not a cancellation echo,
// a panic, a Goexit) cancels the group (TG2), so that no item starts any
// more, and the range statement ends once the running ones have returned.
// With CollectAll, every item runs. Either way Err is nil, or an *Error that
// lists every real failure with its item's index and counts in Cancelled
// the items that echoed the cancellation and those the input yielded but
// that never started; a successful item is always received, unless the
// loop was left before it. A failure is never lost: not when the loop was
// left early, nor when an item failed at the moment the body broke out.
// Leaving the loop early is not a failure: the items it cancels are echoes,
// so Err is nil unless an item really failed.
func (r *Results[T]) Err() error { return r.err }

// stream is one run of a Results: a feeder goroutine ranges over the input
// and starts the items as tasks of g; the items, as they finish, leave their
// results for the loop; the loop takes them in order.
type stream[In, Out any] struct {
	g       *Group
	fn      func(ctx context.Context, item In) (Out, error)
	limit   int // bound on held; 0 for none
	ordered bool

	work    chan *streamItem[In, Out] // items handed to idle workers; nil with a shared limiter
	workers int                       // started by the feeder, which alone reads it
	idle    atomic.Int32              // workers between items, not yet claimed by hand

	ready chan struct{} // capacity 1: the loop may have something to take
	free  chan struct{} // capacity 1: the feeder may have a slot
	fed   chan struct{} // closed when the feeder has ended
	input error         // the input's panic or Goexit, set before fed closes

	mu sync.Mutex // guards the fields below
	// pending holds, in input order (Stream), the items started and not yet
	// taken by the loop; in the order they finished (AsCompleted), the
	// items finished and not yet taken.
	pending  queue[*streamItem[In, Out]]
	held     int  // items started and not yet taken by the loop: at most limit (RS2)
	finished int  // items finished and not yet taken by the loop
	feeding  bool // the feeder may start more items
}

// A streamItem is one item of a stream and its task.
type streamItem[In, Out any] struct {
	s    *stream[In, Out]
	idx  int
	item In
	val  Out
	ok   bool // fn returned a nil error
	done bool // the task has ended, or was never started
}

func (it *streamItem[In, Out]) call(ctx context.Context, _ int) error {
	v, err := it.s.fn(ctx, it.item)
	it.val = v
	return err
}

// finish is called once for every item given to the group: when its task
// has ended (after the group recorded its failure, TG2), or when the group
// did not start it (TG7).
func (it *streamItem[In, Out]) finish(err error) {
	s := it.s
	var zero In
	s.mu.Lock()
	it.item = zero
	it.ok, it.done = err == nil, true
	s.finished++
	wake := true
	if s.ordered {
		// In input order the loop waits for the first pending item only.
		front, _ := s.pending.front()
		wake = front == it
	} else {
		s.pending.push(it)
	}
	s.mu.Unlock()
	if wake {
		signal(s.ready)
	}
}

func (s *stream[In, Out]) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finished
}

// signal wakes the one goroutine that may wait on c, now or at its next
// wait.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// run is one range statement over All.
func (s *stream[In, Out]) run(r *Results[Out], in iter.Seq[In], yield func(int, Out) bool) {
	go s.feed(in)
	ended := false
	defer func() {
		if ended {
			return
		}
		// The body panicked or called runtime.Goexit, which goes on once
		// the items have returned; Err keeps the group's outcome.
		s.g.Stop()
		<-s.fed
		_, r.err = s.wait()
	}()
	for {
		it := s.next()
		if it == nil {
			break
		}
		if it.ok && !yield(it.idx, it.val) {
			s.g.Stop()
			break
		}
	}
	ended = true
	<-s.fed
	p, err := s.wait()
	r.err = err
	if s.input != nil {
		panic(s.input)
	}
	if p != nil {
		panic(p) // TG5
	}
}

// wait is the group's Wait, with the panic Wait raises again (TG5) caught
// and returned, so that Err keeps the *Error before the panic goes on.
func (s *stream[In, Out]) wait() (p any, err error) {
	defer func() {
		if p = recover(); p != nil {
			err, _ = p.(error)
		}
	}()
	return nil, s.g.Wait()
}

// next waits for the loop's next item, in the stream's order, and takes
// it; nil once every item was taken and the feeder has ended.
func (s *stream[In, Out]) next() *streamItem[In, Out] {
	for tries := 0; ; tries++ {
		s.mu.Lock()
		if it, ok := s.pending.front(); ok && it.done {
			s.pending.pop()
			s.held--
			s.finished--
			s.mu.Unlock()
			signal(s.free)
			return it
		}
		if !s.feeding && s.held == 0 {
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		if tries < spinYields {
			runtime.Gosched() // as in acquire
			continue
		}
		<-s.ready
	}
}

// feed ranges over the input and starts each item as a task of the group,
// in order, so that item i is task i. It waits for a slot when the limit is
// reached, and stops once the group's context is done: the item the input
// yielded last then counts as not started (TG7). A panic or Goexit in the
// input stops the group and is kept for the range statement.
func (s *stream[In, Out]) feed(in iter.Seq[In]) {
	returned := false
	defer func() {
		if !returned {
			s.input = inputError(recover())
			s.g.Stop()
		}
		if s.work != nil {
			close(s.work) // the idle workers end
		}
		s.mu.Lock()
		s.feeding = false
		s.mu.Unlock()
		close(s.fed)
		signal(s.ready)
	}()
	idx := 0
	for v := range in {
		if !s.acquire() {
			s.g.notStarted(job{})
			break
		}
		it := &streamItem[In, Out]{s: s, idx: idx, item: v}
		if s.ordered {
			s.mu.Lock()
			s.pending.push(it)
			s.mu.Unlock()
		}
		if s.work == nil {
			s.g.add(job{c: it, t: it}, viaStream) // a task takes a permit of the shared limiter
		} else {
			s.hand(it)
		}
		idx++
	}
	returned = true
}

// hand gives item it to an idle worker, or to a new one. Workers are the
// group's tasks, each running items one after another, so that a long
// stream of short items does not start a goroutine for each (as conc's
// stream does not). An item never waits for another one to end while the
// limit allows a new worker: hand claims an idle worker (one between items,
// about to receive) before it sends, so that it never sends to a worker that
// has just taken an item and is busy with it; with none idle, a new worker
// starts. Only at the limit does an item wait for the next worker to be
// free, and as the feeder holds a slot for it, one of them is about to be.
func (s *stream[In, Out]) hand(it *streamItem[In, Out]) {
	claimed := false
	for n := s.idle.Load(); n > 0 && !claimed; n = s.idle.Load() {
		claimed = s.idle.CompareAndSwap(n, n-1)
	}
	if !claimed && (s.limit == 0 || s.workers < s.limit) {
		s.workers++
		s.g.wg.Add(1)
		go s.worker(it)
		return
	}
	select {
	case s.work <- it:
		if !claimed {
			s.idle.Add(-1) // the worker that took it had counted itself idle
		}
	case <-s.g.ctx.Done():
		s.g.notStarted(job{c: it, t: it, idx: it.idx}) // TG7
	}
}

// worker runs first, then the items handed to it, until the feeder has
// ended. An item that calls runtime.Goexit ends the worker's goroutine; its
// replacement takes over the worker's place in the group's WaitGroup.
func (s *stream[In, Out]) worker(first *streamItem[In, Out]) {
	returned := false
	defer func() {
		if !returned {
			go s.worker(nil)
			return
		}
		s.g.wg.Done()
	}()
	if first != nil {
		s.runItem(first)
	}
	for {
		s.idle.Add(1) // hand takes it back when it claims this worker
		it, ok := <-s.work
		if !ok {
			break
		}
		s.runItem(it)
	}
	returned = true
}

// runItem runs one item as a task of the group: not at all when the
// group's context is done (TG7); seen, when the group has an observer
// (OB1-OB5); otherwise recorded as run records a task (TG2-TG6) and, like
// itemWorkers.runItem, without a WaitGroup count of its own.
func (s *stream[In, Out]) runItem(it *streamItem[In, Out]) {
	g := s.g
	j := job{c: it, t: it, idx: it.idx}
	switch {
	case g.ctx.Err() != nil:
		g.notStarted(j)
		return
	case g.cfg.obs != nil:
		g.wg.Add(1)
		g.run(j, g.prepare(j))
		return
	}
	returned := false
	defer func() {
		if !returned {
			err := g.abnormal(j, recover())
			g.record(j, err, true)
			it.finish(err)
		}
	}()
	err := it.call(g.ctx, it.idx)
	returned = true
	if err != nil {
		g.record(j, err, false)
	}
	it.finish(err)
}

// acquire holds a slot for the next item (RS2): it waits while limit items
// are held, and reports false once the group's context is done.
func (s *stream[In, Out]) acquire() bool {
	for tries := 0; ; tries++ {
		if s.g.ctx.Err() != nil {
			return false
		}
		s.mu.Lock()
		if s.limit == 0 || s.held < s.limit {
			s.held++
			s.mu.Unlock()
			return true
		}
		s.mu.Unlock()
		if tries < spinYields {
			// With short items a slot is often free within a few yields,
			// which cost less than parking and being woken (as slots.spin).
			runtime.Gosched()
			continue
		}
		select {
		case <-s.free:
		case <-s.g.ctx.Done():
			return false
		}
	}
}

// A queue is a FIFO whose memory follows its length: a slice that pop
// consumes from the front and that push compacts when half of it has been
// consumed, so that a queue that stays short never allocates again.
type queue[T any] struct {
	items []T
	head  int
}

func (q *queue[T]) push(v T) {
	if q.head > 0 && len(q.items) == cap(q.items) && q.head >= len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, v)
}

func (q *queue[T]) front() (v T, ok bool) {
	if q.head == len(q.items) {
		return v, false
	}
	return q.items[q.head], true
}

func (q *queue[T]) pop() {
	var zero T
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
}
