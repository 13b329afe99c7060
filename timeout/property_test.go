package timeout_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/leash-go/leash/timeout"
)

// The properties below run in fake time, in units of u. Events are placed so
// that no two can happen at the same instant, where the order would be up to
// the scheduler: WaitFor's own deadline falls on whole units, the parent's
// deadline or cancellation on half units, fn's own finishing on quarter
// units and a late fn's return on eighths.
const u = time.Second

const never = time.Duration(math.MaxInt64)

// parentCase is a parent context as drawn: how and when it ends.
type parentCase struct {
	kind string        // "none", "deadline", "enclosing WaitFor", "cancel", "cancelled"
	end  time.Duration // when it ends, from the start; never for "none"
}

func drawParent(rt *rapid.T) parentCase {
	p := parentCase{kind: rapid.SampledFrom([]string{"none", "deadline", "enclosing WaitFor", "cancel", "cancelled"}).Draw(rt, "parent")}
	switch p.kind {
	case "none":
		p.end = never
	case "deadline", "enclosing WaitFor":
		p.end = time.Duration(rapid.IntRange(-1, 20).Draw(rt, "parentDeadline"))*u + u/2
	case "cancel":
		p.end = time.Duration(rapid.IntRange(0, 20).Draw(rt, "parentCancelAt"))*u + u/2
	case "cancelled":
		p.end = 0
	}
	return p
}

// run calls body with the parent context, made in the bubble. Its end, seen
// from the start, is max(p.end, 0). An enclosing WaitFor's timer cancels with
// the same cause as the inner one's: the inner must still tell them apart.
func (p parentCase) run(body func(ctx context.Context)) {
	bg := context.Background()
	switch p.kind {
	case "deadline":
		ctx, cancel := context.WithTimeoutCause(bg, p.end, errors.New("parent's deadline"))
		defer cancel()
		body(ctx)
	case "enclosing WaitFor":
		_ = timeout.WaitFor(bg, p.end, func(ctx context.Context) error {
			body(ctx)
			return nil
		})
	case "cancel":
		ctx, cancel := context.WithCancelCause(bg)
		defer cancel(nil)
		timer := time.AfterFunc(p.end, func() { cancel(errors.New("parent cancelled")) })
		defer timer.Stop()
		body(ctx)
	case "cancelled":
		ctx, cancel := context.WithCancelCause(bg)
		cancel(errors.New("parent cancelled before the call"))
		body(ctx)
	default:
		body(bg)
	}
}

// ended returns when the parent's end is seen, from the start.
func (p parentCase) ended() time.Duration { return max(p.end, 0) }

// outcome of one call, as observed.
type observed struct {
	val      int
	err      error
	panicked any
	at       time.Duration // when the call returned or panicked, since the start
}

// TestWaitFor_TO1toTO5_Property draws a parent context, a duration, fn's run
// time, how fn treats cancellation, how it ends and whether Grace is used,
// and checks WaitFor (or WaitForValue) against a model of TO1-TO5.
func TestWaitFor_TO1toTO5_Property(t *testing.T) {
	logs := recordLogs(t) // panics after abandonment are logged (TO5)
	rapid.Check(t, func(rt *rapid.T) {
		rapid.SyncTest(rt, func(rt *rapid.T) {
			checkWaitFor(rt, logs)
		})
	})
}

