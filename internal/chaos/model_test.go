package chaos

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// The model works out, for a tree, when every task starts and returns, what
// it returns, and what every group's Wait reports.
//
// A moment is a key: the fake time, and a rank that grows along a chain of
// events that happen at the same instant, each caused by the one before (a
// task acts, so its group is cancelled, so a sibling echoes, so a slot is
// free, so the next task starts). Every chain starts with an action at its
// own time, and no two actions share a time, so events at one instant are
// ordered except the reactions to one cancellation, which the model treats
// as unordered among themselves.

// rootDeadline is the deadline of the root group's parent: every task that
// waits for its context ends by then.
const rootDeadline = time.Hour

type key struct {
	t time.Duration
	r int
}

var never = key{t: math.MaxInt64}

func at(t time.Duration) key  { return key{t: t} }
func (k key) next() key       { return key{k.t, k.r + 1} }
func (k key) less(o key) bool { return k.t < o.t || k.t == o.t && k.r < o.r }
func (k key) String() string  { return fmt.Sprintf("%v+%d", k.t, k.r) }

func minKey(a, b key) key {
	if b.less(a) {
		return b
	}
	return a
}

func cmpKey(a, b key) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// late is when a task that started at s does what is due at t: at t, or at
// once if t has passed.
func late(s key, t time.Duration) key {
	if t > s.t {
		return at(t)
	}
	return s.next()
}

// A cause is why a group's context was cancelled.
type cause struct {
	kind  causeKind
	group int      // causeParent: whose parent; causeTask: whose failure
	fail  *failure // causeTask
}

type causeKind uint8

const (
	causeDeadline causeKind = iota // the root's parent expired
	causeParent                    // a kindCancelParent task cancelled the group's parent with cancelErr
	causeStopped                   // Stop
	causeTask                      // the group's first real failure (fail-fast)
)

// ctxState is a done context: its Err and its Cause.
type ctxState struct {
	deadline bool // ctx.Err() is context.DeadlineExceeded, not context.Canceled
	cause    *cause
}

// An outcome is a non-nil error a task returned or the way it ended
// abnormally, before its group classified it.
type outcome struct {
	kind  outcomeKind
	node  *node
	group *gres    // outNested, outNestedPanic: the child's report
	ctx   ctxState // outCtx, outCause: the context it reports
	// outCtx: the error carries the context's cause too, as leash's own
	// errors for a done context do (ALL3).
	withCause bool
}

type outcomeKind uint8

const (
	outFail         outcomeKind = iota // failErr
	outFailCanceled                    // canceledErr
	outPanic                           // *taskgroup.PanicError
	outGoexit                          // taskgroup.ErrGoexit
	outTimeout                         // WaitFor's own timeout
	outShield                          // shieldErr
	outNested                          // the child group's *taskgroup.Error
	outNestedPanic                     // a panic with the child group's *taskgroup.Error
	outCtx                             // an error that matches ctx.Err() (and maybe its cause)
	outCause                           // context.Cause(ctx)
)

var outcomeNames = [...]string{"fail", "failCanceled", "panic", "goexit", "timeout", "shield", "nested", "nestedPanic", "ctx", "cause"}

func (o *outcome) String() string {
	s := fmt.Sprintf("%s of n%d", outcomeNames[o.kind], o.node.id)
	if o.group != nil {
		s += fmt.Sprintf(" (g%d: %d failures, %d cancelled, parent cancelled %v)",
			o.group.g.id, len(o.group.failures), o.group.cancelled, o.group.parentCancelled)
	}
	return s
}

func (o *outcome) abnormal() bool {
	return o.kind == outPanic || o.kind == outGoexit || o.kind == outNestedPanic
}

// A failure is a real failure a group's Wait must list.
type failure struct {
	index    int
	name     string
	err      *outcome
	at       key
	reaction bool // a reaction to the group's cancellation at the same instant
}

// before reports whether f must come before o in the group's Failures: it
// returned at an earlier instant, or at the same instant earlier in the
// chain of events, and is not one of several reactions to the group's
// cancellation.
func (f *failure) before(o *failure) bool {
	if f.at.t != o.at.t {
		return f.at.t < o.at.t
	}
	if f.reaction {
		return false
	}
	return o.reaction || f.at.r < o.at.r
}

