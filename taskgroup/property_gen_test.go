package taskgroup_test

import (
	"context"
	"fmt"
	"math"
	"time"

	"pgregory.net/rapid"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
)

// The properties' generator: a scenario (the group's options, its parent,
// Stop) and its tasks, drawn by rapid.

// Time is fake and drawn so that no two events can happen at the same
// instant, where the order would be up to the scheduler. A task acts (returns,
// fails, panics, spawns) a whole number of units after it starts, plus its own
// power of two of ticks: task i adds propTick<<i. A task starts at time 0 or
// at the instant another task acted, so its act falls at a sum of whole units
// and of distinct powers of two ticks, all below a quarter unit; two tasks
// that acted at the same instant would have the same set of ticks, so each
// would have started after the other. The parent context ends on a half unit
// and Stop comes on three quarters, so neither meets a task's act either. An
// outsider that holds permits of the group's semaphore lets them go on a
// quarter unit: the tasks that start then act a quarter unit and their own
// ticks after a whole unit, between the acts of the others and the parent's
// end. It lets them go one at a time, each grant settled before the next
// (holdOutside), so two Go calls it unblocks never go on at the same instant.
const (
	propUnit  = time.Second
	propTick  = propUnit / (1 << 14) // 12 tasks: 4095 ticks, a quarter unit
	propNever = time.Duration(math.MaxInt64)
	propMax   = 12 // tasks in one case, children included
)

// propKind is what a task does when its time comes.
type propKind int

const (
	kindNil           propKind = iota // returns nil
	kindFail                          // returns its own sentinel error
	kindFailCanceled                  // returns context.Canceled of its own making: a failure unless it echoes (TG3)
	kindFailNested                    // returns the *Error of a nested group whose task failed with its sentinel
	kindLateEcho                      // returns the group's cancellation if its context is done, else nil
	kindPanicErr                      // panics with an error value
	kindPanicStr                      // panics with a string
	kindPanicNil                      // panic(nil), a *runtime.PanicNilError
	kindPanicCanceled                 // panics with context.Canceled: a panic is never an echo
	kindGoexit                        // calls runtime.Goexit
	kindSpawn                         // starts its child in the same group, then returns nil
)

func (k propKind) String() string {
	return [...]string{"nil", "fail", "failCanceled", "failNested", "lateEcho", "panicErr", "panicStr", "panicNil", "panicCanceled", "goexit", "spawn"}[k]
}

func (k propKind) panics() bool {
	return k == kindPanicErr || k == kindPanicStr || k == kindPanicNil || k == kindPanicCanceled
}

// propVia is how a task is handed to the group.
type propVia int

const (
	viaGo propVia = iota
	viaGoNamed
	viaTryGo
	viaSpawn
	viaSpawnNamed
)

func (v propVia) String() string {
	return [...]string{"Go", "GoNamed", "TryGo", "Spawn", "SpawnNamed"}[v]
}

func (v propVia) named() bool { return v == viaGoNamed || v == viaSpawnNamed }

// propEcho is how a task reports the group's cancellation.
type propEcho int

const (
	echoErr          propEcho = iota // ctx.Err()
	echoCause                        // context.Cause(ctx)
	echoWrappedCause                 // fmt.Errorf("...: %w", context.Cause(ctx))
	echoWrappedErr                   // fmt.Errorf("...: %w", ctx.Err())
)

func (e propEcho) of(ctx context.Context, id int) error {
	switch e {
	case echoCause:
		return context.Cause(ctx)
	case echoWrappedCause:
		return fmt.Errorf("task %d gives up: %w", id, context.Cause(ctx))
	case echoWrappedErr:
		return fmt.Errorf("task %d gives up: %w", id, ctx.Err())
	}
	return ctx.Err()
}

// propTask is one drawn task. Its id is its place in the drawn slice.
type propTask struct {
	kind   propKind
	coop   bool          // returns an echo as soon as its context is done, before acting
	delay  time.Duration // from its start to its act
	via    propVia
	echo   propEcho
	parent int // the task that spawns it; -1: the test goroutine
	child  int // for kindSpawn, the task it spawns
}

