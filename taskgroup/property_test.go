package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
)

// The properties below draw a set of tasks, work out with a model what the
// group must report, then run the tasks in a synctest bubble and compare.
//
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
// end.
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

// The model.

type propResult int

const (
	resNone   propResult = iota // not started
	resNil                      // returned nil
	resFail                     // returned a real failure
	resEcho                     // returned an echo of the group's cancellation
	resPanic                    // panicked
	resGoexit                   // called runtime.Goexit
)

type propSource int

const (
	srcNone    propSource = iota // the group's context was not done before Wait
	srcParent                    // the parent ended first
	srcStop                      // Stop came first
	srcFailure                   // a failure came first (TG2)
)

func (s propSource) String() string {
	return [...]string{"nothing", "the parent", "Stop", "a failure"}[s]
}

type propState int

const (
	stIdle     propState = iota // not started (yet)
	stSleeping                  // started, waiting for its time (or, if coop, the cancellation)
	stBlocked                   // a spawner waiting in Go for a slot or a permit
	stFinished
)

// propModel is what must happen, worked out by simulating the group.
type propModel struct {
	sc *propScenario

	index     []int // the index Go gives the task; -1: Go never called for it
	state     []propState
	startAt   []time.Duration
	actAt     []time.Duration
	endAt     []time.Duration
	result    []propResult
	sawCancel []bool // woke on ctx.Done (coop)
	tried     []bool // what TryGo reports
	failures  []int  // ids, in return order
	cancelled int
	winner    int // First: the first task to return nil; -1 for none

	done     bool // the group's context is done
	doneAt   time.Duration
	doneBy   propSource
	doneTask int   // the failing task, for srcFailure
	ctxErr   error // the group context's Err once done

	now         time.Duration
	running     int
	slots       int   // WithLimit's slots held: from Go's reservation until the task returns
	permits     int   // WithSemaphore's permits free
	waitSlot    []int // tasks whose Go waits for a slot, in arrival order
	waitPermit  []int // tasks whose Go holds a slot (if limited) and waits for a permit, in arrival order
	outsideOut  bool  // the outsider has let its permits go
	top         []int // the tasks the test goroutine hands over, in order
	nextTop     int
	testBlocked bool
	nextIdx     int
	parentFired bool
	stopAt      time.Duration // when Stop is called, drawn or added to end a deadlock
	stopFired   bool
	end         time.Duration // when Wait returns
}

func simulate(sc *propScenario) *propModel {
	n := len(sc.tasks)
	m := &propModel{
		sc: sc, index: make([]int, n), state: make([]propState, n),
		startAt: make([]time.Duration, n), actAt: make([]time.Duration, n),
		endAt: make([]time.Duration, n), result: make([]propResult, n),
		sawCancel: make([]bool, n), tried: make([]bool, n),
		winner: -1, doneTask: -1, stopAt: sc.stopAt,
		permits: sc.withSemaphore - sc.outside, outsideOut: sc.outside == 0,
	}
	for id, t := range sc.tasks {
		m.index[id] = -1
		if t.parent < 0 {
			m.top = append(m.top, id)
		}
	}
	if sc.parent.kind != "none" && sc.parent.at < 0 {
		m.parentFired = true
		m.cancel(srcParent, -1)
	}
	if m.stopAt < 0 {
		m.stopFired = true
		m.cancel(srcStop, -1)
	}
	m.settle()
	for !m.quiet() {
		at, act := m.next()
		if act == nil {
			// Every slot or permit is held by a spawner waiting for one:
			// nothing but the group's cancellation can end this (see the
			// package doc on limits). The test calls Stop then.
			if m.stopAt != propNever {
				panic("model: deadlock with a Stop pending")
			}
			m.stopAt = (m.now/propUnit+1)*propUnit + 3*propUnit/4
			continue
		}
		m.now = at
		act()
		m.settle()
	}
	m.end = m.now
	return m
}

func (m *propModel) quiet() bool {
	return m.nextTop == len(m.top) && !m.testBlocked && m.running == 0 && len(m.waitSlot) == 0 && len(m.waitPermit) == 0
}

