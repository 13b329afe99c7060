package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/leash-go/leash/taskgroup"
)

// The checker: what a run saw and what Wait, Map or First reported, against
// the model.

// check compares what the run saw and what Wait reported with the model.
func (r *propRun) check(rt *rapid.T, m *propModel, err error, panicked any, elapsed time.Duration) {
	r.checkRun(rt, m, err, panicked, elapsed)
	r.checkWait(rt, m, err, panicked)
}

// checkRun compares what the tasks saw with the model.
func (r *propRun) checkRun(rt *rapid.T, m *propModel, err error, panicked any, elapsed time.Duration) {
	sc := r.sc
	for _, line := range describe(sc, m) {
		rt.Logf("%s", line)
	}

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

// describe returns what checkRun logs before it checks: a line per task,
// one for the group and one for what the model expects. A rapid fail file's
// header holds these lines as they were when it was written.
func describe(sc *propScenario, m *propModel) []string {
	var lines []string
	for id, t := range sc.tasks {
		lines = append(lines, fmt.Sprintf("task %d: %v", id, t))
	}
	outside := ""
	if sc.outside > 0 {
		outside = fmt.Sprintf(", %d held outside until %v", sc.outside, sc.outsideUntil)
	}
	lines = append(lines,
		fmt.Sprintf("group: limit %d (WithLimit %d, WithSemaphore %d%s), collectAll %v, panicsAsErrors %v, parent %+v, Stop at %v",
			sc.limit, sc.withLimit, sc.withSemaphore, outside, sc.collectAll, sc.panicsAsErrors, sc.parent, m.stopAt),
		fmt.Sprintf("model: failures %v, cancelled %d, done by %v at %v, ends at %v", m.failures, m.cancelled, m.doneBy, m.doneAt, m.end))
	return lines
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
