package timeout_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leash-go/leash/panics"
	"github.com/leash-go/leash/timeout"
)

var errBoom = errors.New("boom")

// explodeWaitFor panics; its name shows up in the stack a panic carries.
func explodeWaitFor(context.Context) error { panic(errBoom) }

// requireAbandonedTimeout checks the identities of an abandonment after the
// call's own deadline.
func requireAbandonedTimeout(t *testing.T, err error, d time.Duration) {
	t.Helper()
	require.ErrorIs(t, err, timeout.ErrAbandoned)
	require.ErrorIs(t, err, timeout.ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var te timeouter
	require.ErrorAs(t, err, &te)
	require.True(t, te.Timeout())
	require.Contains(t, err.Error(), d.String())
}

// requireAbandonedByParent checks the identities of an abandonment after the
// parent context ended (ALL3).
func requireAbandonedByParent(t *testing.T, err error, parent context.Context) {
	t.Helper()
	require.ErrorIs(t, err, timeout.ErrAbandoned)
	require.ErrorIs(t, err, parent.Err())
	require.ErrorIs(t, err, context.Cause(parent))
	require.NotErrorIs(t, err, timeout.ErrTimeout)
	var te timeouter
	require.ErrorAs(t, err, &te)
	require.False(t, te.Timeout())
}

// requireGoexitEndsCaller calls call in a goroutine of its own and checks
// that a runtime.Goexit in fn was carried out there: the goroutine's deferred
// calls ran, and call never returned.
func requireGoexitEndsCaller(t *testing.T, call func()) {
	t.Helper()
	returned, deferred := false, false
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { deferred = true }()
		call()
		returned = true
	}()
	<-done
	require.True(t, deferred)
	require.False(t, returned)
}

func TestWaitFor_TO5_GraceRunsFnInItsOwnGoroutine(t *testing.T) {
	caller := goid()
	var callee string
	err := timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
		callee = goid()
		return nil
	}, timeout.Grace(time.Second))
	require.NoError(t, err)
	require.NotEqual(t, caller, callee)
}

func TestWaitFor_TO5_FnReturningWithinGraceIsWaitedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := timeout.WaitFor(t.Context(), 10*time.Second, func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second)
			return errQuote
		}, timeout.Grace(5*time.Second))
		require.Equal(t, 11*time.Second, time.Since(start))
		requireNamedTimeout(t, err, errQuote, 10*time.Second)
	})
}

func TestWaitFor_TO5_LateSuccessWithinGraceIsNil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
			time.Sleep(2 * time.Second)
			return nil
		}, timeout.Grace(5*time.Second))
		require.NoError(t, err)
	})
}

func TestWaitFor_TO5_AbandonsFnGraceAfterDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		before := timeout.Abandoned()
		err := timeout.WaitFor(t.Context(), 10*time.Second, func(ctx context.Context) error {
			time.Sleep(time.Minute) // ignores ctx
			return nil
		}, timeout.Grace(2*time.Second))
		require.Equal(t, 12*time.Second, time.Since(start))
		requireAbandonedTimeout(t, err, 10*time.Second)
		require.Contains(t, err.Error(), "2s")
		require.Equal(t, before+1, timeout.Abandoned())

		time.Sleep(time.Minute)
		synctest.Wait()
		require.Equal(t, before, timeout.Abandoned(), "the abandoned goroutine has returned")
	})
}

func TestWaitFor_TO5_ZeroGraceAbandonsWhenTheContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := timeout.WaitFor(t.Context(), 10*time.Second, func(ctx context.Context) error {
			time.Sleep(time.Minute)
			return nil
		}, timeout.Grace(0))
		require.Equal(t, 10*time.Second, time.Since(start))
		requireAbandonedTimeout(t, err, 10*time.Second)
		time.Sleep(time.Minute) // let the abandoned fn return before the bubble ends
	})
}

func TestWaitFor_TO5_NegativeGraceCountsAsZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := timeout.WaitFor(t.Context(), 10*time.Second, func(ctx context.Context) error {
			time.Sleep(time.Minute)
			return nil
		}, timeout.Grace(-time.Hour))
		require.Equal(t, 10*time.Second, time.Since(start))
		requireAbandonedTimeout(t, err, 10*time.Second)
		time.Sleep(time.Minute) // let the abandoned fn return before the bubble ends
	})
}

func TestWaitFor_TO5_LastGraceWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
			time.Sleep(time.Minute)
			return nil
		}, timeout.Grace(time.Hour), timeout.Grace(2*time.Second))
		require.Equal(t, 3*time.Second, time.Since(start))
		require.ErrorIs(t, err, timeout.ErrAbandoned)
		time.Sleep(time.Minute) // let the abandoned fn return before the bubble ends
	})
}

