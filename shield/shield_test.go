package shield_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leash-go/leash/shield"
)

var (
	errRollback = errors.New("rollback failed")
	errWork     = errors.New("work failed")
)

type ctxKey struct{}

type timeouter interface{ Timeout() bool }

// requirePanicPrefix checks that f panics with a string starting "shield: ".
func requirePanicPrefix(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		msg, ok := recover().(string)
		require.True(t, ok, "panics with a string")
		require.True(t, strings.HasPrefix(msg, "shield: "), msg)
	}()
	f()
	t.Fatal("did not panic")
}

// cancelled returns a context that is already cancelled, with a cause.
func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancelCause(context.WithValue(t.Context(), ctxKey{}, "v"))
	cancel(errors.New("client went away"))
	return ctx
}

func TestDo_SH1_RunsFnOnceInCallersGoroutine(t *testing.T) {
	caller := goid()
	calls := 0
	err := shield.Do(t.Context(), time.Second, func(ctx context.Context) error {
		calls++
		require.Equal(t, caller, goid())
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, calls)
}

func TestDo_SH1_RunsEvenWhenCtxIsDone(t *testing.T) {
	calls := 0
	err := shield.Do(cancelled(t), time.Second, func(ctx context.Context) error {
		calls++
		require.NoError(t, ctx.Err())
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, calls)
}

func TestDo_SH1_KeepsValues(t *testing.T) {
	err := shield.Do(cancelled(t), time.Second, func(ctx context.Context) error {
		require.Equal(t, "v", ctx.Value(ctxKey{}))
		return nil
	})
	require.NoError(t, err)
}

func TestDo_SH1_IgnoresCancellationDuringFn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		err := shield.Do(parent, 10*time.Second, func(ctx context.Context) error {
			cancel()
			time.Sleep(time.Second)
			require.NoError(t, ctx.Err())
			return nil
		})
		require.NoError(t, err)
	})
}

func TestDo_SH1_ExpiresDAfterTheCallNotAtParentsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		err := shield.Do(parent, 10*time.Second, func(ctx context.Context) error {
			dl, ok := ctx.Deadline()
			require.True(t, ok)
			require.Equal(t, start.Add(10*time.Second), dl)
			<-ctx.Done()
			require.Equal(t, 10*time.Second, time.Since(start))
			return nil
		})
		require.NoError(t, err)
	})
}

func TestDo_SH1_ParentsLaterDeadlineDoesNotExtendTheShield(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		start := time.Now()
		_ = shield.Do(parent, 2*time.Second, func(ctx context.Context) error {
			<-ctx.Done()
			require.Equal(t, 2*time.Second, time.Since(start))
			return nil
		})
	})
}

func TestDo_SH2_NonPositiveDurationPanics(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			requirePanicPrefix(t, func() {
				_ = shield.Do(t.Context(), d, func(context.Context) error {
					t.Error("fn ran")
					return nil
				})
			})
		})
	}
}

func TestDo_SH2_ErrorAfterDeadlineMatchesDeadlineExceededAndWrapsFnsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fnErr error
		err := shield.Do(t.Context(), 2*time.Second, func(ctx context.Context) error {
			<-ctx.Done()
			fnErr = fmt.Errorf("%w: %w", errRollback, context.Cause(ctx))
			return fnErr
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, fnErr)
		require.ErrorIs(t, err, errRollback)
		require.NotErrorIs(t, err, context.Canceled)
		var te timeouter
		require.ErrorAs(t, err, &te)
		require.True(t, te.Timeout())
		require.True(t, strings.HasPrefix(err.Error(), "shield: "), err.Error())
		require.Contains(t, err.Error(), "2s")
		require.Contains(t, err.Error(), errRollback.Error())
	})
}

func TestDo_SH2_ErrorLateButUnrelatedToCtxIsStillWrapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := shield.Do(t.Context(), time.Second, func(ctx context.Context) error {
			time.Sleep(2 * time.Second) // ignores ctx
			return errRollback
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, errRollback)
	})
}

func TestDo_SH2_ErrorBeforeDeadlineIsUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := shield.Do(cancelled(t), 2*time.Second, func(ctx context.Context) error {
			time.Sleep(time.Second)
			return errRollback
		})
		require.Same(t, errRollback, err)
	})
}

func TestDo_SH2_LateSuccessIsNil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := shield.Do(t.Context(), time.Second, func(ctx context.Context) error {
			time.Sleep(2 * time.Second)
			return nil
		})
		require.NoError(t, err)
	})
}

