package taskgroup

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/leash-go/leash/internal/cause"
)

// ErrNotReady is the error of a task started with Start that returned nil
// without calling ready while its group went on: a service that ended before
// it was ready to serve is a failure (SV4).
var ErrNotReady = errors.New("taskgroup: task returned before it called ready")

// Start runs fn as a task of g named name, like GoNamed, and waits until fn
// is ready to serve: it returns the value fn passes to ready, as soon as fn
// calls it, and the task goes on running as a task of g (SV4, after Trio's
// nursery.start). Start returns an error instead when fn ends first (what it
// returned; its *PanicError; ErrGoexit), or when g's context is done first
// (the group's cancellation, matching both ctx.Err() and its cause).
//
// Services started one after another with Start so start in order: a
// listener is bound before the handler that needs its address starts.
//
//	addr, err := taskgroup.Start(g, "http", func(ctx context.Context, ready func(net.Addr)) error {
//		ln, err := net.Listen("tcp", "127.0.0.1:0")
//		if err != nil {
//			return err
//		}
//		ready(ln.Addr())
//		return serve(ctx, ln)
//	})
//
// Calling ready more than once is harmless: the first value counts. A fn
// that returns nil without having called ready fails with ErrNotReady,
// unless the group's context is done by then (its return is then a
// cancellation echo, TG3). Start panics if fn is nil; on a group whose context
// is done, fn does not run (TG7).
func Start[T any](g *Group, name string, fn func(ctx context.Context, ready func(T)) error) (T, error) {
	if fn == nil {
		panic("taskgroup: Start called with a nil function")
	}
	s := &starter[T]{fn: fn, readyc: make(chan struct{}), done: make(chan struct{})}
	s.idx.Store(-1)
	g.add(job{c: s, t: s, name: name}, viaStart)
	select {
	case <-s.readyc:
	case <-s.done:
	case <-g.ctx.Done():
	}
	select {
	case <-s.readyc: // ready wins over an end or a cancellation that followed it
		return s.val, nil
	default:
	}
	var zero T
	select {
	case <-s.done:
		return zero, s.err
	default:
	}
	if te, ok := context.Cause(g.ctx).(*TaskError); ok && int64(te.Index) == s.idx.Load() {
		// The task's own failure cancelled the group (TG2) a moment before
		// its end is settled: its error, not the cancellation, is the answer.
		<-s.done
		return zero, s.err
	}
	return zero, cause.Of(g.ctx)
}

// starter is the task of one Start call.
type starter[T any] struct {
	fn     func(ctx context.Context, ready func(T)) error
	once   atomic.Bool
	idx    atomic.Int64 // the task's index once it runs; -1 before
	val    T
	readyc chan struct{} // closed by the first ready
	done   chan struct{} // closed when the task has ended, err set
	err    error
}

func (s *starter[T]) ready(v T) {
	if s.once.CompareAndSwap(false, true) {
		s.val = v
		close(s.readyc)
	}
}

func (s *starter[T]) call(ctx context.Context, idx int) error {
	s.idx.Store(int64(idx))
	err := s.fn(ctx, s.ready)
	if err == nil && !s.once.Load() {
		if err = cause.Of(ctx); err == nil {
			err = ErrNotReady
		}
	}
	return err
}

func (s *starter[T]) finish(err error) {
	s.err = err
	close(s.done)
}
