package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leash-go/leash/timeout"
)

var errQuote = errors.New("quote failed")

type ctxKey struct{}

// requireNamedTimeout checks the identities of a TO3 error around fnErr.
func requireNamedTimeout(t *testing.T, err, fnErr error, d time.Duration) {
	t.Helper()
	require.ErrorIs(t, err, timeout.ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, fnErr)
	require.NotErrorIs(t, err, timeout.ErrAbandoned)
	var te timeouter
	require.ErrorAs(t, err, &te)
	require.True(t, te.Timeout())
	require.Contains(t, err.Error(), d.String())
	require.Contains(t, err.Error(), fnErr.Error())
}

func TestWaitFor_TO1_RunsFnOnceInCallersGoroutine(t *testing.T) {
	caller := goid()
	calls := 0
	err := timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
		calls++
		require.Equal(t, caller, goid())
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, calls)
}

// requireContextEndsAfter calls WaitFor(parent, d) and checks that fn's
// context has its deadline, and ends, want after the call. Call it in a
// synctest bubble.
func requireContextEndsAfter(t *testing.T, parent context.Context, d, want time.Duration) {
	t.Helper()
	start := time.Now()
	err := timeout.WaitFor(parent, d, func(ctx context.Context) error {
		dl, ok := ctx.Deadline()
		require.True(t, ok)
		require.Equal(t, start.Add(want), dl)
		<-ctx.Done()
		require.Equal(t, want, time.Since(start))
		return nil
	})
	require.NoError(t, err)
}

func TestWaitFor_TO1_DeadlineIsNowPlusD(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		requireContextEndsAfter(t, t.Context(), 10*time.Second, 10*time.Second)
	})
}

func TestWaitFor_TO1_ParentsEarlierDeadlineWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		requireContextEndsAfter(t, parent, 10*time.Second, 3*time.Second)
	})
}

func TestWaitFor_TO1_ReturnsOnlyAfterFnReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
			time.Sleep(20 * time.Second) // ignores ctx
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, 20*time.Second, time.Since(start))
	})
}

func TestWaitFor_TO1_KeepsParentsValues(t *testing.T) {
	parent := context.WithValue(t.Context(), ctxKey{}, "v")
	err := timeout.WaitFor(parent, time.Second, func(ctx context.Context) error {
		require.Equal(t, "v", ctx.Value(ctxKey{}))
		return nil
	})
	require.NoError(t, err)
}

func TestWaitFor_TO1_CancelsChildOnReturn(t *testing.T) {
	var child context.Context
	err := timeout.WaitFor(t.Context(), time.Hour, func(ctx context.Context) error {
		child = ctx
		return nil
	})
	require.NoError(t, err)
	require.ErrorIs(t, child.Err(), context.Canceled)
}

func TestWaitFor_TO1_PanicPropagatesAndCancelsChild(t *testing.T) {
	var child context.Context
	require.PanicsWithValue(t, "boom", func() {
		_ = timeout.WaitFor(t.Context(), time.Hour, func(ctx context.Context) error {
			child = ctx
			panic("boom")
		})
	})
	require.ErrorIs(t, child.Err(), context.Canceled)
}

func TestWaitFor_TO2_LateSuccessIsNil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second)
			return nil
		})
		require.NoError(t, err)
	})
}

func TestWaitFor_TO3_ErrorAfterOwnDeadlineIsNamed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var fnErr error
		err := timeout.WaitFor(t.Context(), 10*time.Second, func(ctx context.Context) error {
			<-ctx.Done()
			fnErr = fmt.Errorf("%w: %w", errQuote, ctx.Err())
			return fnErr
		})
		require.Equal(t, 10*time.Second, time.Since(start))
		requireNamedTimeout(t, err, fnErr, 10*time.Second)
		require.ErrorIs(t, err, errQuote)
	})
}

func TestWaitFor_TO3_CauseInsideFnMatchesErrTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_ = timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
			<-ctx.Done()
			require.ErrorIs(t, context.Cause(ctx), timeout.ErrTimeout)
			require.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
			return nil
		})
	})
}

func TestWaitFor_TO3_ErrorBeforeDeadlineIsUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := timeout.WaitFor(t.Context(), 10*time.Second, func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errQuote
		})
		require.Same(t, errQuote, err)
	})
}

func TestWaitFor_TO3_ParentCancelledFirstGivesFnsErrorUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(2*time.Second, func() { cancel(errors.New("client went away")) })
		err := timeout.WaitFor(parent, 10*time.Second, func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(20 * time.Second) // past WaitFor's own deadline too
			return errQuote
		})
		require.Same(t, errQuote, err)
		require.NotErrorIs(t, err, timeout.ErrTimeout)
	})
}

func TestWaitFor_TO3_ParentExpiredFirstGivesFnsErrorUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		err := timeout.WaitFor(parent, 10*time.Second, func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		require.Equal(t, context.DeadlineExceeded, err)
		require.NotErrorIs(t, err, timeout.ErrTimeout)
	})
}

