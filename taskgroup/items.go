package taskgroup

import (
	"context"
	"sync/atomic"

	"github.com/leash-go/leash/panics"
)

// Map, MapOutcomes, FirstOf and the streams run one task per item. Without a
// limit every item is a task handed to add, as Go would. With WithLimit(n),
// n workers take the items by an atomic index (RS4): no slot, semaphore or
// channel hand-off per item, so a long batch of small items costs little
// more than a loop over them.

// newItemGroup is newGroup for a call over items. It takes the limit of
// WithLimit out of the group, so that no task waits for a slot, and returns
// it for the call's own use: its workers, or a stream's bound. With a shared
// limiter (WithSemaphore, WithLimiter) the limit stays with the group unless
// always is set: items then go through add, where a task takes a slot and
// then a permit, in the items' order.
func newItemGroup(ctx context.Context, opts []Option, always bool) (*Group, int) {
	g := newGroup(ctx, opts)
	limit := 0
	if g.slots != nil && (g.cfg.limiter == nil || always) {
		limit, g.slots = g.slots.n, nil
	}
	return g, limit
}

// runItems runs items 0 to n-1 of c as tasks of g, item idx as task idx, on
// at most limit goroutines when limit > 0 (TG8).
func (g *Group) runItems(n int, c caller, limit int) {
	if limit == 0 {
		for range n {
			g.add(job{c: c}, viaMap)
		}
		return
	}
	w := &itemWorkers{g: g, c: c, n: int64(n)}
	workers := min(limit, n)
	g.wg.Add(workers) // a worker counts as one task until it runs out of items
	for range workers {
		go w.work()
	}
}

// itemWorkers are the goroutines of a limited call over items.
type itemWorkers struct {
	g    *Group
	c    caller
	n    int64
	next atomic.Int64 // the next item to take; may run past n
}

// work runs items until there are none left. An item taken after the
// group's context is done is not started (TG7), nor is any item after it.
// An item that calls runtime.Goexit ends the worker's goroutine; its
// replacement takes over the worker's place in the group's WaitGroup.
func (w *itemWorkers) work() {
	g := w.g
	returned := false
	defer func() {
		if !returned {
			go w.work()
			return
		}
		g.wg.Done()
	}()
	for {
		idx := w.next.Add(1) - 1
		if idx >= w.n {
			break
		}
		if g.ctx.Err() != nil {
			w.skipFrom(idx)
			break
		}
		if g.cfg.obs != nil { // OB1-OB5: every item is seen as a task
			j := job{c: w.c, idx: int(idx)}
			g.wg.Add(1)
			g.run(j, g.prepare(j))
			continue
		}
		w.runItem(int(idx))
	}
	returned = true
}

// runItem calls item idx and records how it ended, as run does for a task
// (TG2-TG6, TG14), without run's WaitGroup count and release: the worker
// holds the group's WaitGroup for all its items, and a limited call over
// items holds no slot or permit. The copy of run's recover keeps the
// per-item cost to a call and an open-coded defer.
func (w *itemWorkers) runItem(idx int) {
	g := w.g
	returned := false
	defer func() {
		if !returned {
			j := job{c: w.c, idx: idx}
			g.record(j, g.abnormal(j, recover()), true)
		}
	}()
	err := w.c.call(g.ctx, idx)
	returned = true
	if err != nil {
		g.record(job{c: w.c, idx: idx}, err, false)
	}
}

// skipFrom counts item idx, which this worker took, and every item no worker
// has taken yet as not started (TG7). Swap leaves nothing for the other
// workers, which stop at their next take.
func (w *itemWorkers) skipFrom(idx int64) {
	skipped := int64(1)
	if rest := w.next.Swap(w.n); rest < w.n {
		skipped += w.n - rest
	}
	w.g.cancelled.Add(skipped)
}

// inputError is the error of an input iterator that did not return: its
// panic, with its stack, or ErrGoexit.
func inputError(v any) error {
	if v == nil {
		return ErrGoexit
	}
	return panics.Capture(v)
}
