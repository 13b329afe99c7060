package taskgroup

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"weak"
)

// The registry of live named groups, for WriteTree (OB5). It holds no
// channels, only weak pointers, so it is no state a synctest bubble could
// share (ALL2). A group leaves it when its Wait runs, or when it is garbage
// collected never having been waited for.
var registry struct {
	mu   sync.Mutex
	ring treeEntry // sentinel of the ring of entries, oldest first
}

type treeEntry struct {
	o          weak.Pointer[observer]
	prev, next *treeEntry
}

// remember adds a named group to the registry.
func remember(o *observer) {
	e := &treeEntry{o: weak.Make(o)}
	registry.mu.Lock()
	r := &registry.ring
	if r.next == nil {
		r.prev, r.next = r, r
	}
	e.prev, e.next = r.prev, r
	r.prev.next = e
	r.prev = e
	registry.mu.Unlock()
	o.entry = e
	o.cleanup = runtime.AddCleanup(o, forget, e)
}

// forget takes an entry out of the registry; it may be called twice.
func forget(e *treeEntry) {
	registry.mu.Lock()
	if e.next != nil {
		e.prev.next, e.next.prev = e.next, e.prev
		e.prev, e.next = nil, nil
	}
	registry.mu.Unlock()
}

// WriteTree writes the live tree of named groups and their running tasks to
// w, with how long each has run, like a structured thread dump (OB5):
//
//	group "checkout" (running 1.2s)
//	├── task "payment" #0 (running 1.2s)
//	└── task "shipping" #1 (running 1.2s)
//	    └── group "quotes" (running 800ms; cancelled 300ms ago: taskgroup: group stopped)
//	        └── task #0 (running 800ms)
//
// A named group appears from New until its Wait has returned. It sits under
// the task of an enclosing named group whose context it was created with, when
// that task is named and running, or else under that enclosing group; groups
// created with no named group's context are roots, oldest first. Unnamed
// groups do not appear (their named groups appear under the nearest named
// one). A cancelled group says how long ago and why. With no live named group,
// WriteTree writes nothing.
func WriteTree(w io.Writer) error {
	_, err := io.WriteString(w, treeText())
	return err
}

// A groupView is one live group as WriteTree saw it.
type groupView struct {
	o           *observer
	tasks       []*taskRun // running, in index order
	cancelledAt time.Time
	subgroups   []*groupView              // created with the group's own context, or a finished task's
	taskGroups  map[*taskRun][]*groupView // created with a running named task's context
}

// treeText renders the tree as WriteTree writes it.
func treeText() string {
	now := time.Now()
	var live []*observer
	registry.mu.Lock()
	if r := &registry.ring; r.next != nil {
		for e := r.next; e != r; e = e.next {
			if o := e.o.Value(); o != nil {
				live = append(live, o)
			}
		}
	}
	registry.mu.Unlock()

	views := make(map[*observer]*groupView, len(live))
	running := make(map[*taskRun]bool)
	for _, o := range live {
		v := &groupView{o: o}
		o.mu.Lock()
		for r := o.tasks.next; r != &o.tasks; r = r.next {
			v.tasks = append(v.tasks, r)
			running[r] = true
		}
		v.cancelledAt = o.cancelledAt
		o.mu.Unlock()
		slices.SortFunc(v.tasks, func(a, b *taskRun) int { return a.info.Index - b.info.Index })
		views[o] = v
	}

	var roots []*groupView
	for _, o := range live { // oldest first, so every list is oldest first
		v := views[o]
		parent, task := o.parent, o.parentTask
		for parent != nil && views[parent] == nil { // finished: its own place
			parent, task = parent.parent, parent.parentTask
		}
		switch {
		case parent == nil:
			roots = append(roots, v)
		case task != nil && running[task]:
			pv := views[parent]
			if pv.taskGroups == nil {
				pv.taskGroups = make(map[*taskRun][]*groupView)
			}
			pv.taskGroups[task] = append(pv.taskGroups[task], v)
		default:
			views[parent].subgroups = append(views[parent].subgroups, v)
		}
	}

	var b strings.Builder
	for _, v := range roots {
		b.WriteString(groupLine(v, now))
		b.WriteByte('\n')
		writeChildren(&b, v, "", now)
	}
	return b.String()
}

// writeChildren writes v's running tasks, each with the groups created in
// it, then v's other subgroups, each line behind prefix.
func writeChildren(b *strings.Builder, v *groupView, prefix string, now time.Time) {
	n := len(v.tasks) + len(v.subgroups)
	i := 0
	branch := func() (string, string) {
		i++
		if i == n {
			return prefix + "└── ", prefix + "    "
		}
		return prefix + "├── ", prefix + "│   "
	}
	for _, r := range v.tasks {
		first, rest := branch()
		b.WriteString(first)
		b.WriteString(taskLine(r, now))
		b.WriteByte('\n')
		writeGroups(b, v.taskGroups[r], rest, now)
	}
	for _, sv := range v.subgroups {
		first, rest := branch()
		b.WriteString(first)
		b.WriteString(groupLine(sv, now))
		b.WriteByte('\n')
		writeChildren(b, sv, rest, now)
	}
}

// writeGroups writes the groups created in a task, behind prefix.
func writeGroups(b *strings.Builder, gs []*groupView, prefix string, now time.Time) {
	for i, v := range gs {
		first, rest := prefix+"├── ", prefix+"│   "
		if i == len(gs)-1 {
			first, rest = prefix+"└── ", prefix+"    "
		}
		b.WriteString(first)
		b.WriteString(groupLine(v, now))
		b.WriteByte('\n')
		writeChildren(b, v, rest, now)
	}
}

func groupLine(v *groupView, now time.Time) string {
	s := fmt.Sprintf("group %q (running %v", v.o.name, roundDuration(now.Sub(v.o.start)))
	if v.o.ctx.Err() != nil {
		s += "; cancelled"
		if !v.cancelledAt.IsZero() {
			s += " " + roundDuration(now.Sub(v.cancelledAt)).String() + " ago"
		}
		s += ": " + firstLine(context.Cause(v.o.ctx).Error())
	}
	return s + ")"
}

func taskLine(r *taskRun, now time.Time) string {
	d := roundDuration(now.Sub(r.info.Start))
	if r.info.Name != "" {
		return fmt.Sprintf("task %q #%d (running %v)", r.info.Name, r.info.Index, d)
	}
	return fmt.Sprintf("task #%d (running %v)", r.info.Index, d)
}

// roundDuration keeps a duration readable, to about three digits: 1m5s,
// 1.23s, 50.4ms, 120µs.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// firstLine is s up to its first newline: a panic's cause carries its stack.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
