package chaos

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// The groups that use a pool (WithSemaphore, maybe with WithLimit) wait for
// each other: when a task of one starts depends on when tasks of the others
// return. The model works this out by simulating each pool with every group
// that uses it, given when each was created and when its context is
// cancelled. Those depend in turn on when the tasks start, so the model
// evaluates the tree again with the pooled groups the last evaluation found,
// until they no longer change (model.run); a group's own evaluation uses
// what it knows of itself, and what the last evaluation found of the others.
// As nothing depends on what happens later, each round gets more of the
// tree right, from its start, until all of it is.
//
// A pooled group holds only leaf tasks that return at their own time,
// whatever their context does (poolKinds), and a task that starts late acts
// at its own instant all the same: its times move on by whole seconds past
// its start (node.rolled). So every task of a pooled group returns at an
// instant of its own, with the instant's microsecond count, and permits come
// back one at a time. What a returning task does happens in order: its
// failure cancels its group; it gives its permit to the first Go that waits
// for one; it gives its slot to its group's Go that waits for one, which then
// asks for a permit. The Go that took the permit returns and its task starts,
// while the returning task's goroutine goes on; that race is harmless, as
// the new task acts later, unless at that instant
//
//   - the group that took the permit is cancelled too (by a chain of Waits
//     returning that the returning task ended): its worker may or may not
//     start the task, and its next Go may or may not see the cancellation;
//   - a second group asks the pool for a permit (the group whose slot came
//     free), and one of them does not get it at once: their order in the
//     semaphore's queue is the scheduler's.
//
// The model reports these as ambiguous, and the property skips the tree.

// poolGroup is what the simulation of a pool needs of a group that uses it:
// when it was created, and when its context is cancelled (never if it is
// not).
type poolGroup struct{ created, C key }

// A poolPlan is how the Go calls of one pooled group went.
type poolPlan struct {
	start   []key  // by task: when it started; never if it did not
	end     []key  // by task: when it returned
	refused []bool // by task: TryGo found no free slot or permit
	last    key    // when the last Go returned
}

// plan simulates g's pool, with g created at created and cancelled at C,
// and the other groups of its pool as the last evaluation found them, and
// returns how g's Go calls go.
func (m *model) plan(g *group, created, C key) *poolPlan {
	pg := poolGroup{created, C}
	m.poolSeen[g.id] = pg
	in := maps.Clone(m.poolIn[g.pool])
	if in == nil {
		in = map[int]poolGroup{}
	}
	in[g.id] = pg
	plans, _ := m.simulatePool(g.pool, in)
	return plans[g.id]
}

// pooled evaluates the tasks of a group that uses a pool: each starts when
// the simulation of the pool says, and with its times rolled on past its
// start.
func (m *model) pooled(r *gres, g *group, created, C key, st ctxState) {
	p := m.plan(g, created, C)
	for i, n := range g.tasks {
		var o *nodeOut
		if s := p.start[i]; s != never {
			o = m.node(r, n.rolled(s.t), i, s, C, st)
			if o.end != p.end[i] {
				panic(fmt.Sprintf("chaos model: n%d returns at %v, but its pool's simulation says %v", n.id, o.end, p.end[i]))
			}
		} else {
			o = &nodeOut{index: i, ctx: st, refused: p.refused[i]}
			m.out[n.id] = o
		}
		m.add(r, n, o, C, st)
	}
	// Wait returns once the last Go has: a Go may wait for a permit until
	// the group is cancelled, after its own tasks have returned.
	if r.end.less(p.last) {
		r.end = p.last
	}
}

// reachedPools returns the pooled groups of the final evaluation, by pool
// and id.
func (m *model) reachedPools() map[int]map[int]poolGroup {
	in := map[int]map[int]poolGroup{}
	visit := func(g *group) {
		pg, ok := m.poolSeen[g.id]
		if !ok || g.pool < 0 {
			return
		}
		if in[g.pool] == nil {
			in[g.pool] = map[int]poolGroup{}
		}
		in[g.pool][g.id] = pg
	}
	visit(m.tr.root)
	m.walk(m.tr.root, func(n *node, o *nodeOut) {
		if o.started && n.kind == kindGroup {
			visit(n.child)
		}
	})
	return in
}

