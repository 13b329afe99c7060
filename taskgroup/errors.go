package taskgroup

import (
	"errors"
	"strconv"
	"strings"

	"github.com/leash-go/leash/panics"
)

// ErrStopped is the cause of a group's cancellation after [Group.Stop]: tasks
// see it as context.Cause of their context, and an error they return that
// matches it is a cancellation echo (TG3), not a failure.
var ErrStopped = errors.New("taskgroup: group stopped")

// ErrGoexit is the error of a task that ended with runtime.Goexit instead of
// returning, as t.FailNow does in a test. It is a real failure (TG6): a task
// that never returned never reads as a success.
var ErrGoexit = errors.New("taskgroup: task called runtime.Goexit instead of returning")

// Error is what [Group.Wait] returns when the group did not simply succeed:
// every real failure with the task that caused it, how many tasks only
// reported the group's cancellation, and the parent's cause when the parent
// cancelled the group (TG4).
//
// errors.Is and errors.As reach every task's error and the cause.
type Error struct {
	Failures  []*TaskError // real failures, in the order the tasks returned
	Cancelled int          // tasks that only reported the group's cancellation, or were never started
	Handled   int          // failures handed to WithFailureHandler's function, not listed in Failures
	Cause     error        // the parent's cause, when the parent cancelled the group; nil otherwise

	group string // the group's name, from WithName, for the message
}

// Error lists every failure on one line, then the cancellation: the first
// line of each failure's message, so that a panic's stack does not break the
// list. What the failures' messages say on further lines (a panic's stack)
// follows the list, each under its task's name.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("taskgroup")
	if e.group != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.group))
	}
	b.WriteString(": ")
	switch len(e.Failures) {
	case 0:
		if e.Handled == 0 {
			b.WriteString("cancelled")
		}
	case 1:
	default:
		b.WriteString(strconv.Itoa(len(e.Failures)))
		b.WriteString(" tasks failed:")
	}
	// Each failure's own message is formatted once, straight into b: a list
	// of 100k failures costs little more than errors.Join of their errors.
	b.Grow(len(e.Failures) * 32)
	var rest []restMsg // failures whose message takes more than a line
	for i, f := range e.Failures {
		if i > 0 {
			b.WriteString(";")
		}
		if len(e.Failures) > 1 {
			b.WriteString(" ")
		}
		f.writePrefix(&b)
		msg := f.message()
		first, _, more := strings.Cut(msg, "\n")
		b.WriteString(first)
		if more {
			rest = append(rest, restMsg{f, msg})
		}
	}
	if e.Handled > 0 {
		if len(e.Failures) > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strconv.Itoa(e.Handled))
		b.WriteString(plural(e.Handled, " failure", " failures"))
		b.WriteString(" handed to the failure handler")
	}
	if e.Cancelled > 0 {
		b.WriteString(" (")
		b.WriteString(strconv.Itoa(e.Cancelled))
		b.WriteString(plural(e.Cancelled, " task", " tasks"))
		b.WriteString(" cancelled)")
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	for _, r := range rest {
		b.WriteString("\n\n")
		r.f.writePrefix(&b)
		b.WriteString(r.msg)
	}
	return b.String()
}

// restMsg is a failure whose whole message follows the list.
type restMsg struct {
	f   *TaskError
	msg string
}

// Unwrap returns every failure, in the order the tasks returned, then Cause.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, len(e.Failures)+1)
	for _, f := range e.Failures {
		errs = append(errs, f)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// TaskError is one task's real failure: its error, a *PanicError, or
// ErrGoexit, with the task that caused it.
type TaskError struct {
	Index int    // 0-based, in the order Go/Spawn was called
	Name  string // "" for unnamed tasks
	Err   error
}

// Error reads `task "fetch-user" (#2): ...` for a named task and
// `task #2: ...` for an unnamed one.
func (e *TaskError) Error() string {
	var b strings.Builder
	e.writePrefix(&b)
	b.WriteString(e.message())
	return b.String()
}

// writePrefix writes `task "name" (#i): ` or `task #i: `.
func (e *TaskError) writePrefix(b *strings.Builder) {
	var num [20]byte
	b.WriteString("task ")
	if e.Name != "" {
		b.WriteString(strconv.Quote(e.Name))
		b.WriteString(" (#")
		b.Write(strconv.AppendInt(num[:0], int64(e.Index), 10))
		b.WriteString("): ")
		return
	}
	b.WriteString("#")
	b.Write(strconv.AppendInt(num[:0], int64(e.Index), 10))
	b.WriteString(": ")
}

func (e *TaskError) message() string {
	if e.Err == nil {
		return "<nil>"
	}
	return e.Err.Error()
}

// Unwrap returns the task's error.
func (e *TaskError) Unwrap() error { return e.Err }

// PanicError is a panic recovered in a task's goroutine (TG5): the value that
// was passed to panic and the stack of that goroutine at the panic, so the
// report says where it happened even though Wait re-raises it elsewhere. It is
// panics.Error, the type timeout.Call and timeout.Grace raise again too, so
// one errors.As reaches a panic from either.
type PanicError = panics.Error