func TestWaitFor_TO3_EnclosingTimeoutIsNotTheInnerOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inner error
		outer := timeout.WaitFor(t.Context(), 2*time.Second, func(ctx context.Context) error {
			inner = timeout.WaitFor(ctx, 10*time.Second, func(ctx context.Context) error {
				<-ctx.Done()
				return errQuote
			})
			return inner
		})
		require.Same(t, errQuote, inner, "the inner WaitFor's 10s did not run out")
		requireNamedTimeout(t, outer, errQuote, 2*time.Second)
	})
}

func TestWaitFor_TO3_EnclosingTimeoutThatExpiredBeforeTheCallIsNotTheInnerOnes(t *testing.T) {
	// Both deadlines are past when the inner WaitFor starts, the inner's the
	// earlier: but the enclosing one had already ended the parent.
	var inner error
	_ = timeout.WaitFor(t.Context(), -time.Second, func(ctx context.Context) error {
		inner = timeout.WaitFor(ctx, -2*time.Second, func(ctx context.Context) error {
			return errQuote
		})
		return inner
	})
	require.Same(t, errQuote, inner)
}

func TestWaitFor_TO3_InnerTimeoutIsNamedInsideALongerOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inner error
		outer := timeout.WaitFor(t.Context(), 10*time.Second, func(ctx context.Context) error {
			inner = timeout.WaitFor(ctx, 2*time.Second, func(ctx context.Context) error {
				<-ctx.Done()
				return errQuote
			})
			return inner
		})
		requireNamedTimeout(t, inner, errQuote, 2*time.Second)
		require.Same(t, inner, outer, "the outer WaitFor's 10s did not run out")
	})
}

func TestWaitFor_TO4_NonPositiveDurationRunsFnWithExpiredContext(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			calls := 0
			err := timeout.WaitFor(t.Context(), d, func(ctx context.Context) error {
				calls++
				require.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
				return ctx.Err()
			})
			require.Equal(t, 1, calls)
			requireNamedTimeout(t, err, context.DeadlineExceeded, d)
		})
	}
}

func TestWaitFor_TO4_RunsEvenWhenParentIsDone(t *testing.T) {
	parent, cancel := context.WithCancel(t.Context())
	cancel()
	calls := 0
	err := timeout.WaitFor(parent, time.Second, func(ctx context.Context) error {
		calls++
		return ctx.Err()
	})
	require.Equal(t, 1, calls)
	require.Same(t, context.Canceled, err)
}

func TestWaitFor_NilFnPanics(t *testing.T) {
	require.PanicsWithValue(t, "timeout: WaitFor with a nil fn", func() {
		_ = timeout.WaitFor(t.Context(), time.Second, nil)
	})
}

func TestWaitForValue_TO1_ReturnsFnsValue(t *testing.T) {
	v, err := timeout.WaitForValue(t.Context(), time.Second, func(ctx context.Context) (int, error) {
		return 42, nil
	})
	require.NoError(t, err)
	require.Equal(t, 42, v)
}

func TestWaitForValue_TO3_KeepsFnsValueBesideTheNamedError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v, err := timeout.WaitForValue(t.Context(), time.Second, func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "partial", errQuote
		})
		require.Equal(t, "partial", v)
		requireNamedTimeout(t, err, errQuote, time.Second)
	})
}

func TestRemaining_NoDeadline(t *testing.T) {
	left, ok := timeout.Remaining(context.Background())
	require.False(t, ok)
	require.Zero(t, left)
}

func TestRemaining_TimeUntilDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		time.Sleep(3 * time.Second)
		left, ok := timeout.Remaining(ctx)
		require.True(t, ok)
		require.Equal(t, 7*time.Second, left)
	})
}

func TestRemaining_PastDeadlineIsZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		time.Sleep(3 * time.Second)
		left, ok := timeout.Remaining(ctx)
		require.True(t, ok)
		require.Zero(t, left)
	})
}

func TestEntries_ALL4_NilContextPanicsWithAMessage(t *testing.T) {
	msg := func(fn string) string {
		return "timeout: " + fn + " called with a nil context; pass context.Background() or the caller's context"
	}
	//lint:file-ignore SA1012 nil contexts are what this test is about
	require.PanicsWithValue(t, msg("WaitFor"), func() {
		_ = timeout.WaitFor(nil, time.Second, func(context.Context) error { return nil })
	})
	require.PanicsWithValue(t, msg("WaitForValue"), func() {
		_, _ = timeout.WaitForValue(nil, time.Second, func(context.Context) (int, error) { return 0, nil })
	})
	require.PanicsWithValue(t, msg("Call"), func() {
		_, _ = timeout.Call(nil, time.Second, func() (int, error) { return 0, nil })
	})
	require.PanicsWithValue(t, msg("Remaining"), func() { timeout.Remaining(nil) })
}
