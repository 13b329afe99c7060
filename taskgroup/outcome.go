package taskgroup

import (
	"context"
	"strconv"

	"github.com/leash-go/leash/internal/cause"
)

// Status is what became of one item of MapOutcomes (RS1).
type Status uint8

const (
	// NotStarted: fn was never called on the item, because the group's
	// context was done before its turn came (TG7).
	NotStarted Status = iota
	// Succeeded: fn returned a nil error; Value is its value.
	Succeeded
	// Failed: the item failed on its own: fn returned an error that is not
	// a cancellation echo, panicked or called runtime.Goexit (TG2-TG6).
	Failed
	// Cancelled: fn only reported the group's cancellation (TG3).
	Cancelled
)

var statusNames = [...]string{"not started", "succeeded", "failed", "cancelled"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// An Outcome is what became of one item of MapOutcomes (RS1).
type Outcome[T any] struct {
	Status Status
	// Value is fn's value when Status is Succeeded, and the zero value
	// otherwise.
	Value T
	// Err is nil when Status is Succeeded. Failed: the item's own error, as
	// listed in the group's *Error (what fn returned, a *PanicError or
	// ErrGoexit). Cancelled: the error fn returned. NotStarted: the group's
	// cancellation, matching both ctx.Err() and context.Cause of the
	// group's context (ALL3).
	Err error
}

// MapOutcomes is Map that accounts for every item (RS1): outcomes[i] says
// whether fn(in[i]) succeeded, with its value, failed on its own, with its
// error, only echoed the group's cancellation, or was never started. The
// caller need not match Error.Failures to items by index.
//
// len(outcomes) == len(in) always. The error, the options, fail-fast and
// CollectAll are Map's (TG4, TG12): a panic in fn is re-raised once every
// item has returned (TG5), so the outcomes are not returned then; with
// PanicsAsErrors the panicked item is Failed with its *PanicError.
func MapOutcomes[In, Out any](ctx context.Context, in []In, fn func(ctx context.Context, item In) (Out, error), opts ...Option) ([]Outcome[Out], error) {
	checkItemCall("MapOutcomes", ctx, fn == nil)
	m := &outcomeMapper[In, Out]{in: in, out: make([]Outcome[Out], len(in)), fn: fn}
	g, limit := newItemGroup(ctx, opts, false)
	g.runItems(len(in), m, limit)
	err := g.Wait()
	m.settle(g, err)
	return m.out, err
}

// outcomeMapper is every item of one MapOutcomes call: item idx is task idx
// of its group.
type outcomeMapper[In, Out any] struct {
	in  []In
	out []Outcome[Out]
	fn  func(ctx context.Context, item In) (Out, error)
}

// call marks the item started (Cancelled until shown otherwise) before fn
// runs, so that one that panics or calls runtime.Goexit does not read as
// never started; settle finds it among the failures.
func (m *outcomeMapper[In, Out]) call(ctx context.Context, idx int) error {
	o := &m.out[idx]
	o.Status = Cancelled
	v, err := m.fn(ctx, m.in[idx])
	if err != nil {
		o.Err = err
		return err
	}
	o.Status, o.Value = Succeeded, v
	return nil
}

// settle gives each item its final status once every item has returned.
// The group's own record decides failure or echo (TG3): an item listed among
// the failures Failed, one that returned an error that is not listed,
// Cancelled. An item never called (or refused by a shared semaphore with an
// error, which is then listed) stays NotStarted or becomes Failed. The
// group's context keeps the cause it was first cancelled with, which is what
// stopped the items that never started.
func (m *outcomeMapper[In, Out]) settle(g *Group, err error) {
	if e, ok := err.(*Error); ok {
		for _, f := range e.Failures {
			o := &m.out[f.Index]
			o.Status, o.Err = Failed, f.Err
			var zero Out
			o.Value = zero
		}
	}
	var notStarted error
	for i := range m.out {
		if o := &m.out[i]; o.Status == NotStarted {
			if notStarted == nil {
				notStarted = cause.Of(g.ctx)
			}
			o.Err = notStarted
		}
	}
}
