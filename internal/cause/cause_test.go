package cause_test

import (
	"context"
	"errors"
	"testing"

	"github.com/leash-go/leash/internal/cause"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOf_NilWhileTheContextIsNotDone(t *testing.T) {
	require.NoError(t, cause.Of(t.Context()))
}

func TestOf_ALL3_MatchesErrAndCause(t *testing.T) {
	errGone := errors.New("client went away")
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errGone)
	err := cause.Of(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, errGone)
	require.EqualError(t, err, "context canceled: client went away")
}

func TestOf_ALL3_PlainCancellationIsTheContextsError(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.Same(t, context.Canceled, cause.Of(ctx))
}

func TestOf_ALL3_ACauseThatMatchesAlreadyIsKept(t *testing.T) {
	deadline := &wrapped{context.DeadlineExceeded}
	ctx, cancel := context.WithTimeoutCause(t.Context(), 0, deadline)
	defer cancel()
	<-ctx.Done()
	require.Same(t, error(deadline), cause.Of(ctx))
}

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "wrapped: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
