// Package panics carries a panic from the goroutine where it happened to the
// goroutine that handles it, without losing where it happened.
//
// A panic in a goroutine that leash started (a taskgroup task, the goroutine
// of timeout.Call or timeout.Grace) is recovered there and raised again, or
// returned, in the caller's goroutine as an *Error: the value passed to panic
// and the stack of the goroutine that panicked. taskgroup.PanicError is the
// same type, so one errors.As, or one type switch on what recover returns,
// handles both:
//
//	defer func() {
//		if p, ok := recover().(*panics.Error); ok {
//			log.Printf("panic: %v\n%s", p.Value, p.Stack)
//		}
//	}()
package panics

import (
	"bytes"
	"fmt"
	"runtime/debug"
)

// Error is a recovered panic: its value and the stack of the goroutine that
// panicked.
type Error struct {
	Value any    // what was passed to panic
	Stack []byte // the stack of the panicking goroutine, captured at the panic
}

// Capture records v, a value recover just returned, with the stack of the
// current goroutine. Call it from the deferred function that recovered v: the
// stack is then still the one that panicked, with the panicking frames on top.
func Capture(v any) *Error {
	return &Error{Value: v, Stack: debug.Stack()}
}

// Error returns the panic's value and the stack of the goroutine that
// panicked, so that a message that reaches a log or a crash report still says
// where it happened. The stack is printed without the frames of the recovery
// itself and of leash's own goroutine plumbing (see Trim); Stack keeps them.
func (e *Error) Error() string {
	return fmt.Sprintf("panic: %v\n\ngoroutine stack at the panic:\n%s", e.Value, Trim(e.Stack))
}

// Unwrap returns the panic's value when it is an error, so errors.Is and
// errors.As reach it; otherwise nil.
func (e *Error) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Reraise panics again with what e carries, in the calling goroutine: with e
// itself, so that recover yields the value and the stack of the first panic;
// but with the original value when it is net/http's ErrAbortHandler, which
// net/http compares by identity to tell an aborted handler from a crash.
func (e *Error) Reraise() {
	if isAbortHandler(e.Value) {
		panic(e.Value)
	}
	panic(e)
}

// isAbortHandler reports whether v is net/http.ErrAbortHandler, without
// linking net/http into every program that uses leash: an error made by
// errors.New with its text. (Another errors.New of the same text would be
// taken for it, and re-raised bare: a harmless mistake.)
func isAbortHandler(v any) bool {
	err, ok := v.(error)
	return ok && fmt.Sprintf("%T", err) == "*errors.errorString" && err.Error() == "net/http: abort Handler"
}

// plumbing names the packages whose frames Trim drops from the bottom of a
// stack: leash's library packages, not its examples or tests.
var plumbing = [][]byte{
	[]byte("github.com/leash-go/leash/taskgroup."),
	[]byte("github.com/leash-go/leash/timeout."),
	[]byte("github.com/leash-go/leash/shield."),
	[]byte("github.com/leash-go/leash/service."),
	[]byte("github.com/leash-go/leash/panics."),
	[]byte("github.com/leash-go/leash/internal/"),
	[]byte("runtime/debug.Stack("),
}

// Trim returns a goroutine stack, as debug.Stack prints it, without the
// frames that tell nothing about the panic: the frames above the topmost
// panic call (debug.Stack, Capture and the deferred function that
// recovered), and the frames of leash's own packages below the caller's code
// (the task runner and the "created by" line that names it). A stack with no
// panic frame loses only leash's frames at the top.
func Trim(stack []byte) []byte {
	lines := bytes.SplitAfter(stack, []byte("\n"))
	if len(lines) < 3 || !bytes.HasPrefix(lines[0], []byte("goroutine ")) {
		return stack
	}
	// A frame is two lines: the function, then a tab and file:line.
	type frame struct{ fn, at []byte }
	var frames []frame
	for i := 1; i+1 < len(lines); i += 2 {
		frames = append(frames, frame{lines[i], lines[i+1]})
	}
	leashFrame := func(f frame) bool {
		fn := bytes.TrimPrefix(f.fn, []byte("created by "))
		if bytes.Contains(f.at, []byte("_test.go:")) {
			return false
		}
		for _, p := range plumbing {
			if bytes.HasPrefix(fn, p) {
				return true
			}
		}
		return false
	}
	top := 0
	for i, f := range frames {
		if bytes.HasPrefix(f.fn, []byte("panic(")) {
			top = i + 1
			break
		}
	}
	if top == 0 {
		for top < len(frames) && leashFrame(frames[top]) {
			top++
		}
	}
	end := len(frames)
	for end > top && leashFrame(frames[end-1]) {
		end--
	}
	out := append([]byte(nil), lines[0]...)
	for _, f := range frames[top:end] {
		out = append(out, f.fn...)
		out = append(out, f.at...)
	}
	return bytes.TrimRight(out, "\n")
}
