package taskgroup

import (
	"context"
	"sync/atomic"
)

// A Task is one task of a Group that returns a typed value. Its Result is the
// task's own value and error, not the group's (TG11); the group still treats
// the error as it treats any task's error (TG2-TG4).
type Task[T any] struct {
	fn  func(ctx context.Context) (T, error)
	val T
	err error

	// done is nil until the task ends or someone asks for Done before
	// that; it is &closed once the task has ended and val and err are
	// final. A channel is made only for a Done asked for before the end: a
	// Task whose Result is read after Wait costs no channel and no lock.
	done atomic.Pointer[chan struct{}]
}

// closed is the Done channel of a Task that had ended when it was asked for.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Spawn runs fn as a task of g, like Go, and returns a Task that holds its
// result. With a limit, Spawn blocks as Go does (TG8); on a group whose
// context is done, fn does not run and the Task's error matches the
// context's error and its cause (TG7).
func Spawn[T any](g *Group, fn func(ctx context.Context) (T, error)) *Task[T] {
	return spawn(g, "", fn, viaSpawn)
}

// SpawnNamed is Spawn for a named task.
func SpawnNamed[T any](g *Group, name string, fn func(ctx context.Context) (T, error)) *Task[T] {
	return spawn(g, name, fn, viaSpawnNamed)
}

func spawn[T any](g *Group, name string, fn func(ctx context.Context) (T, error), via entry) *Task[T] {
	if fn == nil {
		panic("taskgroup: " + via.String() + " called with a nil function")
	}
	t := &Task[T]{fn: fn}
	g.add(job{c: t, t: t, name: name}, via)
	return t
}

func (t *Task[T]) call(ctx context.Context, _ int) error {
	var err error
	t.val, err = t.fn(ctx)
	return err
}

func (t *Task[T]) finish(err error) {
	t.fn = nil // let the closure go once the task is over
	t.err = err
	if c := t.done.Swap(&closed); c != nil {
		close(*c) // a Done made before the end
	}
}

// Result blocks until the task has returned (or was never started), then
// returns its value and error. A task that panicked returns its *PanicError;
// one that called runtime.Goexit returns ErrGoexit (TG11).
func (t *Task[T]) Result() (T, error) {
	if t.done.Load() != &closed {
		<-t.Done()
	}
	return t.val, t.err
}

// Done is closed when the task has returned, panicked, called runtime.Goexit
// or was not started; Result then returns at once.
func (t *Task[T]) Done() <-chan struct{} {
	if c := t.done.Load(); c != nil {
		return *c
	}
	c := make(chan struct{})
	if t.done.CompareAndSwap(nil, &c) {
		return c
	}
	return *t.done.Load() // made by another Done, or ended meanwhile
}