// next returns the earliest pending event: a task's act, the parent's end,
// Stop, or the outsider letting its permits go.
func (m *propModel) next() (time.Duration, func()) {
	at, act := propNever, func() {}
	found := false
	for id := range m.sc.tasks {
		if m.state[id] == stSleeping && m.actAt[id] < at {
			at, act, found = m.actAt[id], func() { m.act(id) }, true
		}
	}
	if p := m.sc.parent; p.kind != "none" && !m.parentFired && p.at < at {
		at, act, found = p.at, func() { m.parentFired = true; m.cancel(srcParent, -1) }, true
	}
	if !m.stopFired && m.stopAt < at {
		at, act, found = m.stopAt, func() { m.stopFired = true; m.cancel(srcStop, -1) }, true
	}
	if !m.outsideOut && m.sc.outsideUntil < at {
		at, act, found = m.sc.outsideUntil, func() { m.outsideOut = true; m.permits += m.sc.outside }, true
	}
	if !found {
		return 0, nil
	}
	return at, act
}

// act is task id's time coming.
func (m *propModel) act(id int) {
	t := m.sc.tasks[id]
	switch t.kind {
	case kindNil:
		m.finish(id, resNil)
	case kindFail:
		m.finish(id, resFail)
	case kindFailCanceled:
		if m.done && m.ctxErr == context.Canceled {
			m.finish(id, resEcho) // context.Canceled is what the group's context reports
		} else {
			m.finish(id, resFail)
		}
	case kindFailNested:
		if m.done {
			// The nested group starts nothing: its *Error lists no
			// failure and only reports the cancellation.
			m.finish(id, resEcho)
		} else {
			m.finish(id, resFail)
		}
	case kindLateEcho:
		if m.done {
			m.finish(id, resEcho)
		} else {
			m.finish(id, resNil)
		}
	case kindPanicErr, kindPanicStr, kindPanicNil, kindPanicCanceled:
		m.finish(id, resPanic)
	case kindGoexit:
		m.finish(id, resGoexit)
	case kindSpawn:
		m.state[id] = stBlocked
		if !m.launch(t.child) {
			m.finish(id, resNil)
		}
	}
}

// launch is a call of Go (or TryGo, Spawn) for task id; it reports whether
// the call blocks. With WithLimit, Go first reserves a slot, waiting for one
// in arrival order; with WithSemaphore, it then takes a permit, waiting in
// the semaphore's FIFO order; then the task starts (TG8). TryGo never waits:
// no free slot, or a free slot but no permit, and it returns false.
func (m *propModel) launch(id int) bool {
	m.index[id] = m.nextIdx
	m.nextIdx++
	try := m.sc.tasks[id].via == viaTryGo
	switch {
	case m.done: // TG7
		m.cancelled++
		return false
	case m.sc.withLimit > 0 && m.slots == m.sc.withLimit:
		if try {
			return false
		}
		m.waitSlot = append(m.waitSlot, id)
		return true
	}
	return m.reserved(id, try)
}

// reserved goes on with a Go call for task id that has its slot, if the
// group is limited: it takes a permit, if the group has a semaphore, and
// starts the task. It reports whether the call blocks, waiting for a permit.
func (m *propModel) reserved(id int, try bool) bool {
	if m.sc.withLimit > 0 {
		m.slots++
	}
	if m.sc.withSemaphore > 0 {
		if m.permits == 0 || len(m.waitPermit) > 0 { // SEM1: no barging
			if try {
				m.freeSlot()
				return false
			}
			m.waitPermit = append(m.waitPermit, id)
			return true
		}
		m.permits--
	}
	m.tried[id] = true
	m.start(id)
	return false
}

func (m *propModel) freeSlot() {
	if m.sc.withLimit > 0 {
		m.slots--
	}
}

func (m *propModel) start(id int) {
	m.state[id] = stSleeping
	m.startAt[id] = m.now
	m.actAt[id] = m.now + m.sc.tasks[id].delay
	m.running++
}

func (m *propModel) finish(id int, r propResult) {
	m.state[id] = stFinished
	m.result[id] = r
	m.endAt[id] = m.now
	m.running--
	m.freeSlot()
	if m.sc.withSemaphore > 0 {
		m.permits++
	}
	switch r {
	case resFail, resPanic, resGoexit:
		m.failures = append(m.failures, id)
		if !m.sc.collectAll {
			m.cancel(srcFailure, id) // TG2
		}
	case resEcho:
		m.cancelled++ // TG3
	case resNil:
		if m.sc.stopOnSuccess {
			if m.winner < 0 {
				m.winner = id
			}
			m.cancel(srcStop, -1)
		}
	}
}