// gres is what a group's Wait reports, and when.
type gres struct {
	g               *group
	created         key
	C               key      // when its context is cancelled; never if it is not
	ctx             ctxState // its context's state from C on
	parentCancelled bool     // Error.Cause is set
	end             key      // when its last task returned: Wait returns
	failures        []*failure
	cancelled       int
	panicked        bool

	cps   []key // the kindCancelParent tasks act
	owns  []own // Stop, and every failure if fail-fast
	spawn []spawnEvent
}

type own struct {
	at    key
	cause *cause
}

type spawnEvent struct {
	at key
	n  *node
}

// ok reports whether Wait returns nil (TG4).
func (r *gres) ok() bool {
	return len(r.failures) == 0 && !(r.parentCancelled && r.cancelled > 0)
}

// repanics reports whether Wait panics with its *Error (TG5).
func (r *gres) repanics() bool { return r.panicked && !r.g.panicsAsErrors }

// nodeOut is how one task went.
type nodeOut struct {
	started bool
	refused bool // not started: TryGo found no free slot or permit (not counted as cancelled)
	racy    bool // refused, but a task that holds a slot returns at the same instant
	index   int
	end     key
	out     *outcome // nil: returned nil
	echo    bool     // out only reported the group's cancellation (TG3)
	ctx     ctxState // the group's context when the task was not started or echoed
}

type model struct {
	tr     *tree
	out    []*nodeOut     // by node id, for the last evaluation of each node
	groups map[int]*group // by id

	// The pooled groups of the last evaluation, by pool and id, and of this
	// one, by id (pool_test.go).
	poolIn   map[int]map[int]poolGroup
	poolSeen map[int]poolGroup
	// ambiguous says why the outcome of the tree is up to the scheduler;
	// "" when the model can tell.
	ambiguous string
}

func newModel(tr *tree) *model {
	m := &model{tr: tr, out: make([]*nodeOut, tr.nodes), groups: map[int]*group{}}
	var addGroup func(g *group)
	var addNode func(n *node)
	addGroup = func(g *group) {
		m.groups[g.id] = g
		for _, n := range g.tasks {
			addNode(n)
		}
	}
	addNode = func(n *node) {
		switch n.kind {
		case kindGroup:
			addGroup(n.child)
		case kindSpawn:
			addNode(n.spawn)
		}
	}
	addGroup(tr.root)
	return m
}

// maxRounds bounds the evaluations of a tree with pooled groups.
const maxRounds = 50

// run evaluates the tree: the root group is created at time 0 under a
// parent that expires at rootDeadline. With pooled groups, it evaluates the
// tree again with the pooled groups the last evaluation found, until they
// are the same (pool_test.go).
func (m *model) run() *gres {
	for round := 1; ; round++ {
		m.poolSeen = map[int]poolGroup{}
		r := m.group(m.tr.root, key{}, at(rootDeadline), ctxState{deadline: true, cause: &cause{kind: causeDeadline}})
		in := m.reachedPools()
		if maps.EqualFunc(in, m.poolIn, maps.Equal) {
			m.ambiguous = m.poolsAmbiguity(in)
			m.walk(m.tr.root, func(n *node, o *nodeOut) {
				if o.racy && m.ambiguous == "" {
					m.ambiguous = fmt.Sprintf("n%d's TryGo races with the return of a task that holds a slot", n.id)
				}
			})
			return r
		}
		if round == maxRounds {
			panic(fmt.Sprintf("chaos model: the pooled groups do not settle in %d rounds", maxRounds))
		}
		m.poolIn = in
	}
}

