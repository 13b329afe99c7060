package taskgroup

import (
	"context"
	"errors"
	"sync"
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
	m := &mapper[In, Out]{in: in, out: make([]Out, len(in)), fn: fn}
	g := New(ctx, opts...)
	for range in {
		g.add("", m, nil, false)
	}
	return m.out, g.Wait()
}

// mapper is every item of one Map call: item idx is task idx of its group.
type mapper[In, Out any] struct {
	in  []In
	out []Out
	fn  func(ctx context.Context, item In) (Out, error)
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