// unblock ends the Go call that handed over task id: a spawner then returns
// nil, the test goroutine goes on.
func (m *propModel) unblock(id int) {
	if p := m.sc.tasks[id].parent; p >= 0 {
		m.finish(p, resNil)
	} else {
		m.testBlocked = false
	}
}

// cancel is the group's context ending: cancel-aware tasks echo at once, and
// the tasks blocked Go calls hand over, waiting for a slot or a permit, are
// not started (TG7, TG8).
func (m *propModel) cancel(by propSource, failed int) {
	if m.done {
		return
	}
	m.done, m.doneAt, m.doneBy, m.doneTask = true, m.now, by, failed
	m.ctxErr = context.Canceled
	if by == srcParent {
		m.ctxErr = m.sc.parent.err()
	}
	for id, t := range m.sc.tasks {
		if m.state[id] == stSleeping && t.coop {
			m.sawCancel[id] = true
			m.finish(id, resEcho)
		}
	}
	waiting := append(m.waitPermit, m.waitSlot...)
	for range m.waitPermit {
		m.freeSlot()
	}
	m.waitSlot, m.waitPermit = nil, nil
	for _, id := range waiting {
		m.cancelled++
		m.unblock(id)
	}
}

// settle lets everything happen that happens at this instant without time
// passing: freed permits go to the Go calls waiting for one, in FIFO order,
// then freed slots to those waiting for a slot, in arrival order (a task
// gives back its permit, then its slot); and the test goroutine hands over
// its tasks until one blocks.
func (m *propModel) settle() {
	for {
		if len(m.waitPermit) > 0 && m.permits > 0 {
			id := m.waitPermit[0]
			m.waitPermit = m.waitPermit[1:]
			m.permits--
			m.tried[id] = true
			m.start(id)
			m.unblock(id)
			continue
		}
		if len(m.waitSlot) > 0 && m.slots < m.sc.withLimit {
			id := m.waitSlot[0]
			m.waitSlot = m.waitSlot[1:]
			if !m.reserved(id, false) {
				m.unblock(id)
			}
			continue
		}
		if !m.testBlocked && m.nextTop < len(m.top) {
			id := m.top[m.nextTop]
			m.nextTop++
			m.testBlocked = m.launch(id)
			continue
		}
		return
	}
}

func (m *propModel) hasPanic() bool {
	for _, id := range m.failures {
		if m.result[id] == resPanic {
			return true
		}
	}
	return false
}

// The run.

// propObs is what one task saw and did.
type propObs struct {
	started   bool
	finished  atomic.Bool
	startAt   time.Duration
	endAt     time.Duration
	sawCancel bool
	cause     error // context.Cause when it woke on ctx.Done
	ret       error // what it returned
	tried     bool  // TryGo's report
	task      *taskgroup.Task[int]
}

// propRun runs one scenario's tasks and records what they saw.
type propRun struct {
	sc         *propScenario
	start      time.Time
	g          *taskgroup.Group // nil for Map and First
	obs        []propObs
	sentinels  []error
	panicErrs  []error
	running    atomic.Int32
	maxRunning atomic.Int32

	parentCause error // the parent's cause; context.DeadlineExceeded for a plain deadline

	sem *semaphore.Semaphore // WithSemaphore's, nil without
}

func newPropRun(sc *propScenario) *propRun {
	r := &propRun{sc: sc, start: time.Now(), obs: make([]propObs, len(sc.tasks))}
	for id := range sc.tasks {
		r.sentinels = append(r.sentinels, fmt.Errorf("task %d failed", id))
		r.panicErrs = append(r.panicErrs, fmt.Errorf("task %d panicked", id))
	}
	if sc.withSemaphore > 0 {
		r.sem = semaphore.New(int64(sc.withSemaphore))
	}
	return r
}

func (r *propRun) since() time.Duration { return time.Since(r.start) }

func propValue(id int) int { return 100 + id }

func propName(id int) string { return fmt.Sprintf("t%d", id) }