func TestWaitFor_TO5_AbandonmentAfterParentCancelIsNotATimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		parent, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(time.Second, func() { cancel(errors.New("client went away")) })
		err := timeout.WaitFor(parent, 10*time.Second, func(ctx context.Context) error {
			time.Sleep(time.Minute)
			return nil
		}, timeout.Grace(time.Second))
		require.Equal(t, 2*time.Second, time.Since(start))
		requireAbandonedByParent(t, err, parent)
		require.NotErrorIs(t, err, context.DeadlineExceeded)
		time.Sleep(time.Minute) // let the abandoned fn return before the bubble ends
	})
}

func TestWaitFor_TO5_AbandonmentAfterParentExpiredIsNotOurTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := timeout.WaitFor(parent, 10*time.Second, func(ctx context.Context) error {
			time.Sleep(time.Minute)
			return nil
		}, timeout.Grace(time.Second))
		requireAbandonedByParent(t, err, parent)
		require.ErrorIs(t, err, context.DeadlineExceeded, "the parent's deadline passed")
		time.Sleep(time.Minute) // let the abandoned fn return before the bubble ends
	})
}

func TestWaitFor_TO5_PanicBeforeAbandonmentIsRaisedInCaller(t *testing.T) {
	defer func() {
		v := recover()
		err, ok := v.(error)
		require.True(t, ok, "re-raised as an error, got %T", v)
		require.ErrorIs(t, err, errBoom)
		require.Contains(t, err.Error(), "boom")
		require.Contains(t, err.Error(), "explodeWaitFor", "carries the stack of fn's goroutine")
	}()
	_ = timeout.WaitFor(t.Context(), time.Second, explodeWaitFor, timeout.Grace(time.Second))
	t.Fatal("WaitFor returned")
}

func TestWaitFor_TO5_PanicAfterAbandonmentIsLogged(t *testing.T) {
	logs := recordLogs(t)
	synctest.Test(t, func(t *testing.T) {
		before := timeout.Abandoned()
		err := timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
			time.Sleep(time.Minute)
			return explodeWaitFor(ctx)
		}, timeout.Grace(time.Second))
		require.ErrorIs(t, err, timeout.ErrAbandoned)
		require.Empty(t, logs.all())

		time.Sleep(time.Minute)
		synctest.Wait()
		require.Equal(t, before, timeout.Abandoned())
		recs := logs.all()
		require.Len(t, recs, 1)
		require.Equal(t, slog.LevelError, recs[0].Level)
		a := attrs(recs[0])
		require.Equal(t, "boom", a["panic"])
		require.Contains(t, a["stack"], "explodeWaitFor")
	})
}

func TestWaitFor_TO5_GoexitBeforeAbandonmentEndsCaller(t *testing.T) {
	requireGoexitEndsCaller(t, func() {
		_ = timeout.WaitFor(t.Context(), time.Second, func(ctx context.Context) error {
			runtime.Goexit()
			return nil
		}, timeout.Grace(time.Second))
	})
}

func TestWaitForValue_TO5_AbandonedGivesZeroValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v, err := timeout.WaitForValue(t.Context(), time.Second, func(ctx context.Context) (int, error) {
			time.Sleep(time.Minute)
			return 42, nil
		}, timeout.Grace(time.Second))
		require.Zero(t, v)
		requireAbandonedTimeout(t, err, time.Second)
		time.Sleep(time.Minute) // let the abandoned fn return before the bubble ends
	})
}

func TestWaitForValue_TO5_ValueWithinGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v, err := timeout.WaitForValue(t.Context(), time.Second, func(ctx context.Context) (int, error) {
			time.Sleep(1500 * time.Millisecond)
			return 42, nil
		}, timeout.Grace(time.Second))
		require.NoError(t, err)
		require.Equal(t, 42, v)
	})
}

func TestWaitFor_TO5_GraceReraisesErrAbortHandlerAsItself(t *testing.T) {
	defer func() {
		r := recover()
		require.True(t, r == http.ErrAbortHandler, "got %T %v", r, r)
	}()
	_ = timeout.WaitFor(t.Context(), time.Second, func(context.Context) error { panic(http.ErrAbortHandler) }, timeout.Grace(time.Second))
	t.Fatal("WaitFor returned")
}

func TestWaitFor_TO5_GraceReraisesAnExportedPanicType(t *testing.T) {
	defer func() {
		p, ok := recover().(*panics.Error)
		require.True(t, ok)
		require.Equal(t, "not an error", p.Value)
	}()
	_ = timeout.WaitFor(t.Context(), time.Second, func(context.Context) error { panic("not an error") }, timeout.Grace(time.Second))
	t.Fatal("WaitFor returned")
}
