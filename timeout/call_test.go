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
	"github.com/leash-go/leash/taskgroup"
	"github.com/leash-go/leash/timeout"
)

// explodeCall panics; its name shows up in the stack a panic carries.
func explodeCall() (int, error) { panic(errBoom) }

func TestCall_TO6_ReturnsFnsValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v, err := timeout.Call(t.Context(), 10*time.Second, func() (int, error) {
			time.Sleep(time.Second)
			return 42, nil
		})
		require.NoError(t, err)
		require.Equal(t, 42, v)
	})
}

func TestCall_TO6_ReturnsFnsErrorUnchanged(t *testing.T) {
	v, err := timeout.Call(t.Context(), time.Second, func() (string, error) {
		return "partial", errQuote
	})
	require.Same(t, errQuote, err)
	require.Equal(t, "partial", v)
}

func TestCall_TO6_RunsFnInItsOwnGoroutine(t *testing.T) {
	caller := goid()
	callee, err := timeout.Call(t.Context(), time.Second, func() (string, error) {
		return goid(), nil
	})
	require.NoError(t, err)
	require.NotEqual(t, caller, callee)
}

func TestCall_TO6_AbandonsFnAtTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		before := timeout.Abandoned()
		v, err := timeout.Call(t.Context(), 10*time.Second, func() (int, error) {
			time.Sleep(time.Minute)
			return 42, nil
		})
		require.Equal(t, 10*time.Second, time.Since(start), "returns at once")
		require.Zero(t, v)
		requireAbandonedTimeout(t, err, 10*time.Second)
		require.Equal(t, before+1, timeout.Abandoned())

		time.Sleep(time.Minute)
		synctest.Wait()
		require.Equal(t, before, timeout.Abandoned(), "the abandoned goroutine has returned")
	})
}

func TestCall_TO6_AbandonsFnWhenParentIsCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		parent, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(time.Second, func() { cancel(errors.New("client went away")) })
		_, err := timeout.Call(parent, 10*time.Second, func() (int, error) {
			time.Sleep(time.Minute)
			return 42, nil
		})
		require.Equal(t, time.Second, time.Since(start))
		requireAbandonedByParent(t, err, parent)
		time.Sleep(time.Minute) // let the abandoned fn return before the bubble ends
	})
}

func TestCall_TO6_StartsFnEvenWhenParentIsDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(t.Context())
		cancel()
		ran := make(chan struct{})
		_, err := timeout.Call(parent, time.Second, func() (int, error) {
			close(ran)
			return 0, nil
		})
		requireAbandonedByParent(t, err, parent)
		<-ran
	})
}

func TestCall_TO6_PanicBeforeAbandonmentIsRaisedInCaller(t *testing.T) {
	defer func() {
		err, ok := recover().(error)
		require.True(t, ok)
		require.ErrorIs(t, err, errBoom)
		require.Contains(t, err.Error(), "explodeCall", "carries the stack of fn's goroutine")
	}()
	_, _ = timeout.Call(t.Context(), time.Second, explodeCall)
	t.Fatal("Call returned")
}

func TestCall_TO6_PanicAfterAbandonmentIsLogged(t *testing.T) {
	logs := recordLogs(t)
	synctest.Test(t, func(t *testing.T) {
		_, err := timeout.Call(t.Context(), time.Second, func() (int, error) {
			time.Sleep(time.Minute)
			return explodeCall()
		})
		require.ErrorIs(t, err, timeout.ErrAbandoned)

		time.Sleep(time.Minute)
		synctest.Wait()
		recs := logs.all()
		require.Len(t, recs, 1)
		require.Equal(t, slog.LevelError, recs[0].Level)
		require.Contains(t, recs[0].Message, "Call")
		a := attrs(recs[0])
		require.Equal(t, "boom", a["panic"])
		require.Contains(t, a["stack"], "explodeCall")
	})
}

func TestCall_TO6_GoexitBeforeAbandonmentEndsCaller(t *testing.T) {
	requireGoexitEndsCaller(t, func() {
		_, _ = timeout.Call(t.Context(), time.Second, func() (int, error) {
			runtime.Goexit()
			return 0, nil
		})
	})
}

func TestCall_NilFnPanics(t *testing.T) {
	require.PanicsWithValue(t, "timeout: Call with a nil fn", func() {
		_, _ = timeout.Call[int](t.Context(), time.Second, nil)
	})
}

func TestCall_TO6_ReraisedPanicIsAnExportedTypeWithValueAndStack(t *testing.T) {
	defer func() {
		p, ok := recover().(*panics.Error)
		require.True(t, ok, "recover yields a *panics.Error")
		require.Equal(t, 42, p.Value, "a value that is not an error is reachable")
		require.Contains(t, string(p.Stack), "explodeWithAnInt")
		var pe *taskgroup.PanicError = p // the same type as taskgroup's
		require.NotNil(t, pe)
	}()
	_, _ = timeout.Call(t.Context(), time.Second, explodeWithAnInt)
	t.Fatal("Call returned")
}

func explodeWithAnInt() (int, error) { panic(42) }

func TestCall_TO6_ErrAbortHandlerIsReraisedAsItself(t *testing.T) {
	defer func() {
		r := recover()
		require.True(t, r == http.ErrAbortHandler, "net/http compares by identity; got %T %v", r, r)
	}()
	_, _ = timeout.Call(t.Context(), time.Second, func() (int, error) { panic(http.ErrAbortHandler) })
	t.Fatal("Call returned")
}

func TestCall_TO6_AnErrorWithAbortHandlersTextIsNotTakenForIt(t *testing.T) {
	// Another type with the same text. (Another errors.New of that text
	// would be taken for it: timeout tells them apart without linking
	// net/http.)
	impostor := textError("net/http: abort Handler")
	defer func() {
		p, ok := recover().(*panics.Error)
		require.True(t, ok, "only http.ErrAbortHandler itself is re-raised bare")
		require.Equal(t, impostor, p.Value)
	}()
	_, _ = timeout.Call(t.Context(), time.Second, func() (int, error) { panic(impostor) })
	t.Fatal("Call returned")
}

type textError string

func (e textError) Error() string { return string(e) }
