package chaos

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/leash-go/leash/taskgroup"
	"github.com/leash-go/leash/timeout"
)

// A checker compares an execution with the model and collects every
// difference.
type checker struct {
	m        *model
	problems []string
}

func (c *checker) errorf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// check compares everything the execution recorded with the model's
// evaluation root of the tree.
func check(m *model, root *gres, x *execution) []string {
	c := &checker{m: m}
	c.problems = append(c.problems, x.problems...)
	slices.Sort(c.problems) // recorded by concurrent tasks: sorted, so that rapid sees the same failure again
	c.root(root, x.rootErr, x.rootPanic)

	shields := 0
	m.walk(m.tr.root, func(n *node, o *nodeOut) {
		c.task(n, o, x)
		if o.started && n.kind == kindShield {
			shields++
		}
	})
	if in, out := x.shieldIn.Load(), x.shieldOut.Load(); in != int64(shields) || out != in {
		c.errorf("SH1: %d shields started, %d entered their cleanup and %d completed it", shields, in, out)
	}
	for i, st := range x.stats {
		name := fmt.Sprintf("sem%d", i)
		if i >= len(m.tr.sems) {
			name = fmt.Sprintf("pool%d", i-len(m.tr.sems))
		}
		if st.InUse != 0 || st.Waiters != 0 {
			c.errorf("%s: after the tree %d permits are in use and %d Acquires wait", name, st.InUse, st.Waiters)
		}
	}
	// A task the final evaluation did not reach must not have run.
	reached := make([]bool, m.tr.nodes)
	m.walk(m.tr.root, func(n *node, o *nodeOut) { reached[n.id] = true })
	for id, r := range reached {
		if !r && x.ran[id].Load() {
			c.errorf("n%d ran, but its group or spawner never started it", id)
		}
	}
	return c.problems
}

// root checks what the root group's Wait reported: nil, an *Error, or a
// panic with the *Error (TG4, TG5).
func (c *checker) root(r *gres, err error, panicked any) {
	switch {
	case r.repanics():
		e, ok := panicked.(*taskgroup.Error)
		if !ok || err != nil {
			c.errorf("root: TG5: Wait must re-panic with an *Error; it returned %s and panicked with %T", summarize(err), panicked)
			return
		}
		c.group("root g0", e, r)
	case panicked != nil:
		if e, ok := panicked.(error); ok {
			panicked = summarize(e)
		}
		c.errorf("root: Wait panicked with %v; want %s", panicked, describe(r))
	case r.ok():
		if err != nil {
			c.errorf("root: Wait returned %s; want nil", summarize(err))
		}
	default:
		e, ok := err.(*taskgroup.Error)
		if !ok {
			c.errorf("root: Wait returned %s; want an *Error: %s", summarize(err), describe(r))
			return
		}
		c.group("root g0", e, r)
	}
}