// withParent calls body with the parent context as drawn, and stops its
// timers afterwards.
func (r *propRun) withParent(body func(ctx context.Context)) {
	defer r.holdOutside()()
	p := r.sc.parent
	bg := context.Background()
	switch p.kind {
	case "cancel":
		r.parentCause = errors.New("parent cancelled")
		ctx, cancel := context.WithCancelCause(bg)
		defer cancel(nil)
		if p.at < 0 {
			cancel(r.parentCause)
		} else {
			timer := time.AfterFunc(p.at, func() { cancel(r.parentCause) })
			defer timer.Stop()
		}
		body(ctx)
	case "deadline":
		r.parentCause = context.DeadlineExceeded
		var (
			ctx    context.Context
			cancel context.CancelFunc
		)
		if p.customCause {
			r.parentCause = errors.New("parent's deadline")
			ctx, cancel = context.WithDeadlineCause(bg, r.start.Add(p.at), r.parentCause)
		} else {
			ctx, cancel = context.WithDeadline(bg, r.start.Add(p.at))
		}
		defer cancel()
		body(ctx)
	case "stopped group":
		// Nested groups: the parent is a task's context whose group is
		// stopped, so the parent's cause is ErrStopped too.
		r.parentCause = taskgroup.ErrStopped
		outer := taskgroup.New(bg)
		if p.at < 0 {
			outer.Stop()
		} else {
			timer := time.AfterFunc(p.at, outer.Stop)
			defer timer.Stop()
		}
		defer outer.Wait()
		body(outer.Context())
	default:
		body(bg)
	}
}

// holdOutside takes the outsider's permits of the group's semaphore and lets
// them go at sc.outsideUntil. The function it returns stops that timer, and
// lets them go at once if it has not fired.
func (r *propRun) holdOutside() func() {
	if r.sc.outside == 0 {
		return func() {}
	}
	if !r.sem.TryAcquire(int64(r.sc.outside)) {
		panic("property: the outsider cannot take its permits")
	}
	timer := time.AfterFunc(r.sc.outsideUntil, func() { r.sem.Release(int64(r.sc.outside)) })
	return func() {
		if timer.Stop() {
			r.sem.Release(int64(r.sc.outside))
		}
	}
}

// body is task id's function.
func (r *propRun) body(ctx context.Context, id int) (val int, err error) {
	t, o := r.sc.tasks[id], &r.obs[id]
	o.started, o.startAt = true, r.since()
	n := r.running.Add(1)
	for {
		most := r.maxRunning.Load()
		if n <= most || r.maxRunning.CompareAndSwap(most, n) {
			break
		}
	}
	defer func() {
		o.endAt = r.since()
		o.ret = err
		r.running.Add(-1)
		o.finished.Store(true)
	}()
	val = propValue(id)
	if t.coop {
		timer := time.NewTimer(t.delay)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			o.sawCancel, o.cause = true, context.Cause(ctx)
			return val, t.echo.of(ctx, id)
		case <-timer.C:
		}
	} else {
		time.Sleep(t.delay)
	}
	switch t.kind {
	case kindFail:
		return val, r.sentinels[id]
	case kindFailCanceled:
		inner, cancel := context.WithCancel(context.Background())
		cancel()
		return val, inner.Err()
	case kindFailNested:
		inner := taskgroup.New(ctx)
		inner.Go(func(context.Context) error { return r.sentinels[id] })
		return val, inner.Wait()
	case kindLateEcho:
		if ctx.Err() != nil {
			return val, t.echo.of(ctx, id)
		}
	case kindPanicErr:
		panic(r.panicErrs[id])
	case kindPanicStr:
		panic(fmt.Sprintf("task %d panicked", id))
	case kindPanicNil:
		panic(nil)
	case kindPanicCanceled:
		panic(context.Canceled)
	case kindGoexit:
		runtime.Goexit()
	case kindSpawn:
		r.launch(t.child)
	}
	return val, nil
}

// launch hands task id to the group the way it was drawn.
func (r *propRun) launch(id int) {
	g, t, o := r.g, r.sc.tasks[id], &r.obs[id]
	fn := func(ctx context.Context) error {
		_, err := r.body(ctx, id)
		return err
	}
	typed := func(ctx context.Context) (int, error) { return r.body(ctx, id) }
	switch t.via {
	case viaGo:
		g.Go(fn)
	case viaGoNamed:
		g.GoNamed(propName(id), fn)
	case viaTryGo:
		o.tried = g.TryGo(fn)
	case viaSpawn:
		o.task = taskgroup.Spawn(g, typed)
	case viaSpawnNamed:
		o.task = taskgroup.SpawnNamed(g, propName(id), typed)
	}
}