// group evaluates g, created at created under a parent that is cancelled at
// penc with state enc. The group's own cancellation depends on what its
// tasks do, and what they do on when it is cancelled; but nothing a task did
// before the cancellation depends on it, so evaluating the tasks with no
// cancellation but the parent's finds the first cause, and a second pass
// with it is final.
func (m *model) group(g *group, created, penc key, enc ctxState) *gres {
	if penc.less(created) { // TG7: created under a done parent, no task starts
		delete(m.poolSeen, g.id) // nor asks a pool for a permit
		r := &gres{g: g, created: created, C: penc, ctx: enc, end: created, parentCancelled: true, cancelled: len(g.tasks)}
		if g.items.streams() { // a stream reads one item of its input, counts it, and stops (RS3)
			r.cancelled = min(1, len(g.tasks))
		}
		for i, n := range g.tasks {
			m.out[n.id] = &nodeOut{index: i, ctx: enc}
		}
		return r
	}
	C, st, fromParent := penc, enc, true
	for pass := 0; ; pass++ {
		r := m.tasks(g, created, C, st)
		nC, nst, nfp := penc, enc, true
		for _, k := range r.cps {
			if k.less(nC) {
				nC, nst, nfp = k, ctxState{cause: &cause{kind: causeParent, group: g.id}}, true
			}
		}
		for _, o := range r.owns {
			if o.at.less(nC) {
				nC, nst, nfp = o.at, ctxState{cause: o.cause}, false
			}
		}
		if nC == C && nfp == fromParent {
			r.ctx = st
			// Wait tells the parent's cancellation from the group's own when
			// it concludes, after the last task returned.
			r.parentCancelled = fromParent && C != never && !r.end.less(C)
			slices.SortStableFunc(r.failures, func(a, b *failure) int { return cmpKey(a.at, b.at) })
			return r
		}
		C, st, fromParent = nC, nst, nfp
		if pass > 4 {
			panic(fmt.Sprintf("chaos model: group g%d does not settle", g.id))
		}
	}
}

// tasks evaluates g's tasks given that its context is cancelled at C with
// state st.
func (m *model) tasks(g *group, created, C key, st ctxState) *gres {
	r := &gres{g: g, created: created, C: C, ctx: st, end: created}
	switch {
	case g.pool >= 0:
		m.pooled(r, g, created, C, st)
		return r
	case g.limit > 0:
		m.limited(r, g, created, C, st)
		return r
	}
	for i, n := range g.tasks {
		m.add(r, n, m.node(r, n, i, created, C, st), C, st)
	}
	// Spawned tasks get their index when their Go is called, in time order.
	index := len(g.tasks)
	for len(r.spawn) > 0 {
		i := 0
		for j, ev := range r.spawn {
			if ev.at.less(r.spawn[i].at) {
				i = j
			}
		}
		ev := r.spawn[i]
		r.spawn = slices.Delete(r.spawn, i, i+1)
		var o *nodeOut
		if C.less(ev.at) { // TG7
			o = &nodeOut{index: index, ctx: st}
			m.out[ev.n.id] = o
		} else {
			o = m.node(r, ev.n, index, ev.at.next(), C, st)
		}
		m.add(r, ev.n, o, C, st)
		index++
	}
	return r
}

// limited evaluates a limited group's tasks (TG8): the first limit start at
// once; each later one waits in its Go until a running task returns, and is
// not started if the group's context is done by then (TG7); a TryGo that
// finds no free slot returns false. Limited groups hold only leaf tasks.
func (m *model) limited(r *gres, g *group, created, C key, st ctxState) {
	var running []key // when the tasks holding a slot return
	prevGo := created // when the previous Go returned
	done := false     // the context was done when a Go handed over its task
	for i, n := range g.tasks {
		var start key
		if !done {
			switch {
			case len(running) < g.limit:
				start = prevGo
				done = C.less(start)
			case n.via == viaTryGo && !C.less(prevGo):
				o := &nodeOut{index: i, refused: true}
				for _, e := range running {
					// A task started late acts at once, in its worker,
					// while TryGo looks for its slot.
					o.racy = o.racy || e.t == prevGo.t
				}
				m.out[n.id] = o
				m.add(r, n, o, C, st)
				continue
			default:
				j := 0
				for k, e := range running {
					if e.less(running[j]) {
						j = k
					}
				}
				freed := running[j]
				running = slices.Delete(running, j, j+1)
				start = freed.next()
				done = !freed.less(C)
			}
		}
		if done {
			o := &nodeOut{index: i, ctx: st}
			m.out[n.id] = o
			m.add(r, n, o, C, st)
			continue
		}
		o := m.node(r, n, i, start, C, st)
		m.add(r, n, o, C, st)
		running = append(running, o.end)
		prevGo = start
	}
}

