package taskgroup

import (
	"context"
	"sync/atomic"
)

// Map, MapOutcomes and FirstOf run one task per item of a slice. Without a
// limit every item is a task handed to add, as Go would. With WithLimit(n),
// n workers take the items by an atomic index (RS4): no slot, semaphore or
// channel hand-off per item, so a long batch of small items costs little
// more than a loop over them.

// newItemGroup is New for a call over items. It takes WithLimit out of the
// group's configuration, so that New makes no limiter, and returns it for
// the call's own use: its workers, or a stream's bound. With WithSemaphore
// the limit stays with the group unless always is set (Map's items then go
// through add, where a task takes a slot and then a permit).
func newItemGroup(ctx context.Context, opts []Option, always bool) (*Group, int) {
	limit := 0
	all := make([]Option, len(opts), len(opts)+1)
	copy(all, opts)
	all = append(all, func(c *config) {
		if c.sem == nil || always {
			limit, c.limit = c.limit, 0
		}
	})
	return New(ctx, all...), limit
}

// runItems runs items 0 to n-1 of c as tasks of g, item idx as task idx,
// on at most limit goroutines when limit > 0 (TG8).
func (g *Group) runItems(n int, c caller, limit int) {
	if limit == 0 {
		for range n {
			g.add("", c, nil, false)
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
			g.wg.Add(1)
			g.runObserved(g.prepare(int(idx), ""), w.c, nil)
			continue
		}
		w.runItem(int(idx))
	}
	returned = true
}

// runItem calls item idx and records how it ended, as run does for a task
// (TG2-TG6), without run's WaitGroup and release: the worker holds the
// group's WaitGroup for all its items, and a limited call over items holds
// no slot or permit. The copy of run's recover keeps the per-item cost to a
// call and an open-coded defer.
func (w *itemWorkers) runItem(idx int) {
	g := w.g
	returned := false
	defer func() {
		if !returned {
			g.record(idx, "", abnormalError(recover()), true)
		}
	}()
	err := w.c.call(g.ctx, idx)
	returned = true
	if err != nil {
		g.record(idx, "", err, false)
	}
}

// skipFrom counts item idx, which this worker took, and every item no worker
// has taken yet as not started (TG7). Swap leaves nothing for the other
// workers, which stop at their next take.
func (w *itemWorkers) skipFrom(idx int64) {
	skipped := 1
	if rest := w.next.Swap(w.n); rest < w.n {
		skipped += int(w.n - rest)
	}
	g := w.g
	g.mu.Lock()
	g.cancelled += skipped
	g.mu.Unlock()
}
