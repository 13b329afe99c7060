package chaos

import (
	"fmt"
	"strings"
	"time"

	"pgregory.net/rapid"
)

// Bounds of a drawn tree: CI runs thousands of trees under -race, so one must
// stay cheap.
const (
	maxNodes    = 300 // tasks in a tree, spawned ones included
	maxDepth    = 3   // groups nested below the root: 4 levels with it
	maxFanout   = 12  // tasks a group starts with
	maxSpawns   = 2   // a spawned task may spawn, up to this depth
	maxSems     = 2   // shared semaphores, and pools as many
	maxCapacity = 4   // their capacity
	maxLimit    = 3   // WithLimit(1..maxLimit)
)

// kind is what a task does.
type kind uint8

const (
	kindSucceed      kind = iota // sleeps until a, ignoring ctx; returns nil
	kindIgnore                   // sleeps until a, ignoring ctx; returns ctx.Err()
	kindFail                     // sleeps until a; returns failErr (wrapped if variant&1)
	kindFailCanceled             // sleeps until a; returns canceledErr, which wraps context.Canceled
	kindPanic                    // sleeps until a; panics with panicErr, a string or nil (variant%3)
	kindGoexit                   // sleeps until a; calls runtime.Goexit
	kindBlock                    // waits for ctx.Done; returns ctx.Err(), context.Cause(ctx) or ctx.Err() wrapped (variant%3)
	kindWaitFor                  // timeout.WaitFor with deadline b around fn that waits until c, or for its ctx (variant&1 == 0)
	kindShield                   // at a (or on cancellation if variant&1), shield.Do around fn sleeping until b; returns ctx.Err(), or fn's shieldErr if variant&2
	kindSem                      // at a, Acquire(weight) of sems[sem] until b; holds it until b or ctx is done
	kindStop                     // at a, Stop on its group
	kindCancelParent             // at a, cancels its group's parent context with cancelErr
	kindGroup                    // at a (or on cancellation if variant&1), runs child and returns its Wait error (wrapped if variant&2)
	kindSpawn                    // at a, starts spawn in its own group

	numLeafKinds = int(kindCancelParent) + 1
)

var kindNames = [...]string{"succeed", "ignore", "fail", "failCanceled", "panic", "goexit", "block",
	"waitFor", "shield", "sem", "stop", "cancelParent", "group", "spawn"}

func (k kind) String() string { return kindNames[k] }

// via is how a task is handed to its group.
type via uint8

const (
	viaGo via = iota
	viaGoNamed
	viaSpawn
	viaSpawnNamed
	viaTryGo // last: limited groups once drew only the others, so their old draws never reach it
)

var viaNames = [...]string{"Go", "GoNamed", "Spawn", "SpawnNamed", "TryGo"}

func (v via) String() string { return viaNames[v] }
func (v via) named() bool    { return v == viaGoNamed || v == viaSpawnNamed }
func (v via) spawned() bool  { return v == viaSpawn || v == viaSpawnNamed }

// A node is one task. Its times are offsets from the start of the bubble,
// each a whole number of seconds plus a microsecond count unique in the
// tree, so no two actions of a tree happen at the same instant.
type node struct {
	id      int
	kind    kind
	via     via
	variant uint8
	a, b, c time.Duration
	sem     int    // kindSem: which shared semaphore
	weight  int64  // kindSem
	child   *group // kindGroup
	spawn   *node  // kindSpawn
}

// name is the task's name in its group, "" for an unnamed task.
func (n *node) name() string {
	if n.via.named() {
		return fmt.Sprintf("n%d", n.id)
	}
	return ""
}

func (n *node) failWrapped() bool     { return n.variant&1 != 0 }
func (n *node) panicStyle() int       { return int(n.variant % 3) } // 0 panicErr, 1 string, 2 nil
func (n *node) blockStyle() int       { return int(n.variant % 3) } // 0 ctx.Err(), 1 context.Cause, 2 wrapped ctx.Err()
func (n *node) waitForIgnores() bool  { return n.variant&1 != 0 }
func (n *node) entersOnCancel() bool  { return n.variant&1 != 0 } // kindShield, kindGroup
func (n *node) shieldFails() bool     { return n.variant&2 != 0 }
func (n *node) groupWrapsError() bool { return n.variant&2 != 0 }

// panicString is the value of a string panic.
func (n *node) panicString() string { return fmt.Sprintf("chaos: panic in n%d", n.id) }

// A group is a taskgroup.Group and the tasks it starts with.
type group struct {
	id             int
	named          bool
	limit          int
	pool           int // WithSemaphore(pools[pool]); -1 for none
	collectAll     bool
	panicsAsErrors bool
	items          itemsForm // run as the items of a call over items, not with Go
	tasks          []*node
}

// leafOnly reports whether the group holds only leaf tasks: a limited or
// pooled group, whose tasks may start late.
func (g *group) leafOnly() bool { return g.limit > 0 || g.pool >= 0 }

