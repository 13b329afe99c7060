package taskgroup_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func runtimeGoexit() { runtime.Goexit() }

// goroutineSet records the ids of the goroutines that call add.
type goroutineSet struct {
	mu  sync.Mutex
	ids map[uint64]bool
}

func (s *goroutineSet) add() {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(buf[:bytes.IndexByte(buf, ' ')]), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[uint64]bool{}
	}
	s.ids[id] = true
}

func (s *goroutineSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func TestSpawn_TG11_ResultIsTheTasksOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		ok := taskgroup.Spawn(g, func(context.Context) (string, error) { return "quote", nil })
		bad := taskgroup.SpawnNamed(g, "payment", func(context.Context) (int, error) {
			time.Sleep(time.Second)
			return 7, errA
		})
		v, err := ok.Result()
		require.NoError(t, err, "a sibling's failure is not this task's error")
		require.Equal(t, "quote", v)
		n, err := bad.Result()
		require.Equal(t, 7, n, "the value comes back as the task returned it")
		require.Same(t, errA, err, "the task's own error, not the group's *Error")
		require.ErrorIs(t, g.Wait(), errA)
	})
}

func TestSpawn_TG11_PanickedTaskReturnsItsPanicError(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.PanicsAsErrors())
	task := taskgroup.Spawn(g, func(context.Context) (int, error) { panic("boom") })
	_, err := task.Result()
	var pe *taskgroup.PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "boom", pe.Value)
	_ = g.Wait()
}

func TestSpawn_TG11_GoexitTaskReturnsErrGoexit(t *testing.T) {
	g := taskgroup.New(t.Context())
	task := taskgroup.Spawn(g, func(context.Context) (int, error) { runtime.Goexit(); return 1, nil })
	_, err := task.Result()
	require.ErrorIs(t, err, taskgroup.ErrGoexit)
	require.ErrorIs(t, g.Wait(), taskgroup.ErrGoexit)
}

func TestSpawn_TG11_DoneClosesWhenTheTaskReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context())
		release := make(chan struct{})
		task := taskgroup.Spawn(g, func(context.Context) (int, error) { <-release; return 1, nil })
		synctest.Wait()
		select {
		case <-task.Done():
			t.Fatal("Done closed before the task returned")
		default:
		}
		close(release)
		<-task.Done()
		v, err := task.Result()
		require.NoError(t, err)
		require.Equal(t, 1, v)
		require.NoError(t, g.Wait())
	})
}

func TestSpawn_TG7_NotStartedTaskMatchesErrAndCause(t *testing.T) {
	errShutdown := errors.New("shutting down")
	parent, cancel := context.WithCancelCause(t.Context())
	cancel(errShutdown)
	g := taskgroup.New(parent)
	ran := false
	task := taskgroup.Spawn(g, func(context.Context) (int, error) { ran = true; return 1, nil })
	<-task.Done()
	_, err := task.Result()
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, errShutdown)
	require.False(t, ran)
	require.Equal(t, 1, waitError(t, g).Cancelled)
}
