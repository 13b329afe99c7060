package taskgroup

import (
	"context"
	"errors"
	"sync"
)

// Map calls fn on every item of in, each as a task of a new group under ctx,
// and returns the results in the order of in (TG12): len(out) == len(in), and
// out[i] is fn's value for in[i] for every item that succeeded; a failed or
// never-started item leaves the zero value (MapOutcomes tells them apart).
// The error is the group's, as from Wait (TG4), with each TaskError's Index
// the item's index.
//
// Map fails fast unless CollectAll is given. With WithLimit(n), n goroutines
// take the items in order, one after another, whatever their number (TG8,
// RS4). Panics are re-raised (TG5) unless PanicsAsErrors is given. A nil ctx
// or fn panics.
func Map[In, Out any](ctx context.Context, in []In, fn func(ctx context.Context, item In) (Out, error), opts ...Option) ([]Out, error) {
	checkItemCall("Map", ctx, fn == nil)
	m := &mapper[In, Out]{in: in, out: make([]Out, len(in)), fn: fn}
	g, limit := newItemGroup(ctx, opts, false)
	g.runItems(len(in), m, limit)
	return m.out, g.Wait()
}

// checkItemCall panics, with the caller's name, at a nil context (ALL4) or
// a nil function (TG10).
func checkItemCall(what string, ctx context.Context, nilFn bool) {
	if ctx == nil {
		panic("taskgroup: " + what + " called with a nil context; pass context.Background() or the caller's context")
	}
	if nilFn {
		panic("taskgroup: " + what + " called with a nil function")
	}
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

// ErrNoFunctions is returned by First and FirstOf when they have nothing to
// try.
var ErrNoFunctions = errors.New("taskgroup: First called with no functions")

// First runs every fn at once and returns the first success, cancelling the
// others with ErrStopped as their cause; it returns only after every fn has
// returned (TG13). A failure does not cancel the others: each is another way
// to the same answer. If none succeeds, the error is an *Error listing every
// failure (or the parent's cancellation). With no functions, First returns
// ErrNoFunctions. A panic in any fn is re-raised once all have returned (TG5).
//
// First starts the functions in order; one that has not been started when
// another has already succeeded is not started at all (TG7). For options (a
// name, hooks, a limit) use FirstOf.
func First[T any](ctx context.Context, fns ...func(ctx context.Context) (T, error)) (T, error) {
	if ctx == nil {
		panic("taskgroup: First called with a nil context; pass context.Background() or the caller's context")
	}
	for _, fn := range fns {
		if fn == nil {
			panic("taskgroup: First called with a nil function")
		}
	}
	return FirstOf(ctx, fns, callFunc[T])
}

func callFunc[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	return fn(ctx)
}

// FirstOf calls fn on the items of in, each as a task of a new group under
// ctx, and returns the value of the first call that succeeds, like First
// (TG13): the others are cancelled with ErrStopped as their cause, items not
// yet started are not started (TG7), and FirstOf returns only after every
// call has returned. A failure does not cancel the others (CollectAll is
// implied). If none succeeds, the error is an *Error listing every failure
// with its item's index (or the parent's cancellation); with no items,
// ErrNoFunctions.
//
// The options are Map's (RS4): WithLimit(n) tries the items in order, n at a
// time (mirrors, replicas, candidate hosts), WithName and WithHooks name and
// observe the calls, PanicsAsErrors returns panics instead of re-raising
// them (TG5). A nil ctx or fn panics.
func FirstOf[In, Out any](ctx context.Context, in []In, fn func(ctx context.Context, item In) (Out, error), opts ...Option) (Out, error) {
	checkItemCall("FirstOf", ctx, fn == nil)
	var zero Out
	if len(in) == 0 {
		return zero, ErrNoFunctions
	}
	g, limit := newItemGroup(ctx, append(opts[:len(opts):len(opts)], CollectAll()), false)
	f := &firster[In, Out]{g: g, in: in, fn: fn}
	g.runItems(len(in), f, limit)
	err := g.Wait()
	if f.won {
		return f.winner, nil
	}
	return zero, err
}

// firster is every item of one FirstOf call: the first success wins and
// stops the group.
type firster[In, Out any] struct {
	g      *Group
	in     []In
	fn     func(ctx context.Context, item In) (Out, error)
	mu     sync.Mutex
	won    bool
	winner Out
}

func (f *firster[In, Out]) call(ctx context.Context, idx int) error {
	v, err := f.fn(ctx, f.in[idx])
	if err != nil {
		return err
	}
	f.mu.Lock()
	if !f.won {
		f.won, f.winner = true, v
	}
	f.mu.Unlock()
	f.g.Stop()
	return nil
}