func checkWaitFor(rt *rapid.T, logs *logRecorder) {
	parent := drawParent(rt)
	d := time.Duration(rapid.IntRange(-2, 20).Draw(rt, "d")) * u
	coop := rapid.SampledFrom([]string{"returns on cancel", "ignores cancel", "returns late"}).Draw(rt, "fn")
	run := time.Duration(rapid.IntRange(0, 25).Draw(rt, "run"))*u + u/4
	late := time.Duration(rapid.IntRange(0, 15).Draw(rt, "late"))*u + u/8
	ending := rapid.SampledFrom([]string{"nil", "error", "panic"}).Draw(rt, "ending")
	withGrace := rapid.Bool().Draw(rt, "withGrace")
	grace := time.Duration(rapid.IntRange(0, 10).Draw(rt, "grace")) * u
	withValue := rapid.Bool().Draw(rt, "withValue")

	// The model.
	own := max(d, 0)
	end := min(parent.ended(), own) // when fn's context ends
	ownFired := own < parent.ended()
	var returns time.Duration // when fn returns
	switch coop {
	case "returns on cancel":
		returns = min(end, run)
	case "ignores cancel":
		returns = run
	case "returns late":
		returns = run
		if end < run {
			returns = end + late
		}
	}
	doneAtReturn := end <= returns
	abandoned := withGrace && returns > end+grace
	// The one tie the drawing allows: fn that returns on cancel, under
	// Grace(0), returns at the very instant WaitFor gives up on it. Either
	// outcome is right; the call's error says which happened.
	tie := withGrace && returns == end+grace
	wantAt := returns
	if abandoned {
		wantAt = end + grace
	}

	// The run.
	parent.run(func(ctx context.Context) {
		start := time.Now()
		caller := goid()
		before, logsBefore := timeout.Abandoned(), logs.count()
		calls := 0
		fn := func(ctx context.Context) (int, error) {
			calls++
			// TO1: the tightest deadline wins.
			dl, ok := ctx.Deadline()
			require.True(rt, ok)
			wantDl := start.Add(d)
			if pdl, ok := parent.deadline(start); ok && pdl.Before(wantDl) {
				wantDl = pdl
			}
			require.Equal(rt, wantDl, dl)
			require.Equal(rt, withGrace, goid() != caller, "fn runs in the caller's goroutine unless Grace")
			switch coop {
			case "returns on cancel":
				select {
				case <-ctx.Done():
				case <-time.After(run):
				}
			case "ignores cancel":
				time.Sleep(run)
			case "returns late":
				select {
				case <-ctx.Done():
					time.Sleep(late)
				case <-time.After(run):
				}
			}
			require.Equal(rt, returns, time.Since(start), "model of fn's return")
			switch ending {
			case "error":
				return 7, errQuote
			case "panic":
				panic(errBoom)
			}
			return 7, nil
		}
		var opts []timeout.Option
		if withGrace {
			opts = append(opts, timeout.Grace(grace))
		}
		got := observed{}
		func() {
			defer func() {
				got.panicked = recover()
				got.at = time.Since(start)
			}()
			if withValue {
				got.val, got.err = timeout.WaitForValue(ctx, d, fn, opts...)
			} else {
				got.err = timeout.WaitFor(ctx, d, func(ctx context.Context) error {
					_, err := fn(ctx)
					return err
				}, opts...)
				got.val = 7
			}
		}()

		// TO1, TO5: when WaitFor returns.
		require.Equal(rt, wantAt, got.at, "returned at")
		if tie {
			abandoned = errors.Is(got.err, timeout.ErrAbandoned)
		} else if abandoned {
			require.Equal(rt, before+1, timeout.Abandoned())
		}

		switch {
		case abandoned:
			// TO5
			require.Nil(rt, got.panicked)
			if withValue {
				require.Zero(rt, got.val)
			}
			var te timeouter
			require.ErrorAs(rt, got.err, &te)
			require.Equal(rt, ownFired, te.Timeout())
			requireAbandonment(rt, got.err, ctx, ownFired)
		case ending == "panic":
			// TO5: a panic before abandonment comes home; without Grace it
			// simply goes up the caller's stack.
			pe, ok := got.panicked.(error)
			require.True(rt, ok, "panicked with %v", got.panicked)
			require.ErrorIs(rt, pe, errBoom)
			if withGrace {
				require.Contains(rt, pe.Error(), "goroutine stack at the panic")
			} else {
				require.Same(rt, errBoom, pe)
			}
		case ending == "nil":
			// TO2
			require.Nil(rt, got.panicked)
			require.NoError(rt, got.err)
			require.Equal(rt, 7, got.val)
		case doneAtReturn && ownFired:
			// TO3, TO4: named.
			require.Nil(rt, got.panicked)
			require.ErrorIs(rt, got.err, timeout.ErrTimeout)
			require.ErrorIs(rt, got.err, context.DeadlineExceeded)
			require.ErrorIs(rt, got.err, errQuote)
			require.Contains(rt, got.err.Error(), d.String())
			var te timeouter
			require.ErrorAs(rt, got.err, &te)
			require.True(rt, te.Timeout())
			require.Equal(rt, 7, got.val, "WaitForValue keeps fn's value")
		default:
			// TO3: unchanged.
			require.Nil(rt, got.panicked)
			require.Same(rt, errQuote, got.err)
			require.Equal(rt, 7, got.val)
		}

		// Let an abandoned fn return; it leaves the count, and its panic is
		// logged.
		time.Sleep(max(returns-time.Since(start), 0) + u)
		synctest.Wait()
		require.Equal(rt, 1, calls, "TO1: fn runs exactly once")
		require.Equal(rt, before, timeout.Abandoned())
		wantLogs := 0
		if abandoned && ending == "panic" {
			wantLogs = 1
		}
		require.Equal(rt, logsBefore+wantLogs, logs.count(), "logged panics")
	})
}