// propRecover calls wait and returns what it returned or the value it
// panicked with.
func propRecover(wait func() error) (panicked any, err error) {
	defer func() { panicked = recover() }()
	return nil, wait()
}

// check compares what the run saw and what Wait reported with the model.
func (r *propRun) check(rt *rapid.T, m *propModel, err error, panicked any, elapsed time.Duration) {
	r.checkRun(rt, m, err, panicked, elapsed)
	r.checkWait(rt, m, err, panicked)
}

// checkRun compares what the tasks saw with the model.
func (r *propRun) checkRun(rt *rapid.T, m *propModel, err error, panicked any, elapsed time.Duration) {
	sc := r.sc
	for id, t := range sc.tasks {
		rt.Logf("task %d: %v", id, t)
	}
	rt.Logf("group: limit %d (WithLimit %d, WithSemaphore %d, %d held outside until %v), collectAll %v, panicsAsErrors %v, parent %+v, Stop at %v",
		sc.limit, sc.withLimit, sc.withSemaphore, sc.outside, sc.outsideUntil, sc.collectAll, sc.panicsAsErrors, sc.parent, m.stopAt)
	rt.Logf("model: failures %v, cancelled %d, done by %v at %v, ends at %v", m.failures, m.cancelled, m.doneBy, m.doneAt, m.end)

	// TG1: Wait returned once every task had returned, and not later.
	require.Equal(rt, m.end, elapsed, "Wait returns when the last task returns")
	for id := range sc.tasks {
		o := &r.obs[id]
		started := m.state[id] == stFinished
		require.Equal(rt, started, o.started, "task %d started (TG7, TG8)", id)
		require.Equal(rt, sc.tasks[id].via == viaTryGo && m.tried[id], o.tried, "TryGo's report for task %d", id)
		if !started {
			continue
		}
		require.True(rt, o.finished.Load(), "TG1: task %d had not finished when Wait returned", id)
		require.Equal(rt, m.startAt[id], o.startAt, "task %d starts (TG8: as soon as a slot is free)", id)
		require.Equal(rt, m.endAt[id], o.endAt, "task %d returns", id)
		require.Equal(rt, m.sawCancel[id], o.sawCancel, "task %d saw the cancellation", id)
		if o.sawCancel {
			require.Equal(rt, m.doneAt, o.endAt, "task %d sees the cancellation at once (TG2)", id)
			r.checkCause(rt, m, err, panicked, o.cause, fmt.Sprintf("TG2: the cause task %d saw", id))
		}
		switch m.result[id] {
		case resNil:
			require.NoError(rt, o.ret, "task %d", id)
		case resEcho:
			require.Error(rt, o.ret, "task %d", id)
		}
	}
	if sc.limit > 0 {
		require.LessOrEqual(rt, int(r.maxRunning.Load()), sc.limit, "TG8: tasks running at once")
	}
	if r.sem != nil {
		st := r.sem.Stats()
		require.Zero(rt, st.InUse, "every permit is back once Wait returns and the outsider let go")
		require.Zero(rt, st.Waiters, "nobody waits for a permit once Wait returns")
	}
}

