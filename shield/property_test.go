package shield_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/leash-go/leash/shield"
)

// TestDo_SH1SH2_Property draws the state of the caller's context (live,
// cancelled, with an earlier or a later deadline, cancelled while fn runs),
// the shield's d, fn's run time, whether fn returns when its context ends and
// what it returns, and checks Do against SH1 and SH2. Events sit on whole
// units (the shield's deadline), half units (the parent's) and quarter units
// (fn's own finishing), so that no two coincide. Every case runs in a
// testing/synctest bubble (rapid.SyncTest), so its sleeps take fake time.
func TestDo_SH1SH2_Property(t *testing.T) {
	const u = time.Second
	rapid.Check(t, func(rt *rapid.T) {
		rapid.SyncTest(rt, func(rt *rapid.T) {
			parentKind := rapid.SampledFrom([]string{"live", "cancelled", "deadline", "cancel during fn"}).Draw(rt, "parent")
			parentAt := time.Duration(rapid.IntRange(-1, 20).Draw(rt, "parentAt"))*u + u/2
			d := time.Duration(rapid.IntRange(1, 20).Draw(rt, "d")) * u
			run := time.Duration(rapid.IntRange(0, 25).Draw(rt, "run"))*u + u/4
			cooperates := rapid.Bool().Draw(rt, "returns when its context ends")
			fails := rapid.Bool().Draw(rt, "fails")

			// The model: the parent has no say.
			returns := run
			if cooperates {
				returns = min(run, d)
			}
			late := returns >= d

			parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
			defer cancel(nil)
			switch parentKind {
			case "cancelled":
				cancel(errors.New("gone"))
			case "deadline":
				var stop context.CancelFunc
				parent, stop = context.WithTimeout(parent, parentAt)
				defer stop()
			case "cancel during fn":
				defer time.AfterFunc(max(parentAt, 0), func() { cancel(errors.New("gone")) }).Stop()
			}
			start := time.Now()
			calls := 0
			err := shield.Do(parent, d, func(ctx context.Context) error {
				calls++
				dl, ok := ctx.Deadline()
				require.True(rt, ok)
				require.Equal(rt, start.Add(d), dl, "SH1: d after the call, whatever the parent's")
				require.Equal(rt, "v", ctx.Value(ctxKey{}))
				if cooperates {
					select {
					case <-ctx.Done():
					case <-time.After(run):
					}
				} else {
					time.Sleep(run)
				}
				require.Equal(rt, returns, time.Since(start))
				require.Equal(rt, late, ctx.Err() != nil, "only the shield's own deadline ends ctx")
				if fails {
					return errWork
				}
				return nil
			})
			require.Equal(rt, 1, calls)
			require.Equal(rt, returns, time.Since(start))
			switch {
			case !fails:
				require.NoError(rt, err)
			case late:
				require.ErrorIs(rt, err, context.DeadlineExceeded)
				require.ErrorIs(rt, err, errWork)
				require.Contains(rt, err.Error(), d.String())
			default:
				require.Same(rt, errWork, err)
			}
		})
	})
}