func (g *group) name() string {
	if g.named {
		return fmt.Sprintf("g%d", g.id)
	}
	return ""
}

// A tree is the root group and the shared semaphores. It has as many pools,
// the semaphores that groups share with WithSemaphore, of the same
// capacities: drawn once for both, so that the draws of a tree without
// pooled groups are what they were before pools (see drawTree).
type tree struct {
	root   *group
	sems   []int64 // capacities, of the semaphores and of the pools
	nodes  int
	groups int
}

// treeGen draws trees. Its draws are not logged one by one; a failing tree
// is printed whole by GoString.
var treeGen = rapid.Custom(drawTree)

type gen struct {
	tr       *tree
	budget   int  // tasks left to draw
	maxDepth int  // of groups below the root
	groups   bool // child groups may be drawn
	tick     time.Duration
}

func drawTree(t *rapid.T) *tree {
	// Small draws, which rapid favours and shrinks towards, allow big trees
	// here; the trees still shrink, as the tasks of each group and the kind
	// of each task do.
	//
	// The rapid fail files under testdata/rapid are regression seeds: they
	// must still draw the trees that found the bugs. So what was added later
	// takes no draw of its own where an old tree has one: the pools have the
	// semaphores' capacities; a group's pool comes from its id and a new
	// high bit of its options, which old draws (recorded with the old bit
	// length) never set; and a limited group's TryGo is the top of a wider
	// range of vias, which they never reach.
	// TestChaos_FailFilesDrawTheTreesThatFoundTheBugs checks it.
	g := &gen{
		tr:       &tree{},
		budget:   maxNodes - rapid.IntRange(0, maxNodes-1).Draw(t, "fewer tasks"),
		maxDepth: maxDepth - rapid.IntRange(0, maxDepth).Draw(t, "shallower"),
		groups:   rapid.IntRange(0, 4).Draw(t, "no child groups") < 4,
	}
	for range rapid.IntRange(1, maxSems).Draw(t, "semaphores") {
		g.tr.sems = append(g.tr.sems, int64(rapid.IntRange(1, maxCapacity).Draw(t, "capacity")))
	}
	g.tr.root = g.group(t, 0, 0)
	return g.tr
}

// flip is true one time in three, and half is true one time in two,
// whatever rapid's bias for small numbers; both shrink to false.
func flip(t *rapid.T) bool { return len(rapid.SliceOfN(rapid.Bool(), 0, 1).Draw(t, "flip")) > 0 }
func half(t *rapid.T) bool { return len(rapid.SliceOfN(rapid.Bool(), 0, 2).Draw(t, "half")) > 0 }

// at draws a time later than second after: a whole number of seconds, plus
// a microsecond count no other time of the tree has.
func (g *gen) at(t *rapid.T, after int) (int, time.Duration) {
	sec := after + 1 + rapid.IntRange(0, 4).Draw(t, "dt")
	g.tick += time.Microsecond
	return sec, time.Duration(sec)*time.Second + g.tick
}

// group draws a group created at second after (or later), depth groups
// below the root. Each group and each task is drawn by a generator of its
// own, so that rapid can shrink a failing tree by dropping them whole.
func (g *gen) group(t *rapid.T, depth, after int) *group {
	return rapid.Custom(func(t *rapid.T) *group {
		gr := &group{id: g.tr.groups}
		g.tr.groups++
		opts := rapid.IntRange(0, 31).Draw(t, "options")
		gr.collectAll = opts&1 != 0
		gr.panicsAsErrors = opts&2 != 0
		gr.named = opts&4 != 0
		limited := rapid.IntRange(0, 4).Draw(t, "limited")
		if limited == 4 {
			gr.limit = rapid.IntRange(1, maxLimit).Draw(t, "limit")
		}
		// About one group in five below the root uses a pool, a third of
		// them limited too; groups share the pools by their ids.
		gr.pool = -1
		if opts&8 != 0 && limited >= 2 && depth > 0 {
			gr.pool = gr.id % len(g.tr.sems)
		}
		task := rapid.Custom(func(t *rapid.T) *node {
			if g.budget <= 0 {
				rapid.Bool().Draw(t, "spare") // a Custom generator must draw
				return nil
			}
			return g.draw(t, depth, after, gr, 0)
		})
		least := 0 // an empty group is a case too, but not a tree without tasks
		switch depth {
		case 0:
			least = min(3, g.budget)
		case 1:
			least = min(1, g.budget)
		}
		for _, n := range rapid.SliceOfN(task, least, min(maxFanout, g.budget)).Draw(t, "tasks") {
			if n != nil {
				gr.tasks = append(gr.tasks, n)
			}
		}
		// About one group in two below the root is run as the items of a
		// call over items (items_test.go), by a new high bit of its options
		// that old draws never set, and its id.
		if opts&16 != 0 && depth > 0 {
			gr.items = itemsFor(gr)
		}
		return gr
	}).Draw(t, "group")
}

