package timeout_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leash-go/leash/timeout"
)

type timeouter interface{ Timeout() bool }

func TestErrTimeout_MatchesDeadlineExceeded(t *testing.T) {
	require.ErrorIs(t, timeout.ErrTimeout, context.DeadlineExceeded)
	require.NotErrorIs(t, timeout.ErrTimeout, context.Canceled)
}

func TestErrTimeout_IsATimeout(t *testing.T) {
	var te timeouter
	require.ErrorAs(t, timeout.ErrTimeout, &te)
	require.True(t, te.Timeout())
}

func TestErrAbandoned_MatchesErrTimeoutAndDeadlineExceeded(t *testing.T) {
	require.ErrorIs(t, timeout.ErrAbandoned, timeout.ErrTimeout)
	require.ErrorIs(t, timeout.ErrAbandoned, context.DeadlineExceeded)
	require.NotErrorIs(t, timeout.ErrTimeout, timeout.ErrAbandoned, "a timeout is not an abandonment")
}

func TestErrors_MessagesStartWithPackageName(t *testing.T) {
	for _, err := range []error{timeout.ErrTimeout, timeout.ErrAbandoned} {
		require.True(t, strings.HasPrefix(err.Error(), "timeout: "), err.Error())
	}
}
