package service

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/leash-go/leash/taskgroup"
)

// A SignalError is the cause of a shutdown that a signal started (SV2): the
// program's context is cancelled with it, so every task sees which signal it
// was in context.Cause.
type SignalError struct {
	Signal os.Signal
}

func (e *SignalError) Error() string { return "service: received signal " + e.Signal.String() }

// A DrainError is what Run returns when the drain gave up (SV3): at its bound,
// or at once on a second signal. It names the tasks still running; they run
// on, and Done says when the last of them has returned.
//
// errors.Is and errors.As reach the trigger: a *SignalError, the parent's
// cause, or the *taskgroup.TaskError of the first failure.
type DrainError struct {
	Trigger    error                 // what started the shutdown
	Drain      time.Duration         // how long Run waited: the bound, or less when a second signal cut it short
	Signal     os.Signal             // the second signal that cut the drain short; nil when it reached its bound
	Stragglers []taskgroup.Straggler // the tasks still running, with their stacks, by index
	Tree       string                // the live tree of named groups when Run gave up (taskgroup.WriteTree)

	name string
	done <-chan struct{}
}

// Error names the trigger and every task still running, on one line.
func (e *DrainError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %q: shutdown on %s: ", e.name, triggerText(e.Trigger))
	if e.Signal != nil {
		fmt.Fprintf(&b, "drain cut short by a second signal (%v) after %v", e.Signal, e.Drain.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "drain gave up after %v", e.Drain)
	}
	fmt.Fprintf(&b, " with %d %s still running", len(e.Stragglers), plural(len(e.Stragglers), "task", "tasks"))
	for i, s := range e.Stragglers {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(taskText(s.TaskInfo))
	}
	return b.String()
}

// Unwrap returns the trigger.
func (e *DrainError) Unwrap() error { return e.Trigger }

// Done returns a channel that is closed once every task the drain gave up on
// has returned, and the program's group with them. Until then Abandoned
// counts them.
func (e *DrainError) Done() <-chan struct{} { return e.done }

// Report is the drain report to print before the process exits: the error's
// line, then every task still running with how long since the cancellation,
// what its goroutine is doing and its stack, then the tree of named groups still alive (which
// shows where the tasks of nested groups are stuck).
func (e *DrainError) Report() string {
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteByte('\n')
	for _, s := range e.Stragglers {
		fmt.Fprintf(&b, "\n%s of group %q: running %v, %v since the cancellation",
			taskText(s.TaskInfo), s.Group, s.Running.Round(time.Millisecond), s.SinceCancel.Round(time.Millisecond))
		if s.State != "" {
			fmt.Fprintf(&b, "; its goroutine: %s", s.State)
		}
		b.WriteByte('\n')
		if len(s.Stack) > 0 {
			for line := range strings.Lines(string(s.Stack)) {
				b.WriteString("    ")
				b.WriteString(line)
			}
			b.WriteByte('\n')
		}
	}
	if e.Tree != "" {
		b.WriteString("\nnamed groups still alive:\n")
		b.WriteString(e.Tree)
	}
	return b.String()
}

func taskText(info taskgroup.TaskInfo) string {
	if info.Name != "" {
		return fmt.Sprintf("task %q (#%d)", info.Name, info.Index)
	}
	return fmt.Sprintf("task #%d", info.Index)
}

// triggerText says what started a shutdown, in a log line or an error:
// "signal terminated", `task "worker" (#2): boom`, "context canceled".
func triggerText(err error) string {
	var se *SignalError
	if errors.As(err, &se) {
		return "signal " + se.Signal.String()
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 { // a panic's cause carries its stack
		s = s[:i]
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ExitCode maps what Run returned to a process exit status, by the usual
// conventions:
//
//   - 0: nil. Every task returned without failing: the program ended by
//     itself, or a signal stopped it and it drained in time. A handled
//     SIGTERM is a clean stop, as systemd and Kubernetes expect (systemd
//     counts a 143 as a failure unless told otherwise).
//   - 2: a task panicked (the status Go's runtime exits with on a panic).
//   - 128+n: the drain after signal n gave up on some tasks, at its bound or
//     on a second signal: the process ends as if the signal had killed it
//     (130 for SIGINT, 143 for SIGTERM), as a shell reports it.
//   - 1: anything else: a task failed, or the parent's context was cancelled
//     and tasks reported it, or a drain that no signal started gave up.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var p *taskgroup.PanicError
	if errors.As(err, &p) {
		return 2
	}
	var de *DrainError
	var se *SignalError
	if errors.As(err, &de) && errors.As(de.Trigger, &se) {
		if n, ok := se.Signal.(syscall.Signal); ok {
			return 128 + int(n)
		}
	}
	return 1
}