// poolsAmbiguity returns why the outcome of some pool is up to the
// scheduler, or "".
func (m *model) poolsAmbiguity(in map[int]map[int]poolGroup) string {
	for _, p := range slices.Sorted(maps.Keys(in)) {
		if _, why := m.simulatePool(p, in[p]); why != "" {
			return fmt.Sprintf("pool%d: %s", p, why)
		}
	}
	return ""
}

// rolled returns task n of a pooled group as it runs when it starts at now:
// if its first time has passed, its times move on by as few whole seconds as
// put the first after now. A task that waited for a permit so still acts at
// its own instant, never at the instant it starts.
func (n *node) rolled(now time.Duration) *node {
	first := n.a
	if n.kind == kindWaitFor { // a is not used
		first = min(n.b, n.c)
	}
	if first > now {
		return n
	}
	d := ((now-first)/time.Second + 1) * time.Second
	r := *n
	r.a, r.b, r.c = n.a+d, n.b+d, n.c+d
	return &r
}

// poolEnd is when task n of a pooled group (rolled), started at s, returns,
// as model.node works it out: whatever its context does.
func poolEnd(n *node, s key) key {
	switch n.kind {
	case kindStop, kindCancelParent:
		return late(s, n.a).next()
	case kindShield:
		return late(late(s, n.a), n.b).next()
	case kindWaitFor:
		return late(s, n.c).next()
	}
	return late(s, n.a)
}

// A poolSim simulates one pool and the groups that use it.
type poolSim struct {
	free    int64
	groups  []*simGroup // by id
	queue   []*simGroup // Go calls waiting for a permit, in FIFO order
	running []simTask   // tasks holding a permit

	askers map[time.Duration]map[int]bool // by instant: the groups that asked for a permit
	waited map[time.Duration]bool         // by instant: one that asked did not get a permit at once
	why    string                         // the first ambiguity
}

// A simGroup is one pooled group, handing its tasks over with Go one by one.
type simGroup struct {
	g     *group
	in    poolGroup
	plan  *poolPlan
	next  int // the task whose Go is called, or waits
	state simState
	at    key // simCalling: when the Go of task next is called
	slots int // of its limit: held from a Go's reservation until its task returns
}

type simState uint8

const (
	simCalling    simState = iota
	simWaitSlot            // WithLimit: every slot is held
	simWaitPermit          // a slot in hand, if limited
	simDone                // every Go has returned
)

type simTask struct {
	end key
	sg  *simGroup
}

// The kinds of events, in the order they happen at one key: a group's
// context is cancelled before its own task's permit comes back (a failure
// is recorded first), and a Go is called after what ended before it.
const (
	evLeave = iota
	evEnd
	evCall
)

// simulatePool simulates pool p with the groups in, and returns their plans
// and why the outcome is up to the scheduler ("" if it is not).
func (m *model) simulatePool(p int, in map[int]poolGroup) (map[int]*poolPlan, string) {
	s := &poolSim{free: m.tr.sems[p], askers: map[time.Duration]map[int]bool{}, waited: map[time.Duration]bool{}}
	plans := map[int]*poolPlan{}
	for _, id := range slices.Sorted(maps.Keys(in)) {
		g := m.groups[id]
		pl := &poolPlan{
			start:   make([]key, len(g.tasks)),
			end:     make([]key, len(g.tasks)),
			refused: make([]bool, len(g.tasks)),
			last:    in[id].created,
		}
		for i := range pl.start {
			pl.start[i], pl.end[i] = never, never
		}
		plans[id] = pl
		s.groups = append(s.groups, &simGroup{g: g, in: in[id], plan: pl, at: in[id].created})
	}
	for s.step() {
	}
	for _, sg := range s.groups {
		if sg.state != simDone {
			panic(fmt.Sprintf("chaos model: pool%d deadlocks: g%d waits for ever", p, sg.g.id))
		}
	}
	for _, t := range slices.Sorted(maps.Keys(s.askers)) {
		if len(s.askers[t]) > 1 && s.waited[t] && s.why == "" {
			s.why = fmt.Sprintf("at %v, groups %v ask for a permit that not all of them get", t, slices.Sorted(maps.Keys(s.askers[t])))
		}
	}
	return plans, s.why
}