// add files a task's outcome in its group's report (TG3, TG4).
func (m *model) add(r *gres, n *node, o *nodeOut, C key, st ctxState) {
	if !o.started {
		if !o.refused {
			r.cancelled++ // TG7
		}
		return
	}
	if r.end.less(o.end) {
		r.end = o.end
	}
	if o.out == nil {
		return
	}
	if m.echo(o.out, o.end, C, st) {
		o.echo, o.ctx = true, st
		r.cancelled++
		return
	}
	f := &failure{index: o.index, name: n.name(), err: o.out, at: o.end,
		reaction: C.t == o.end.t && C.less(o.end)}
	r.failures = append(r.failures, f)
	if o.out.kind == outPanic || o.out.kind == outNestedPanic {
		r.panicked = true
	}
	if !r.g.collectAll {
		r.owns = append(r.owns, own{at: o.end, cause: &cause{kind: causeTask, group: r.g.id, fail: f}})
	}
}

// echo reports whether an error returned at end only reports the group's
// cancellation (TG3): the context was done before, and the error matches
// its Err or its Cause. A panic or Goexit never is, nor a nested group's
// *Error that lists real failures.
func (m *model) echo(o *outcome, end, C key, st ctxState) bool {
	if !C.less(end) || o.abnormal() {
		return false
	}
	if o.kind == outNested && len(o.group.failures) > 0 {
		return false
	}
	atoms := map[string]bool{}
	addAtoms(atoms, o)
	return atoms[ctxAtom(st)] || atoms[causeAtom(st.cause)]
}

// Atoms name the sentinel errors and the particular errors an error matches
// under errors.Is.
func ctxAtom(st ctxState) string {
	if st.deadline {
		return "deadline"
	}
	return "canceled"
}

func causeAtom(c *cause) string {
	switch c.kind {
	case causeDeadline:
		return "deadline"
	case causeParent:
		return fmt.Sprintf("cancel g%d", c.group)
	case causeStopped:
		return "stopped"
	default:
		return fmt.Sprintf("task g%d #%d", c.group, c.fail.index)
	}
}

func addCauseAtoms(atoms map[string]bool, c *cause) {
	atoms[causeAtom(c)] = true
	if c.kind == causeTask {
		addAtoms(atoms, c.fail.err)
	}
}

func addAtoms(atoms map[string]bool, o *outcome) {
	switch o.kind {
	case outFail:
		atoms[fmt.Sprintf("fail n%d", o.node.id)] = true
	case outFailCanceled:
		atoms[fmt.Sprintf("failCanceled n%d", o.node.id)] = true
		atoms["canceled"] = true
	case outPanic:
		if o.node.panicStyle() == 0 {
			atoms[fmt.Sprintf("panic n%d", o.node.id)] = true
		}
	case outGoexit:
		atoms["goexit"] = true
	case outTimeout:
		atoms["timeout"] = true
		atoms["deadline"] = true
	case outShield:
		atoms[fmt.Sprintf("shield n%d", o.node.id)] = true
	case outNested, outNestedPanic:
		k := o.group
		for _, f := range k.failures {
			atoms[fmt.Sprintf("task g%d #%d", k.g.id, f.index)] = true
			addAtoms(atoms, f.err)
		}
		if k.parentCancelled {
			atoms[ctxAtom(k.ctx)] = true
			addCauseAtoms(atoms, k.ctx.cause)
		}
	case outCtx:
		atoms[ctxAtom(o.ctx)] = true
		if o.withCause {
			addCauseAtoms(atoms, o.ctx.cause)
		}
	case outCause:
		addCauseAtoms(atoms, o.ctx.cause)
	}
}