// checkWait compares what Wait reported with the model (TG4, TG5).
func (r *propRun) checkWait(rt *rapid.T, m *propModel, err error, panicked any) {
	sc := r.sc
	wantCause := m.doneBy == srcParent && (len(m.failures) > 0 || m.cancelled > 0)
	wantPanic := m.hasPanic() && !sc.panicsAsErrors
	if wantPanic {
		require.NotNil(rt, panicked, "TG5: Wait re-panics after a task panicked")
		e, ok := panicked.(*taskgroup.Error)
		require.True(rt, ok, "TG5: Wait re-panics with *taskgroup.Error, not %T: %v", panicked, panicked)
		err = e
	} else {
		require.Nil(rt, panicked, "Wait panicked without a panicking task (or with PanicsAsErrors)")
	}
	if len(m.failures) == 0 && !wantCause {
		require.NoError(rt, err, "TG4: no failure, and the parent did not cancel the group first")
		return
	}
	require.Error(rt, err, "TG4: want an *Error with failures %v, %d cancelled, the parent's cause: %v", m.failures, m.cancelled, wantCause)
	e, ok := err.(*taskgroup.Error)
	require.True(rt, ok, "TG4: Wait returns *taskgroup.Error, not %T", err)
	msg := e.Error()
	if sc.name != "" {
		require.True(rt, strings.HasPrefix(msg, fmt.Sprintf("taskgroup %q: ", sc.name)), "the message names the group: %s", msg)
	}
	require.Len(rt, e.Failures, len(m.failures), "TG4: every real failure, and only those: %v", err)
	for i, id := range m.failures {
		te := e.Failures[i]
		require.Equal(rt, m.index[id], te.Index, "failure %d is task %d's", i, id)
		name := ""
		if sc.tasks[id].via.named() {
			name = propName(id)
		}
		require.Equal(rt, name, te.Name, "failure %d names task %d", i, id)
		require.Contains(rt, msg, te.Error())
		switch k := sc.tasks[id].kind; {
		case k == kindFail:
			require.Same(rt, r.sentinels[id], te.Err)
			require.ErrorIs(rt, err, r.sentinels[id])
		case k == kindFailCanceled:
			require.Equal(rt, context.Canceled, te.Err)
		case k == kindFailNested:
			var nested *taskgroup.Error
			require.ErrorAs(rt, te.Err, &nested)
			require.Len(rt, nested.Failures, 1)
			require.Same(rt, r.sentinels[id], nested.Failures[0].Err)
			require.ErrorIs(rt, err, r.sentinels[id])
		case k == kindGoexit:
			require.Equal(rt, taskgroup.ErrGoexit, te.Err, "TG6")
			require.ErrorIs(rt, err, taskgroup.ErrGoexit)
		case k.panics():
			var pe *taskgroup.PanicError
			require.ErrorAs(rt, te.Err, &pe, "TG5: a panic is a *PanicError")
			switch k {
			case kindPanicErr:
				require.Equal(rt, r.panicErrs[id], pe.Value)
				require.ErrorIs(rt, err, r.panicErrs[id])
			case kindPanicStr:
				require.Equal(rt, fmt.Sprintf("task %d panicked", id), pe.Value)
			case kindPanicNil:
				require.IsType(rt, &runtime.PanicNilError{}, pe.Value)
			case kindPanicCanceled:
				require.Equal(rt, context.Canceled, pe.Value)
			}
			require.Contains(rt, string(pe.Stack), "(*propRun).body", "TG5: the stack is the panicking goroutine's")
			require.Contains(rt, msg, fmt.Sprint(pe.Value), "TG5: the message carries every panic")
		default:
			rt.Fatalf("model: task %d of kind %v cannot fail", id, k)
		}
	}
	require.Equal(rt, m.cancelled, e.Cancelled, "TG3, TG7: echoes and tasks not started")
	if wantCause {
		require.Error(rt, e.Cause, "TG4: the parent cancelled the group first")
		require.ErrorIs(rt, e.Cause, sc.parent.err(), "ALL3")
		require.ErrorIs(rt, e.Cause, r.parentCause, "ALL3")
		require.ErrorIs(rt, err, r.parentCause)
	} else {
		require.NoError(rt, e.Cause, "TG4: Cause only when the parent cancelled the group first")
	}
}

// checkCause checks a cancellation cause seen by a task or a Task's error
// against the model's first cancellation.
func (r *propRun) checkCause(rt *rapid.T, m *propModel, err error, panicked any, got error, what string) {
	require.Error(rt, got, what)
	switch m.doneBy {
	case srcParent:
		require.ErrorIs(rt, got, r.parentCause, what)
	case srcStop:
		require.ErrorIs(rt, got, taskgroup.ErrStopped, what)
	case srcFailure:
		// TG2: the first failure's *TaskError is the cause.
		var te *taskgroup.TaskError
		require.ErrorAs(rt, got, &te, what)
		require.Equal(rt, m.index[m.doneTask], te.Index, what)
		if e, ok := panicked.(*taskgroup.Error); ok {
			err = e
		}
		var e *taskgroup.Error
		if errors.As(err, &e) && len(e.Failures) > 0 {
			require.Same(rt, e.Failures[0], te, "TG2: the cause is the first failure itself")
		}
	default:
		rt.Fatalf("model: %s, but the group was not cancelled", what)
	}
}

