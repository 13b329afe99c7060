package chaos

import (
	"context"
	"errors"
	"slices"

	"github.com/leash-go/leash/taskgroup"
)

// A group of the tree may be run as the items of one call over items
// instead of with Go: Map, MapOutcomes (RS1), Stream or AsCompleted (RS2).
// Its tasks are then the items, in order, so item i is task i of the call's
// group and the model of a group holds for it, with one difference: a
// stream created under a done context reads one item of its input, counts
// it as not started and stops, where Go counts every task (model_test.go).
// Each call is checked against what its items did, beside the model's
// checks of its error.

type itemsForm uint8

const (
	itemsNone itemsForm = iota
	itemsMap
	itemsOutcomes
	itemsStream
	itemsAsCompleted
)

var itemsNames = [...]string{"Go", "Map", "MapOutcomes", "Stream", "AsCompleted"}

func (f itemsForm) String() string { return itemsNames[f] }

func (f itemsForm) streams() bool { return f == itemsStream || f == itemsAsCompleted }

// itemsFor chooses how group g is run, from its id. A group whose tasks
// call Stop on it or start siblings needs the Group, so it is run with Go.
// Items are unnamed and handed over in order, so every task is handed over
// as with Go. A stream's limit bounds what it has read of its input, so a
// limited or pooled group whose Go calls would wait is run by Map or
// MapOutcomes.
func itemsFor(g *group) itemsForm {
	for _, n := range g.tasks {
		if n.kind == kindStop || n.kind == kindSpawn {
			return itemsNone
		}
	}
	for _, n := range g.tasks {
		n.via = viaGo
	}
	f := itemsForm(1 + g.id%4)
	if f.streams() && (g.limit > 0 || g.pool >= 0) {
		f -= 2
	}
	return f
}

// items runs g as the items of its call and returns the call's error, or
// re-raises its panic, as the group's Wait would.
func (x *execution) items(g *group, pctx context.Context, cancelParent context.CancelCauseFunc, opts []taskgroup.Option) error {
	run := &groupRun{x: x, g: g, cancelParent: cancelParent}
	idx := make([]int, len(g.tasks))
	returned := make([]bool, len(g.tasks)) // by item: fn returned, rather than panicked or exited
	errs := make([]error, len(g.tasks))    // by item: what it returned
	for i := range idx {
		idx[i] = i
	}
	fn := func(ctx context.Context, i int) (int, error) {
		n := g.tasks[i]
		err := run.task(n)(ctx)
		returned[i], errs[i] = true, err
		return n.id, err
	}
	switch g.items {
	case itemsMap:
		out, err := taskgroup.Map(pctx, idx, fn, opts...)
		x.checkMap(g, out, returned, errs)
		return err
	case itemsOutcomes:
		outcomes, err := taskgroup.MapOutcomes(pctx, idx, fn, opts...)
		x.checkOutcomes(g, outcomes, err, returned, errs)
		return err
	default:
		call := taskgroup.Stream[int, int]
		if g.items == itemsAsCompleted {
			call = taskgroup.AsCompleted[int, int]
		}
		res := call(pctx, slices.Values(idx), fn, opts...)
		var received []int
		for i, v := range res.All() {
			received = append(received, i)
			if v != g.tasks[i].id {
				x.problemf("g%d: %v: item %d received %d, not its value n%d", g.id, g.items, i, v, g.tasks[i].id)
			}
		}
		x.checkReceived(g, received, returned, errs)
		return res.Err()
	}
}

// succeeded reports whether item i returned a nil error.
func succeeded(i int, returned []bool, errs []error) bool { return returned[i] && errs[i] == nil }

// checkMap: out[i] is item i's value when it succeeded, else zero (TG12).
func (x *execution) checkMap(g *group, out []int, returned []bool, errs []error) {
	if len(out) != len(g.tasks) {
		x.problemf("g%d: TG12: Map returned %d values for %d items", g.id, len(out), len(g.tasks))
		return
	}
	for i, v := range out {
		want := 0
		if succeeded(i, returned, errs) {
			want = g.tasks[i].id
		}
		if v != want {
			x.problemf("g%d: TG12: out[%d] is %d; want %d", g.id, i, v, want)
		}
	}
}

// checkOutcomes: each item's outcome says what it did (RS1); the failed
// ones are exactly the failures the call's error lists.
func (x *execution) checkOutcomes(g *group, outcomes []taskgroup.Outcome[int], err error, returned []bool, errs []error) {
	if len(outcomes) != len(g.tasks) {
		x.problemf("g%d: RS1: MapOutcomes returned %d outcomes for %d items", g.id, len(outcomes), len(g.tasks))
		return
	}
	listed := map[int]bool{}
	var e *taskgroup.Error
	if errors.As(err, &e) {
		for _, f := range e.Failures {
			listed[f.Index] = true
		}
	}
	for i, o := range outcomes {
		var want taskgroup.Status
		switch {
		case listed[i]:
			want = taskgroup.Failed
		case !x.ran[g.tasks[i].id].Load():
			want = taskgroup.NotStarted
		case succeeded(i, returned, errs):
			want = taskgroup.Succeeded
		case returned[i]:
			want = taskgroup.Cancelled
		default:
			x.problemf("g%d: RS1: item %d panicked or exited but is not listed", g.id, i)
			continue
		}
		if o.Status != want {
			x.problemf("g%d: RS1: item %d is %v; want %v", g.id, i, o.Status, want)
		}
		if want == taskgroup.Succeeded && o.Value != g.tasks[i].id {
			x.problemf("g%d: RS1: item %d's value is %d; want %d", g.id, i, o.Value, g.tasks[i].id)
		}
		if want != taskgroup.Succeeded && o.Err == nil {
			x.problemf("g%d: RS1: item %d is %v with no error", g.id, i, o.Status)
		}
	}
}

// checkReceived: the loop received every item that succeeded, once, in
// input order (Stream) or in the order they returned (AsCompleted) (RS2).
func (x *execution) checkReceived(g *group, received []int, returned []bool, errs []error) {
	var want []int
	for i := range g.tasks {
		if succeeded(i, returned, errs) {
			want = append(want, i)
		}
	}
	got := slices.Clone(received)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		x.problemf("g%d: RS2: %v received items %v; want %v", g.id, g.items, received, want)
		return
	}
	for k := 1; k < len(received); k++ {
		prev, cur := received[k-1], received[k]
		if g.items == itemsStream && prev > cur {
			x.problemf("g%d: RS2: Stream received item %d after item %d", g.id, cur, prev)
		}
		if g.items == itemsAsCompleted && x.ends[g.tasks[prev].id] > x.ends[g.tasks[cur].id] {
			x.problemf("g%d: RS2: AsCompleted received item %d, which returned later, before item %d", g.id, prev, cur)
		}
	}
}
