package taskgroup_test

import (
	"context"
	"time"
)

// The model: what must happen to a scenario, worked out by simulating the
// group in fake time.

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
		at, act, found = m.sc.outsideUntil, m.releaseOutside, true
	}
	if !found {
		return 0, nil
	}
	return at, act
}

// releaseOutside is the outsider letting its permits go, one at a time, each
// settled before the next (see holdOutside).
func (m *propModel) releaseOutside() {
	m.outsideOut = true
	for range m.sc.outside {
		m.permits++
		m.settle()
	}
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