// node draws a task of group gr, depth below the root, whose times are
// later than second after.
func (g *gen) node(t *rapid.T, depth, after int, gr *group, spawns int) *node {
	return rapid.Custom(func(t *rapid.T) *node { return g.draw(t, depth, after, gr, spawns) }).Draw(t, "node")
}

// poolKinds are the tasks a pooled group holds: leaf tasks that return at
// their own time whatever their context does (a shield entered at its time,
// a WaitFor around a function that ignores its context). So no two tasks of
// pooled groups return at the same instant, and no two permits come back
// together (pool_test.go).
var poolKinds = []kind{kindSucceed, kindIgnore, kindFail, kindFailCanceled, kindPanic, kindGoexit,
	kindWaitFor, kindShield, kindStop, kindCancelParent}

// draw draws a task of group gr; small draws make simple tasks, for
// shrinking. Where depth and budget allow, half the tasks run a child group,
// and a ninth of the others spawn a sibling.
func (g *gen) draw(t *rapid.T, depth, after int, gr *group, spawns int) *node {
	g.budget--
	n := &node{id: g.tr.nodes}
	g.tr.nodes++
	leafOnly := gr.leafOnly()
	switch {
	case !leafOnly && g.groups && depth < g.maxDepth && g.budget > 0 && half(t):
		n.kind = kindGroup
	case !leafOnly && spawns < maxSpawns && g.budget > 0 && flip(t) && flip(t):
		n.kind = kindSpawn
	case gr.pool >= 0:
		n.kind = rapid.SampledFrom(poolKinds).Draw(t, "pool leaf")
	default:
		n.kind = kind(rapid.IntRange(0, numLeafKinds-1).Draw(t, "leaf"))
	}
	n.via = via(rapid.IntRange(0, int(viaTryGo)).Draw(t, "via"))
	n.variant = uint8(rapid.IntRange(0, 3).Draw(t, "variant"))
	if gr.pool >= 0 {
		switch n.kind {
		case kindWaitFor:
			n.variant |= 1 // its function ignores its context
		case kindShield:
			n.variant &^= 1 // entered at its time, not on cancellation
		}
	}
	sec, a := g.at(t, after)
	n.a = a
	switch n.kind {
	case kindWaitFor: // called at start: both times are after it
		_, n.b = g.at(t, after)
		_, n.c = g.at(t, after)
	case kindShield:
		_, n.b = g.at(t, sec)
	case kindSem:
		n.sem = rapid.IntRange(0, len(g.tr.sems)-1).Draw(t, "semaphore")
		n.weight = int64(rapid.IntRange(1, int(g.tr.sems[n.sem])).Draw(t, "weight"))
		_, n.b = g.at(t, sec)
	case kindGroup:
		n.child = g.group(t, depth+1, sec)
	case kindSpawn:
		n.spawn = g.node(t, depth, sec, gr, spawns+1)
	}
	return n
}

// GoString prints the tree, one task a line, so that rapid shows a failing
// tree readably.
func (tr *tree) GoString() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tree: %d tasks, %d groups, semaphores %v\n", tr.nodes, tr.groups, tr.sems)
	tr.root.print(&b, "")
	return b.String()
}

func (g *group) print(b *strings.Builder, indent string) {
	fmt.Fprintf(b, "%sg%d", indent, g.id)
	if g.collectAll {
		b.WriteString(" CollectAll")
	}
	if g.panicsAsErrors {
		b.WriteString(" PanicsAsErrors")
	}
	if g.named {
		fmt.Fprintf(b, " WithName(%q)", g.name())
	}
	if g.limit > 0 {
		fmt.Fprintf(b, " WithLimit(%d)", g.limit)
	}
	if g.pool >= 0 {
		fmt.Fprintf(b, " WithSemaphore(pool%d)", g.pool)
	}
	if g.items != itemsNone {
		fmt.Fprintf(b, " run by %v", g.items)
	}
	b.WriteString("\n")
	for i, n := range g.tasks {
		n.print(b, indent+"  ", fmt.Sprintf("#%d", i))
	}
}

func (n *node) print(b *strings.Builder, indent, index string) {
	fmt.Fprintf(b, "%s%s n%d %s %s v%d a=%v", indent, index, n.id, n.via, n.kind, n.variant, n.a)
	switch n.kind {
	case kindWaitFor:
		fmt.Fprintf(b, " deadline=%v fn=%v", n.b, n.c)
	case kindShield:
		fmt.Fprintf(b, " fn=%v", n.b)
	case kindSem:
		fmt.Fprintf(b, " sem%d w=%d until=%v", n.sem, n.weight, n.b)
	}
	b.WriteString("\n")
	switch n.kind {
	case kindGroup:
		n.child.print(b, indent+"  ")
	case kindSpawn:
		n.spawn.print(b, indent+"  ", "+")
	}
}