func TestDo_SH4_PanicPropagatesAndReleasesTheShield(t *testing.T) {
	var sctx context.Context
	require.PanicsWithValue(t, "boom", func() {
		_ = shield.Do(t.Context(), time.Hour, func(ctx context.Context) error {
			sctx = ctx
			panic("boom")
		})
	})
	require.ErrorIs(t, sctx.Err(), context.Canceled, "the shield's timer was released")
}

func TestCleanup_SH3_SetsNilErrToCleanupsError(t *testing.T) {
	var err error
	shield.Cleanup(t.Context(), time.Second, &err, func(context.Context) error { return errRollback })
	require.Same(t, errRollback, err)
}

func TestCleanup_SH3_JoinsCleanupsErrorAfterTheOneThere(t *testing.T) {
	err := errWork
	shield.Cleanup(t.Context(), time.Second, &err, func(context.Context) error { return errRollback })
	require.ErrorIs(t, err, errWork)
	require.ErrorIs(t, err, errRollback)
	require.Equal(t, errWork.Error()+"\n"+errRollback.Error(), err.Error())
}

func TestCleanup_SH3_NilCleanupErrorLeavesErrAlone(t *testing.T) {
	err := errWork
	shield.Cleanup(t.Context(), time.Second, &err, func(context.Context) error { return nil })
	require.Same(t, errWork, err)
}

func TestCleanup_SH3_RunsInDeferAfterCtxWasCancelled(t *testing.T) {
	parent, cancel := context.WithCancelCause(t.Context())
	released := false
	work := func(ctx context.Context) (err error) {
		defer shield.Cleanup(ctx, time.Second, &err, func(ctx context.Context) error {
			require.NoError(t, ctx.Err())
			released = true
			return nil
		})
		cancel(errors.New("client went away"))
		return context.Cause(ctx)
	}
	err := work(parent)
	require.True(t, released)
	require.EqualError(t, err, "client went away")
}

func TestCleanup_SH3_ErrorAfterDeadlineIsJoinedAsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := errWork
		shield.Cleanup(t.Context(), time.Second, &err, func(ctx context.Context) error {
			<-ctx.Done()
			return errRollback
		})
		require.ErrorIs(t, err, errWork)
		require.ErrorIs(t, err, errRollback)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestCleanup_SH3_NilErrpPanicsBeforeFnRuns(t *testing.T) {
	requirePanicPrefix(t, func() {
		shield.Cleanup(t.Context(), time.Second, nil, func(context.Context) error {
			t.Error("fn ran")
			return nil
		})
	})
}

func TestCleanup_SH2_NonPositiveDurationPanics(t *testing.T) {
	var err error
	requirePanicPrefix(t, func() {
		shield.Cleanup(t.Context(), 0, &err, func(context.Context) error {
			t.Error("fn ran")
			return nil
		})
	})
}

func TestCleanup_SH4_PanicPropagates(t *testing.T) {
	var err error
	require.PanicsWithValue(t, "boom", func() {
		shield.Cleanup(t.Context(), time.Second, &err, func(context.Context) error { panic("boom") })
	})
}

func TestContext_SH1_KeepsValuesDropsCancellationExpiresAfterD(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ctx, cancel := shield.Context(cancelled(t), 3*time.Second)
		defer cancel()
		require.NoError(t, ctx.Err())
		require.Equal(t, "v", ctx.Value(ctxKey{}))
		<-ctx.Done()
		require.Equal(t, 3*time.Second, time.Since(start))
		require.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	})
}

func TestContext_SH2_NonPositiveDurationPanics(t *testing.T) {
	requirePanicPrefix(t, func() {
		_, cancel := shield.Context(t.Context(), -time.Second)
		cancel()
	})
}

func TestEntries_ALL4_NilContextPanicsWithAMessage(t *testing.T) {
	msg := func(fn string) string {
		return "shield: " + fn + " called with a nil context; pass context.Background() or the caller's context"
	}
	fn := func(context.Context) error { return nil }
	//lint:file-ignore SA1012 nil contexts are what this test is about
	require.PanicsWithValue(t, msg("Do"), func() { _ = shield.Do(nil, time.Second, fn) })
	var err error
	require.PanicsWithValue(t, msg("Cleanup"), func() { shield.Cleanup(nil, time.Second, &err, fn) })
	require.PanicsWithValue(t, msg("Context"), func() { shield.Context(nil, time.Second) })
}