func describe(r *gres) string {
	if r.ok() {
		return "nil"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d failures [", len(r.failures))
	for i, f := range r.failures {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "#%d %s at %v", f.index, f.err, f.at)
		if f.reaction {
			b.WriteString(" (reaction)")
		}
	}
	fmt.Fprintf(&b, "], %d cancelled, parent cancelled %v, panicked %v, cancelled at %v", r.cancelled, r.parentCancelled, r.panicked, r.C)
	return b.String()
}

// group checks a group's *Error against the model's report (TG2-TG6, TG9).
func (c *checker) group(path string, e *taskgroup.Error, r *gres) {
	n := len(c.problems)
	defer func() {
		if len(c.problems) > n {
			c.errorf("%s: got %s; want %s", path, summarize(e), describe(r))
		}
	}()
	msg := e.Error()
	if r.g.named && !strings.HasPrefix(msg, fmt.Sprintf("taskgroup %q: ", r.g.name())) {
		c.errorf("%s: the message does not start with the group's name: %.80s", path, msg)
	}
	pos := map[int]int{} // task index -> position in e.Failures
	for i, f := range e.Failures {
		if _, dup := pos[f.Index]; dup {
			c.errorf("%s: task #%d is listed twice", path, f.Index)
		}
		pos[f.Index] = i
	}
	want := map[int]bool{}
	for _, f := range r.failures {
		want[f.index] = true
		i, ok := pos[f.index]
		if !ok {
			c.errorf("%s: the failure of task #%d (%s) is missing", path, f.index, f.err)
			continue
		}
		c.failure(fmt.Sprintf("%s #%d", path, f.index), e.Failures[i], f)
		if !strings.Contains(msg, fmt.Sprintf("#%d", f.index)) {
			c.errorf("%s: the message does not name task #%d", path, f.index)
		}
		if f.err.kind == outPanic && f.err.node.panicStyle() == 1 && !strings.Contains(msg, f.err.node.panicString()) {
			c.errorf("%s: TG5: the message lacks the panic value %q", path, f.err.node.panicString())
		}
		if target := sentinel(f.err); target != nil && !errors.Is(e, target) {
			c.errorf("%s: TG4: errors.Is does not reach task #%d's %v", path, f.index, target)
		}
	}
	for _, f := range byIndex(e.Failures) {
		if !want[f.Index] {
			c.errorf("%s: task #%d is listed but is no failure: %s", path, f.Index, summarize(f.Err))
		}
	}
	for _, f := range r.failures {
		for _, g := range r.failures {
			i, iok := pos[f.index]
			j, jok := pos[g.index]
			if iok && jok && f.before(g) && i > j {
				c.errorf("%s: task #%d (at %v) is listed after task #%d (at %v)", path, f.index, f.at, g.index, g.at)
			}
		}
	}
	if e.Cancelled != r.cancelled {
		c.errorf("%s: Cancelled is %d; want %d", path, e.Cancelled, r.cancelled)
	}
	switch {
	case !r.parentCancelled && e.Cause != nil:
		c.errorf("%s: TG4: Cause is %s, but the parent did not cancel the group", path, summarizeCause(e.Cause))
	case r.parentCancelled && e.Cause == nil:
		c.errorf("%s: TG4: Cause is nil, but the parent cancelled the group (%s)", path, causeAtom(r.ctx.cause))
	case r.parentCancelled:
		if !errors.Is(e.Cause, ctxErr(r.ctx)) || !errors.Is(e, ctxErr(r.ctx)) {
			c.errorf("%s: ALL3: Cause %s does not match %v", path, summarizeCause(e.Cause), ctxErr(r.ctx))
		}
		c.cause(path+" Cause", e.Cause, r.ctx.cause)
	}
}

func ctxErr(st ctxState) error {
	if st.deadline {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

// cause checks that err matches the cause c.
func (c *checker) cause(path string, err error, k *cause) {
	switch k.kind {
	case causeDeadline:
		if !errors.Is(err, context.DeadlineExceeded) {
			c.errorf("%s: %s does not match context.DeadlineExceeded", path, summarizeCause(err))
		}
	case causeParent:
		if !errors.Is(err, cancelErr{k.group}) {
			c.errorf("%s: %s does not match %v", path, summarizeCause(err), cancelErr{k.group})
		}
	case causeStopped:
		if !errors.Is(err, taskgroup.ErrStopped) {
			c.errorf("%s: %s does not match ErrStopped", path, summarizeCause(err))
		}
	case causeTask:
		var te *taskgroup.TaskError
		if !errors.As(err, &te) || te.Index != k.fail.index || te.Name != k.fail.name {
			c.errorf("%s: %s is not the failure of g%d's task #%d", path, summarizeCause(err), k.group, k.fail.index)
		}
	}
}

// failure checks one listed failure.
func (c *checker) failure(path string, te *taskgroup.TaskError, f *failure) {
	if te.Name != f.name {
		c.errorf("%s: Name is %q; want %q", path, te.Name, f.name)
	}
	c.err(path, te.Err, f.err)
}

// err checks that err is what the outcome o says.
func (c *checker) err(path string, err error, o *outcome) {
	n := o.node
	bad := func(want string) { c.errorf("%s: n%d's error is %s; want %s", path, n.id, summarize(err), want) }
	_, isPanic := err.(*taskgroup.PanicError) // a panic is never wrapped
	switch o.kind {
	case outFail:
		if !errors.Is(err, failErr{n.id}) || isPanic {
			bad(failErr{n.id}.Error())
		}
	case outFailCanceled:
		var ce canceledErr
		if !errors.As(err, &ce) || ce.node != n.id || isPanic {
			bad(canceledErr{n.id}.Error())
		}
	case outPanic:
		p, ok := err.(*taskgroup.PanicError)
		switch {
		case !ok:
			bad("a *PanicError")
		case len(p.Stack) == 0:
			bad("a *PanicError with a stack")
		case n.panicStyle() == 0 && p.Value != panicErr{n.id}:
			bad(fmt.Sprintf("a *PanicError of %v", panicErr{n.id}))
		case n.panicStyle() == 1 && p.Value != n.panicString():
			bad(fmt.Sprintf("a *PanicError of %q", n.panicString()))
		case n.panicStyle() == 2:
			if _, ok := p.Value.(*runtime.PanicNilError); !ok {
				bad("a *PanicError of a *runtime.PanicNilError")
			}
		}
	case outGoexit:
		if err != taskgroup.ErrGoexit {
			bad("ErrGoexit")
		}
	case outTimeout:
		if !errors.Is(err, timeout.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || isPanic {
			bad("a timeout.ErrTimeout")
		}
	case outShield:
		if !errors.Is(err, shieldErr{n.id}) || isPanic {
			bad(shieldErr{n.id}.Error())
		}
	case outNested:
		var e *taskgroup.Error
		if !errors.As(err, &e) || isPanic {
			bad("the child group's *Error")
			return
		}
		c.group(fmt.Sprintf("%s g%d", path, n.child.id), e, o.group)
	case outNestedPanic:
		p, ok := err.(*taskgroup.PanicError)
		if !ok {
			bad("a *PanicError of the child group's *Error")
			return
		}
		e, ok := p.Value.(*taskgroup.Error)
		if !ok {
			bad("a *PanicError of the child group's *Error")
			return
		}
		c.group(fmt.Sprintf("%s g%d (re-panicked)", path, n.child.id), e, o.group)
	case outCtx:
		if !errors.Is(err, ctxErr(o.ctx)) || isPanic {
			bad(ctxErr(o.ctx).Error())
		}
	case outCause:
		c.cause(path, err, o.ctx.cause)
	}
}

// task checks what the execution recorded of task n against the model:
// whether it ran (TG7, TG8), when it returned (TG1, TG2), TryGo's answer and
// its Task's Result (TG11).
func (c *checker) task(n *node, o *nodeOut, x *execution) {
	if ran := x.ran[n.id].Load(); ran != o.started {
		c.errorf("n%d (%s): ran %v; want %v", n.id, n.kind, ran, o.started)
		return
	}
	if o.started && x.ends[n.id] != o.end.t {
		c.errorf("n%d (%s): returned at %v; want %v", n.id, n.kind, x.ends[n.id], o.end.t)
	}
	if n.via == viaTryGo {
		if got := x.tryGo[n.id].Load() == 1; got != o.started {
			c.errorf("n%d: TryGo returned %v; want %v", n.id, got, o.started)
		}
	}
	if !n.via.spawned() {
		return
	}
	res, ok := x.results[n.id]
	path := fmt.Sprintf("n%d's Result", n.id)
	switch {
	case !ok:
		c.errorf("%s: not recorded", path)
	case !o.started:
		if !errors.Is(res.err, ctxErr(o.ctx)) {
			c.errorf("%s: TG7: %s does not match %v", path, summarize(res.err), ctxErr(o.ctx))
		}
		c.cause(path, res.err, o.ctx.cause)
	case o.out == nil:
		if res.val != n.id || res.err != nil {
			c.errorf("%s: TG11: (%d, %s); want (%d, nil)", path, res.val, summarize(res.err), n.id)
		}
	default:
		if o.out.abnormal() != (res.val == 0) && n.id != 0 {
			c.errorf("%s: TG11: value %d for an outcome %s", path, res.val, o.out)
		}
		c.err(path, res.err, o.out)
	}
}

// summarize prints err briefly: a *taskgroup.Error as its failures by
// index, count and cause, a panic as its value, without the stacks. The
// same outcome always prints the same, whatever order the reactions to a
// cancellation came in, so that rapid recognises a failure when it shrinks.
func summarize(err error) string {
	var e *taskgroup.Error
	p, isPanic := err.(*taskgroup.PanicError)
	switch {
	case err == nil:
		return "nil"
	case isPanic:
		if v, ok := p.Value.(error); ok {
			return "panic(" + summarize(v) + ")"
		}
		return fmt.Sprintf("panic(%v)", p.Value)
	case errors.As(err, &e):
		var b strings.Builder
		b.WriteString("Error{[")
		for i, f := range byIndex(e.Failures) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "#%d %q: %s", f.Index, f.Name, summarize(f.Err))
		}
		fmt.Fprintf(&b, "], cancelled %d, cause %s}", e.Cancelled, summarizeCause(e.Cause))
		return b.String()
	}
	return err.Error()
}

// summarizeCause prints a cancellation's cause, a task's failure by its
// index and name only.
func summarizeCause(err error) string {
	var te *taskgroup.TaskError
	if errors.As(err, &te) {
		return fmt.Sprintf("task #%d %q", te.Index, te.Name)
	}
	return summarize(err)
}

// byIndex returns failures sorted by task index.
func byIndex(failures []*taskgroup.TaskError) []*taskgroup.TaskError {
	return slices.SortedFunc(slices.Values(failures), func(a, b *taskgroup.TaskError) int { return a.Index - b.Index })
}

// sentinel returns the comparable error that the outcome o carries, or nil.
func sentinel(o *outcome) error {
	switch {
	case o.kind == outFail:
		return failErr{o.node.id}
	case o.kind == outFailCanceled:
		return canceledErr{o.node.id}
	case o.kind == outShield:
		return shieldErr{o.node.id}
	case o.kind == outPanic && o.node.panicStyle() == 0:
		return panicErr{o.node.id}
	case o.kind == outGoexit:
		return taskgroup.ErrGoexit
	case o.kind == outTimeout:
		return timeout.ErrTimeout
	}
	return nil
}
