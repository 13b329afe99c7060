package taskgroup

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Map calls fn on every item of in, each as a task of a new group under ctx,
// and returns the results in the order of in (TG12): len(out) == len(in), and
// out[i] is fn's value for in[i] for every item that succeeded; a failed or
// never-started item leaves the zero value. The error is the group's, as from
// Wait (TG4), with each TaskError's Index the item's index.
//
// Map fails fast unless CollectAll is given; WithLimit(n) runs the items on at
// most n goroutines, whatever their number. Panics are re-raised (TG5) unless
// PanicsAsErrors is given.
func Map[In, Out any](ctx context.Context, in []In, fn func(ctx context.Context, item In) (Out, error), opts ...Option) ([]Out, error) {
	if fn == nil {
		panic("taskgroup: Map called with a nil function")
	}
	if ctx == nil {
		panic("taskgroup: Map called with a nil context; pass context.Background() or the caller's context")
	}
	m := &mapper[In, Out]{in: in, out: make([]Out, len(in)), fn: fn}
	g := newGroup(ctx, opts)
	if g.slots != nil && g.cfg.limiter == nil {
		// TG8: n workers take the items in order, by index; a slot per item
		// would be a hand-off per item. (With a shared limiter too, items go
		// through Go's path, so that they ask for permits in their order.)
		workers := min(g.slots.n, len(in))
		g.slots = nil
		g.wg.Add(workers)
		for range workers {
			go m.work(g)
		}
	} else {
		for range in {
			g.add(job{c: m}, viaMap)
		}
	}
	return m.out, g.Wait()
}

// work runs items of a limited Map until none is left, each as a task of g
// with the item's index. An item taken once g's context is done is not
// started (TG7). A worker ended by an item's runtime.Goexit hands its place
// in g's WaitGroup to a replacement, so every item is accounted for.
func (m *mapper[In, Out]) work(g *Group) {
	finished := false
	defer func() {
		if !finished {
			go m.work(g)
			return
		}
		g.wg.Done()
	}()
	for {
		i := int(m.next.Add(1) - 1)
		if i >= len(m.in) {
			finished = true
			return
		}
		j := job{c: m, idx: i}
		if g.ctx.Err() != nil {
			g.notStarted(j) // TG7
			continue
		}
		var r *taskRun
		if g.cfg.obs != nil {
			r = g.prepare(j) // OB1-OB5
		}
		g.wg.Add(1)
		g.run(j, r)
	}
}

// mapper is every item of one Map call: item idx is task idx of its group.
type mapper[In, Out any] struct {
	in   []In
	out  []Out
	fn   func(ctx context.Context, item In) (Out, error)
	next atomic.Int64 // the next item a worker takes, with a limit
}

func (m *mapper[In, Out]) call(ctx context.Context, idx int) error {
	v, err := m.fn(ctx, m.in[idx])
	if err == nil {
		m.out[idx] = v
	}
	return err
}

// ErrNoFunctions is returned by First when it is given no functions.
var ErrNoFunctions = errors.New("taskgroup: First called with no functions")

// First runs every fn at once and returns the first success, cancelling the
// others with ErrStopped as their cause; it returns only after every fn has
// returned (TG13). A failure does not cancel the others: each is another way
// to the same answer. If none succeeds, the error is an *Error listing every
// failure (or the parent's cancellation). With no functions, First returns
// ErrNoFunctions. A panic in any fn is re-raised once all have returned (TG5).
//
// First starts the functions in order; one that has not been started when
// another has already succeeded is not started at all (TG7).
func First[T any](ctx context.Context, fns ...func(ctx context.Context) (T, error)) (T, error) {
	if ctx == nil {
		panic("taskgroup: First called with a nil context; pass context.Background() or the caller's context")
	}
	var zero T
	if len(fns) == 0 {
		return zero, ErrNoFunctions
	}
	for _, fn := range fns {
		if fn == nil {
			panic("taskgroup: First called with a nil function")
		}
	}
	g := New(ctx, CollectAll())
	var (
		mu     sync.Mutex
		won    bool
		winner T
	)
	for _, fn := range fns {
		g.Go(func(ctx context.Context) error {
			v, err := fn(ctx)
			if err != nil {
				return err
			}
			mu.Lock()
			if !won {
				won, winner = true, v
			}
			mu.Unlock()
			g.Stop()
			return nil
		})
	}
	err := g.Wait()
	if won {
		return winner, nil
	}
	return zero, err
}
