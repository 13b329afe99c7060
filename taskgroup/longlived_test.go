package taskgroup_test

import (
	"context"
	"sync"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func TestWithFailureHandler_SV5_EveryFailureIsHandedOverNotKept(t *testing.T) {
	var mu sync.Mutex
	var got []*taskgroup.TaskError
	g := taskgroup.New(t.Context(), taskgroup.CollectAll(), taskgroup.WithFailureHandler(func(te *taskgroup.TaskError) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, te)
	}))
	for i := range 100 {
		g.Go(func(context.Context) error {
			if i%10 == 0 {
				return errA
			}
			return nil
		})
	}
	err := g.Wait()
	var te *taskgroup.Error
	require.ErrorAs(t, err, &te)
	require.Empty(t, te.Failures, "not kept")
	require.Equal(t, 10, te.Handled, "but counted")
	require.Len(t, got, 10)
	for _, f := range got {
		require.Zero(t, f.Index%10)
		require.Same(t, errA, f.Err)
	}
	require.Equal(t, "taskgroup: 10 failures handed to the failure handler", err.Error())
}

func TestWithFailureHandler_SV5_PanicsAreStillKeptAndComeHome(t *testing.T) {
	handled := 0
	g := taskgroup.New(t.Context(), taskgroup.CollectAll(), taskgroup.PanicsAsErrors(),
		taskgroup.WithFailureHandler(func(*taskgroup.TaskError) { handled++ }))
	g.Go(panicsWithKaboom)
	var te *taskgroup.Error
	require.ErrorAs(t, g.Wait(), &te)
	require.Len(t, te.Failures, 1, "TG5: no panic is lost")
	require.Zero(t, handled)
}

func TestWithFailureHandler_SV5_APanickingHandlerFailsTheTask(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.CollectAll(), taskgroup.PanicsAsErrors(),
		taskgroup.WithFailureHandler(func(*taskgroup.TaskError) { panic("handler") }))
	g.Go(func(context.Context) error { return errA })
	var pe *taskgroup.PanicError
	err := g.Wait()
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "handler", pe.Value)
}

func TestWithFailureHandler_SV5_NilPanics(t *testing.T) {
	require.PanicsWithValue(t, "taskgroup: WithFailureHandler(nil): pass a function that logs or counts the failure",
		func() { taskgroup.WithFailureHandler(nil) })
}