// checkTasks checks every Task[int]'s Result (TG11, TG7).
func (r *propRun) checkTasks(rt *rapid.T, m *propModel, err error, panicked any) {
	for id := range r.sc.tasks {
		o := &r.obs[id]
		if o.task == nil {
			continue
		}
		select {
		case <-o.task.Done():
		default:
			rt.Fatalf("task %d's Done is open after Wait", id)
		}
		val, terr := o.task.Result()
		switch m.result[id] {
		case resNone: // TG7: never started
			require.Zero(rt, val, "task %d", id)
			require.ErrorIs(rt, terr, m.ctxErr, "TG7: task %d's error matches the context's error", id)
			r.checkCause(rt, m, err, panicked, terr, fmt.Sprintf("TG7: task %d's error matches the cause", id))
		case resNil, resFail, resEcho:
			require.Equal(rt, propValue(id), val, "TG11: task %d's own value", id)
			require.Equal(rt, o.ret, terr, "TG11: task %d's own error", id)
		case resPanic:
			require.Zero(rt, val)
			var pe *taskgroup.PanicError
			require.ErrorAs(rt, terr, &pe, "TG11: a panicked task's Result is its *PanicError")
		case resGoexit:
			require.Zero(rt, val)
			require.Equal(rt, taskgroup.ErrGoexit, terr, "TG11")
		}
	}
}

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

// TestGroup_Property_TG1toTG11_MatchesModel draws a group (fail-fast or
// CollectAll, PanicsAsErrors, WithName, a limit by WithLimit, WithSemaphore
// or both, with any number of permits against any number of slots and some
// permits held by an outsider for a while; a parent that is cancelled,
// expires or is the context of a group that is stopped; Stop before the
// tasks or later) and up to 12 tasks that
// return nil, fail, fail with a context.Canceled of their own or with a
// nested group's *Error, echo the cancellation at once or late (ctx.Err(),
// the cause, either wrapped), panic (an error, a string, nil,
// context.Canceled), call runtime.Goexit or start a child in the same group,
// each handed over by Go, GoNamed, TryGo, Spawn or SpawnNamed.
//
// It checks the run against a model that simulates the group in fake time:
// when Wait returns and that every task had returned by then (TG1); which
// tasks start, and when (TG7, TG8: as soon as a slot, then a permit, is
// free, in the order the Go calls blocked); TryGo's report (no free slot, or
// a slot but no permit: false); when each task sees the
// cancellation, and its cause (TG2); the failures in return order with
// index, name and error (TG3-TG6); the cancelled count and the parent's
// cause (TG4); the re-panic and every panic in it (TG5); no cancellation by
// failures under CollectAll (TG9); the limit (TG8) and every permit back
// in the semaphore; each Task's Result (TG11); and a second Wait (TG10).
func TestGroup_Property_TG1toTG11_MatchesModel(t *testing.T) {
	rapid.Check(t, groupProperty)
}

// FuzzGroupProperty runs the same property as a coverage-guided fuzz target
// (go test -fuzz FuzzGroupProperty ./taskgroup): the fuzzer's bytes stand
// for rapid's random choices.
func FuzzGroupProperty(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(groupProperty))
}

// groupProperty is the property of TestGroup_Property_TG1toTG11_MatchesModel.
func groupProperty(rt *rapid.T) {
	sc := drawGroupScenario(rt)
	m := simulate(sc)
	rapid.SyncTest(rt, func(rt *rapid.T) {
		r := newPropRun(sc)
		var (
			err      error
			panicked any
			elapsed  time.Duration
			g        *taskgroup.Group
		)
		r.withParent(func(ctx context.Context) {
			g = taskgroup.New(ctx, sc.options(r.sem)...)
			r.g = g
			if m.stopAt < 0 {
				g.Stop()
			} else if m.stopAt != propNever {
				timer := time.AfterFunc(m.stopAt, g.Stop)
				defer timer.Stop()
			}
			panicked, err = propRecover(func() error {
				for _, id := range m.top {
					r.launch(id)
				}
				return g.Wait()
			})
			elapsed = r.since()
		})
		r.check(rt, m, err, panicked, elapsed)
		r.checkTasks(rt, m, err, panicked)
		require.Error(rt, g.Context().Err(), "the group's context is cancelled once Wait returns")

		// TG10: Wait again reports the same outcome.
		panicked2, err2 := propRecover(g.Wait)
		require.True(rt, panicked == panicked2, "TG10: a second Wait panics with the same value")
		require.True(rt, err == err2, "TG10: a second Wait returns the same error")
	})
}

