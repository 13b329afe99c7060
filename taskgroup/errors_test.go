package taskgroup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func TestTaskError_MessageNamesTheTask(t *testing.T) {
	named := &taskgroup.TaskError{Index: 2, Name: "fetch-user", Err: errA}
	require.Equal(t, `task "fetch-user" (#2): a failed`, named.Error())
	unnamed := &taskgroup.TaskError{Index: 2, Err: errA}
	require.Equal(t, `task #2: a failed`, unnamed.Error())
	require.ErrorIs(t, named, errA)
}

func TestError_MessageListsFailuresAndCancellations(t *testing.T) {
	e := &taskgroup.Error{
		Failures:  []*taskgroup.TaskError{{Index: 1, Name: "payment", Err: errA}},
		Cancelled: 3,
	}
	require.Equal(t, `taskgroup: task "payment" (#1): a failed (3 tasks cancelled)`, e.Error())
	e.Failures = append(e.Failures, &taskgroup.TaskError{Index: 4, Err: errB})
	e.Cancelled = 1
	require.Equal(t, `taskgroup: 2 tasks failed: task "payment" (#1): a failed; task #4: b failed (1 task cancelled)`, e.Error())
}

func TestError_MessageCarriesTheGroupName(t *testing.T) {
	g := taskgroup.New(t.Context(), taskgroup.WithName("checkout"))
	g.GoNamed("payment", func(context.Context) error { return errA })
	require.EqualError(t, g.Wait(), `taskgroup "checkout": task "payment" (#0): a failed`)
}

func TestError_MessageOfAParentCancellation(t *testing.T) {
	e := &taskgroup.Error{Cancelled: 2, Cause: context.Canceled}
	require.Equal(t, "taskgroup: cancelled (2 tasks cancelled): context canceled", e.Error())
}

func TestError_UnwrapListsFailuresThenCause(t *testing.T) {
	f1 := &taskgroup.TaskError{Index: 0, Err: errA}
	f2 := &taskgroup.TaskError{Index: 1, Err: errB}
	e := &taskgroup.Error{Failures: []*taskgroup.TaskError{f1, f2}, Cause: context.Canceled}
	require.Equal(t, []error{f1, f2, context.Canceled}, e.Unwrap())
	var te *taskgroup.TaskError
	require.True(t, errors.As(e, &te))
	require.Same(t, f1, te)
}

func TestPanicError_UnwrapsOnlyErrorValues(t *testing.T) {
	require.ErrorIs(t, &taskgroup.PanicError{Value: errA}, errA)
	require.Nil(t, (&taskgroup.PanicError{Value: "text"}).Unwrap())
}