// step handles the earliest event, and reports whether there was one.
func (s *poolSim) step() bool {
	best, kind, who := never, -1, -1
	consider := func(k key, kd, i int) {
		if k.less(best) || k == best && kind >= 0 && kd < kind {
			best, kind, who = k, kd, i
		}
	}
	for i, sg := range s.groups {
		switch sg.state {
		case simCalling:
			consider(sg.at, evCall, i)
		case simWaitSlot, simWaitPermit:
			consider(sg.in.C, evLeave, i)
		}
	}
	for i, t := range s.running {
		consider(t.end, evEnd, i)
	}
	switch kind {
	case evLeave:
		s.leave(s.groups[who])
	case evEnd:
		s.end(who)
	case evCall:
		s.call(s.groups[who])
	default:
		return false
	}
	return true
}

// call is the Go of sg's next task (TG7, TG8).
func (s *poolSim) call(sg *simGroup) {
	g, i, k := sg.g, sg.next, sg.at
	if i == len(g.tasks) {
		sg.state = simDone
		return
	}
	sg.plan.last = k
	switch {
	case sg.in.C.less(k): // TG7
		sg.next++
	case g.limit > 0 && sg.slots == g.limit:
		if g.tasks[i].via == viaTryGo {
			sg.plan.refused[i] = true
			sg.next++
			return
		}
		sg.state = simWaitSlot
	default:
		if g.limit > 0 {
			sg.slots++
		}
		s.acquire(sg, k)
	}
}

// acquire asks for the permit of sg's next task at k, its slot in hand if
// the group is limited: it is granted at once if one is free and nobody
// waits (SEM1); else Go waits in the queue, and TryGo gives up.
func (s *poolSim) acquire(sg *simGroup, k key) {
	if s.askers[k.t] == nil {
		s.askers[k.t] = map[int]bool{}
	}
	s.askers[k.t][sg.g.id] = true
	if s.free > 0 && len(s.queue) == 0 {
		s.free--
		s.start(sg, k)
		return
	}
	s.waited[k.t] = true
	if i := sg.next; sg.g.tasks[i].via == viaTryGo {
		sg.plan.refused[i] = true
		s.freeSlot(sg)
		sg.next++
		sg.state, sg.at, sg.plan.last = simCalling, k, k
		return
	}
	s.queue = append(s.queue, sg)
	sg.state = simWaitPermit
}

// start starts sg's next task at k, holding a permit; its Go returns.
func (s *poolSim) start(sg *simGroup, k key) {
	i := sg.next
	e := poolEnd(sg.g.tasks[i].rolled(k.t), k)
	sg.plan.start[i], sg.plan.end[i] = k, e
	s.running = append(s.running, simTask{e, sg})
	sg.next++
	sg.state, sg.at, sg.plan.last = simCalling, k, k
}

// end is the return of running task j: its permit goes to the first Go that
// waits for one, then its slot to its group's Go that waits for one.
func (s *poolSim) end(j int) {
	t := s.running[j]
	s.running = slices.Delete(s.running, j, j+1)
	e := t.end
	s.free++
	for s.free > 0 && len(s.queue) > 0 {
		z := s.queue[0]
		s.queue = s.queue[1:]
		s.free--
		if z.in.C.t == e.t && s.why == "" {
			s.why = fmt.Sprintf("at %v, g%d takes a permit and is cancelled", e, z.g.id)
		}
		s.start(z, e.next())
	}
	if h := t.sg; h.g.limit > 0 {
		h.slots--
		if h.state == simWaitSlot {
			h.slots++
			s.acquire(h, e.next())
		}
	}
}

// leave is sg's context ending while its Go waits for a slot or a permit:
// the task is not started (TG7), and the Go returns.
func (s *poolSim) leave(sg *simGroup) {
	if sg.state == simWaitPermit {
		s.queue = slices.DeleteFunc(s.queue, func(z *simGroup) bool { return z == sg })
		s.freeSlot(sg)
	}
	k := sg.in.C.next()
	sg.next++
	sg.state, sg.at, sg.plan.last = simCalling, k, k
}

func (s *poolSim) freeSlot(sg *simGroup) {
	if sg.g.limit > 0 {
		sg.slots--
	}
}