// node evaluates task n of r's group, started at s, as index.
func (m *model) node(r *gres, n *node, index int, s, C key, st ctxState) *nodeOut {
	o := &nodeOut{started: true, index: index}
	m.out[n.id] = o
	fail := func(k outcomeKind) *outcome { return &outcome{kind: k, node: n} }
	echo := func(k outcomeKind) *outcome { return &outcome{kind: k, node: n, ctx: st} }
	switch n.kind {
	case kindSucceed:
		o.end = late(s, n.a)
	case kindIgnore:
		o.end = late(s, n.a)
		if C.less(o.end) {
			o.out = echo(outCtx)
		}
	case kindFail:
		o.end, o.out = late(s, n.a), fail(outFail)
	case kindFailCanceled:
		o.end, o.out = late(s, n.a), fail(outFailCanceled)
	case kindPanic:
		o.end, o.out = late(s, n.a), fail(outPanic)
	case kindGoexit:
		o.end, o.out = late(s, n.a), fail(outGoexit)
	case kindBlock:
		o.end = C.next()
		if n.blockStyle() == 1 {
			o.out = echo(outCause)
		} else {
			o.out = echo(outCtx)
		}
	case kindWaitFor:
		m.waitFor(o, n, s, C, st)
	case kindShield:
		entry := late(s, n.a)
		if n.entersOnCancel() {
			entry = minKey(entry, C.next())
		}
		o.end = late(entry, n.b).next()
		switch {
		case n.shieldFails():
			o.out = fail(outShield)
		case C.less(o.end):
			o.out = echo(outCtx)
		}
	case kindSem:
		a1 := late(s, n.a)
		switch {
		case C.less(a1): // Acquire on a done context fails (SEM2)
			o.end, o.out = a1.next(), echo(outCtx)
			o.out.withCause = true
		case n.b <= a1.t: // its deadline has passed: Acquire fails, and the task gives up
			o.end = a1.next()
		case C.less(at(n.b)): // Acquire fails, or the task lets go and returns the same
			o.end, o.out = C.next(), echo(outCtx)
			o.out.withCause = true
		default:
			o.end = at(n.b).next()
		}
	case kindStop:
		k := late(s, n.a)
		r.owns = append(r.owns, own{at: k, cause: &cause{kind: causeStopped}})
		o.end = k.next()
	case kindCancelParent:
		k := late(s, n.a)
		r.cps = append(r.cps, k)
		o.end = k.next()
	case kindSpawn:
		k := late(s, n.a)
		r.spawn = append(r.spawn, spawnEvent{at: k, n: n.spawn})
		o.end = k.next()
	case kindGroup:
		created := late(s, n.a)
		if n.entersOnCancel() {
			created = minKey(created, C.next())
		}
		k := m.group(n.child, created, C, st)
		o.end = k.end.next()
		switch {
		case k.repanics():
			o.out = &outcome{kind: outNestedPanic, node: n, group: k}
		case !k.ok():
			o.out = &outcome{kind: outNested, node: n, group: k}
		}
	}
	return o
}

// waitFor evaluates a kindWaitFor task: timeout.WaitFor(ctx, b-now, fn),
// where fn returns nil at c, or (unless it ignores its context) the
// context's error when it is done. The context fn gets ends at b (its own
// timeout: TO3 names it) or at C (the group's: fn's error comes back
// unchanged, an echo), whichever comes first.
func (m *model) waitFor(o *nodeOut, n *node, s, C key, st ctxState) {
	own := late(s, n.b) // when WaitFor's own deadline fires; at once if it has passed (TO4)
	timedOut := &outcome{kind: outTimeout, node: n}
	echo := &outcome{kind: outCtx, node: n, ctx: st}
	if n.waitForIgnores() {
		o.end = late(s, n.c).next()
		switch {
		case own.less(o.end) && own.less(C):
			o.out = timedOut
		case C.less(o.end):
			o.out = echo
		}
		return
	}
	switch {
	case n.c <= s.t: // fn's time has passed: it returns nil at once
		o.end = s.next()
	case n.b <= s.t:
		o.end, o.out = s.next().next(), timedOut
	default:
		first := minKey(minKey(at(n.c), at(n.b)), C.next())
		o.end = first.next()
		switch first {
		case at(n.b):
			o.out = timedOut
		case C.next():
			o.out = echo
		}
	}
}

// walk calls fn for every task of g that the final evaluation reached, and
// for the tasks of the child groups of those that started.
func (m *model) walk(g *group, fn func(n *node, o *nodeOut)) {
	for _, n := range g.tasks {
		m.walkNode(n, fn)
	}
}

func (m *model) walkNode(n *node, fn func(n *node, o *nodeOut)) {
	o := m.out[n.id]
	fn(n, o)
	if !o.started {
		return
	}
	switch n.kind {
	case kindGroup:
		m.walk(n.child, fn)
	case kindSpawn:
		m.walkNode(n.spawn, fn)
	}
}