// TestMap_Property_TG12_MatchesModel draws items that succeed, fail, echo,
// panic or call runtime.Goexit, with or without CollectAll, PanicsAsErrors, a
// limit and a parent that ends, and checks Map against the same model:
// len(out) == len(in), out[i] == f(in[i]) for every item that succeeded and
// the zero value for the others, and the error as from Wait.
func TestMap_Property_TG12_MatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := &propScenario{
			collectAll:     rapid.Bool().Draw(rt, "collectAll"),
			panicsAsErrors: rapid.Bool().Draw(rt, "panicsAsErrors"),
			parent:         drawPropParent(rt),
			stopAt:         propNever,
		}
		drawPropLimit(rt, sc)
		kinds := []propKind{kindNil, kindFail, kindFailCanceled, kindFailNested, kindLateEcho, kindPanicErr, kindPanicStr, kindGoexit}
		sc.tasks = drawPropTasks(rt, propMax, kinds, []propVia{viaGo})
		m := simulate(sc)
		rapid.SyncTest(rt, func(rt *rapid.T) {
			r := newPropRun(sc)
			in := make([]int, len(sc.tasks))
			for i := range in {
				in[i] = 10*i + 3
			}
			f := func(x int) string { return fmt.Sprintf("f(%d)", x) }
			var (
				out      []string
				err      error
				panicked any
				elapsed  time.Duration
			)
			r.withParent(func(ctx context.Context) {
				panicked, err = propRecover(func() error {
					var err error
					out, err = taskgroup.Map(ctx, in, func(ctx context.Context, x int) (string, error) {
						id := (x - 3) / 10
						if _, err := r.body(ctx, id); err != nil {
							return "not " + f(x), err // Map must not keep it
						}
						return f(x), nil
					}, sc.options(r.sem)...)
					return err
				})
				elapsed = r.since()
			})
			r.check(rt, m, err, panicked, elapsed)
			if panicked != nil {
				return // Map re-panicked: there is no out
			}
			require.Len(rt, out, len(in), "TG12: len(out) == len(in)")
			for i := range in {
				if m.result[i] == resNil {
					require.Equal(rt, f(in[i]), out[i], "TG12: out[%d] is f(in[%d])", i, i)
				} else {
					require.Zero(rt, out[i], "TG12: item %d did not succeed", i)
				}
			}
		})
	})
}

// TestFirst_Property_TG13_MatchesModel draws up to 6 functions that succeed,
// fail, echo, panic or call runtime.Goexit, at distinct times, and a parent
// that ends, and checks First against the same model: the earliest success
// wins and stops the others, First returns only after every function has
// returned, and with no success its error is the group's.
func TestFirst_Property_TG13_MatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := &propScenario{
			collectAll:    true,
			stopOnSuccess: true,
			parent:        drawPropParent(rt),
			stopAt:        propNever,
		}
		kinds := []propKind{kindNil, kindFail, kindFailCanceled, kindLateEcho, kindPanicErr, kindPanicStr, kindPanicCanceled, kindGoexit}
		sc.tasks = drawPropTasks(rt, 6, kinds, []propVia{viaGo})
		m := simulate(sc)
		rapid.SyncTest(rt, func(rt *rapid.T) {
			r := newPropRun(sc)
			fns := make([]func(context.Context) (int, error), len(sc.tasks))
			for id := range fns {
				fns[id] = func(ctx context.Context) (int, error) { return r.body(ctx, id) }
			}
			var (
				val      int
				err      error
				panicked any
				elapsed  time.Duration
			)
			r.withParent(func(ctx context.Context) {
				panicked, err = propRecover(func() error {
					var err error
					val, err = taskgroup.First(ctx, fns...)
					return err
				})
				elapsed = r.since()
			})
			if len(fns) == 0 {
				require.ErrorIs(rt, err, taskgroup.ErrNoFunctions, "TG13: no functions")
				return
			}
			if m.winner >= 0 && !m.hasPanic() {
				require.Nil(rt, panicked)
				require.NoError(rt, err, "TG13: a function succeeded")
				require.Equal(rt, propValue(m.winner), val, "TG13: the first success wins")
				r.checkRun(rt, m, err, panicked, elapsed) // the group's error is not reported
				return
			}
			require.Zero(rt, val)
			r.check(rt, m, err, panicked, elapsed)
		})
	})
}