func (t propTask) String() string {
	s := fmt.Sprintf("%v via %v after %v", t.kind, t.via, t.delay)
	if t.coop {
		s += " (cancel-aware)"
	}
	if t.kind == kindSpawn {
		s += fmt.Sprintf(" child %d", t.child)
	}
	return s
}

// propParent is the group's parent context as drawn.
type propParent struct {
	kind        string        // "none", "cancel", "deadline", "stopped group" (the context of a group that is stopped)
	at          time.Duration // when it ends; < 0: before New
	customCause bool          // a deadline with a cause of its own
}

func (p propParent) err() error {
	if p.kind == "deadline" {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

// propScenario is one drawn case.
type propScenario struct {
	tasks          []propTask
	limit          int           // the most tasks that can run at once; 0: no bound
	withLimit      int           // WithLimit's n; 0: not given
	withSemaphore  int           // the capacity of WithSemaphore's semaphore; 0: not given
	outside        int           // permits of the semaphore an outsider holds from before New
	outsideUntil   time.Duration // when the outsider releases them
	collectAll     bool
	panicsAsErrors bool
	stopOnSuccess  bool // First: the first success stops the group
	name           string
	parent         propParent
	stopAt         time.Duration // when Stop is called; < 0: right after New; propNever: not at all
}

// options returns the group's options; sem is WithSemaphore's semaphore,
// nil unless the scenario has one.
func (sc *propScenario) options(sem *semaphore.Semaphore) []taskgroup.Option {
	var opts []taskgroup.Option
	if sc.withLimit > 0 {
		opts = append(opts, taskgroup.WithLimit(sc.withLimit))
	}
	if sem != nil {
		opts = append(opts, taskgroup.WithSemaphore(sem))
	}
	if sc.collectAll {
		opts = append(opts, taskgroup.CollectAll())
	}
	if sc.panicsAsErrors {
		opts = append(opts, taskgroup.PanicsAsErrors())
	}
	if sc.name != "" {
		opts = append(opts, taskgroup.WithName(sc.name))
	}
	return opts
}

func drawPropDelay(rt *rapid.T, id int) time.Duration {
	return time.Duration(rapid.IntRange(0, 5).Draw(rt, "delay"))*propUnit + propTick<<id
}

// drawPropTasks draws up to max tasks, each spawning task followed by its
// child (drawn at once, so that ids stay below max).
func drawPropTasks(rt *rapid.T, max int, kinds []propKind, vias []propVia) []propTask {
	n := rapid.IntRange(0, max).Draw(rt, "tasks")
	var tasks []propTask
	var draw func(parent int) int
	draw = func(parent int) int {
		id := len(tasks)
		tasks = append(tasks, propTask{
			kind:   rapid.SampledFrom(kinds).Draw(rt, "kind"),
			coop:   rapid.Bool().Draw(rt, "coop"),
			delay:  drawPropDelay(rt, id),
			via:    rapid.SampledFrom(vias).Draw(rt, "via"),
			echo:   propEcho(rapid.IntRange(0, 3).Draw(rt, "echo")),
			parent: parent,
			child:  -1,
		})
		if tasks[id].kind == kindSpawn {
			if len(tasks) < n {
				child := draw(id)
				tasks[id].child = child
			} else {
				tasks[id].kind = kindNil
			}
		}
		return id
	}
	for len(tasks) < n {
		draw(-1)
	}
	return tasks
}

func drawPropParent(rt *rapid.T) propParent {
	p := propParent{kind: rapid.SampledFrom([]string{"none", "none", "cancel", "deadline", "stopped group"}).Draw(rt, "parent")}
	if p.kind != "none" {
		p.at = time.Duration(rapid.IntRange(-1, 6).Draw(rt, "parentAt"))*propUnit + propUnit/2
		p.customCause = p.kind == "deadline" && rapid.Bool().Draw(rt, "customCause")
	}
	return p
}

// drawPropLimit sets the scenario's limit: none, WithLimit, WithSemaphore or
// both, with any number of permits against any number of slots. With a
// semaphore, an outsider may hold some of its permits from before New and
// let them go at a quarter unit, so that the group waits for permits it does
// not hold itself.
func drawPropLimit(rt *rapid.T, sc *propScenario) {
	switch rapid.IntRange(0, 3).Draw(rt, "limitKind") {
	case 1:
		sc.withLimit = rapid.IntRange(1, 4).Draw(rt, "limit")
	case 2:
		sc.withSemaphore = rapid.IntRange(1, 4).Draw(rt, "permits")
	case 3:
		sc.withLimit = rapid.IntRange(1, 4).Draw(rt, "limit")
		sc.withSemaphore = rapid.IntRange(1, 4).Draw(rt, "permits")
	}
	sc.limit = sc.withLimit
	if sc.withSemaphore > 0 {
		if sc.limit == 0 || sc.withSemaphore < sc.limit {
			sc.limit = sc.withSemaphore
		}
		sc.outside = rapid.IntRange(0, sc.withSemaphore).Draw(rt, "outside")
		if sc.outside > 0 {
			sc.outsideUntil = time.Duration(rapid.IntRange(0, 5).Draw(rt, "outsideUntil"))*propUnit + propUnit/4
		}
	}
}

// drawGroupScenario draws a group and its tasks for
// TestGroup_Property_TG1toTG11_MatchesModel.
func drawGroupScenario(rt *rapid.T) *propScenario {
	sc := &propScenario{
		collectAll:     rapid.Bool().Draw(rt, "collectAll"),
		panicsAsErrors: rapid.Bool().Draw(rt, "panicsAsErrors"),
		name:           rapid.SampledFrom([]string{"", "checkout"}).Draw(rt, "name"),
		parent:         drawPropParent(rt),
		stopAt:         propNever,
	}
	drawPropLimit(rt, sc)
	if rapid.IntRange(0, 2).Draw(rt, "stop") == 0 {
		sc.stopAt = time.Duration(rapid.IntRange(-1, 6).Draw(rt, "stopAt"))*propUnit + 3*propUnit/4
	}
	kinds := []propKind{kindNil, kindFail, kindFailCanceled, kindFailNested, kindLateEcho, kindPanicErr, kindPanicStr, kindPanicNil, kindPanicCanceled, kindGoexit, kindSpawn}
	vias := []propVia{viaGo, viaGoNamed, viaTryGo, viaSpawn, viaSpawnNamed}
	sc.tasks = drawPropTasks(rt, propMax, kinds, vias)
	return sc
}

// drawMapScenario draws Map's items: they succeed, fail, echo, panic or call
// runtime.Goexit, with or without CollectAll, PanicsAsErrors, a limit and a
// parent that ends.
func drawMapScenario(rt *rapid.T) *propScenario {
	sc := &propScenario{
		collectAll:     rapid.Bool().Draw(rt, "collectAll"),
		panicsAsErrors: rapid.Bool().Draw(rt, "panicsAsErrors"),
		parent:         drawPropParent(rt),
		stopAt:         propNever,
	}
	drawPropLimit(rt, sc)
	kinds := []propKind{kindNil, kindFail, kindFailCanceled, kindFailNested, kindLateEcho, kindPanicErr, kindPanicStr, kindGoexit}
	sc.tasks = drawPropTasks(rt, propMax, kinds, []propVia{viaGo})
	return sc
}

// drawFirstScenario draws First's functions: up to 6 that succeed, fail,
// echo, panic or call runtime.Goexit, and a parent that ends.
func drawFirstScenario(rt *rapid.T) *propScenario {
	sc := &propScenario{
		collectAll:    true,
		stopOnSuccess: true,
		parent:        drawPropParent(rt),
		stopAt:        propNever,
	}
	kinds := []propKind{kindNil, kindFail, kindFailCanceled, kindLateEcho, kindPanicErr, kindPanicStr, kindPanicCanceled, kindGoexit}
	sc.tasks = drawPropTasks(rt, 6, kinds, []propVia{viaGo})
	return sc
}