// requireAbandonment checks the error of a call that abandoned fn under
// parent: ErrAbandoned always; ErrTimeout when the call's own deadline fired,
// and otherwise the parent's Err and cause (TO5, TO6, ALL3).
func requireAbandonment(rt *rapid.T, err error, parent context.Context, ownFired bool) {
	rt.Helper()
	require.ErrorIs(rt, err, timeout.ErrAbandoned)
	if ownFired {
		require.ErrorIs(rt, err, timeout.ErrTimeout)
		require.ErrorIs(rt, err, context.DeadlineExceeded)
		return
	}
	// ALL3: the parent's Err and cause; a timeout only when the parent's
	// cause is one (an enclosing WaitFor's).
	require.ErrorIs(rt, err, parent.Err())
	require.ErrorIs(rt, err, context.Cause(parent))
	require.Equal(rt, errors.Is(context.Cause(parent), timeout.ErrTimeout), errors.Is(err, timeout.ErrTimeout))
}

// deadline returns the parent's deadline, for a parent made at start.
func (p parentCase) deadline(start time.Time) (time.Time, bool) {
	if p.kind != "deadline" && p.kind != "enclosing WaitFor" {
		return time.Time{}, false
	}
	return start.Add(p.end), true
}

// TestCall_TO6_Property draws a parent context, a duration, fn's run time
// and how it ends, and checks Call against TO6.
func TestCall_TO6_Property(t *testing.T) {
	logs := recordLogs(t)
	rapid.Check(t, func(rt *rapid.T) {
		rapid.SyncTest(rt, func(rt *rapid.T) {
			parent := drawParent(rt)
			d := time.Duration(rapid.IntRange(-2, 20).Draw(rt, "d")) * u
			run := time.Duration(rapid.IntRange(0, 25).Draw(rt, "run"))*u + u/4
			ending := rapid.SampledFrom([]string{"nil", "error", "panic"}).Draw(rt, "ending")

			own := max(d, 0)
			end := min(parent.ended(), own)
			ownFired := own < parent.ended()
			abandoned := run > end

			parent.run(func(ctx context.Context) {
				start := time.Now()
				before, logsBefore := timeout.Abandoned(), logs.count()
				got := observed{}
				func() {
					defer func() {
						got.panicked = recover()
						got.at = time.Since(start)
					}()
					got.val, got.err = timeout.Call(ctx, d, func() (int, error) {
						time.Sleep(run)
						switch ending {
						case "error":
							return 7, errQuote
						case "panic":
							panic(errBoom)
						}
						return 7, nil
					})
				}()

				require.Equal(rt, min(run, end), got.at, "returned at")
				switch {
				case abandoned:
					require.Nil(rt, got.panicked)
					require.Zero(rt, got.val)
					require.Equal(rt, before+1, timeout.Abandoned())
					requireAbandonment(rt, got.err, ctx, ownFired)
				case ending == "panic":
					pe, ok := got.panicked.(error)
					require.True(rt, ok)
					require.ErrorIs(rt, pe, errBoom)
				case ending == "error":
					require.Same(rt, errQuote, got.err)
					require.Equal(rt, 7, got.val)
				default:
					require.NoError(rt, got.err)
					require.Equal(rt, 7, got.val)
				}

				time.Sleep(run + u)
				synctest.Wait()
				require.Equal(rt, before, timeout.Abandoned())
				wantLogs := 0
				if abandoned && ending == "panic" {
					wantLogs = 1
				}
				require.Equal(rt, logsBefore+wantLogs, logs.count(), "logged panics")
			})
		})
	})
}
