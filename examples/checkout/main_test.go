package main

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The tests run inside synctest bubbles: every delay passes in fake time, so
// they take no real time and their durations are exact.

func TestCheckoutWithLeash_ReturnsWhenPaymentFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDeps(scaledDelays(1))
		base := ownGoroutines()
		start := time.Now()

		_, err := checkoutWithLeash(t.Context(), d, demoOrder)

		require.Equal(t, d.delays.payment, time.Since(start), "returns the moment the payment fails")
		require.ErrorIs(t, err, errCardDeclined)
		var te *taskgroup.TaskError
		require.ErrorAs(t, err, &te, "the error names the failed task")
		require.Equal(t, "payment", te.Name)
		require.Equal(t, 1, te.Index)
		var ge *taskgroup.Error
		require.ErrorAs(t, err, &ge)
		require.Len(t, ge.Failures, 1, "only the payment failed")
		require.Equal(t, 2, ge.Cancelled, "the shipping quote and the recommendations were cancelled")
		require.EqualError(t, err, `taskgroup "checkout": task "payment" (#1): card declined (2 tasks cancelled)`)

		synctest.Wait() // lets finished goroutines exit; fake time stands still
		require.Equal(t, d.delays.payment, time.Since(start))
		require.Zero(t, d.running.Load(), "no dependency call is still running")
		require.Equal(t, base, ownGoroutines(), "no goroutine is left behind")
	})
}

func TestCheckoutAdHoc_WaitsForTheSlowestDependency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDeps(scaledDelays(1))
		base := ownGoroutines()
		// Whatever happens, let the forgotten goroutine finish inside the
		// bubble, so a failed assertion is not hidden by a deadlock panic.
		defer settle(d, base, time.Now(), time.Minute)
		start := time.Now()

		_, err := checkoutAdHoc(t.Context(), d, demoOrder)

		require.Equal(t, d.delays.shipping, time.Since(start), "waits for the shipping quote")
		require.ErrorIs(t, err, errCardDeclined)
		require.EqualError(t, err, "card declined", "a bare error")
		var te *taskgroup.TaskError
		require.False(t, errors.As(err, &te), "nothing names the dependency")

		synctest.Wait()
		require.EqualValues(t, 1, d.running.Load(), "the forgotten audit-log write is still running")
		require.Equal(t, base+1, ownGoroutines())

		// Let it finish inside the bubble.
		time.Sleep(d.delays.audit)
		synctest.Wait()
		require.Zero(t, d.running.Load())
		require.Equal(t, base, ownGoroutines())
	})
}

func TestRun_Report(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		require.NoError(t, run(&out, 1))
		require.Equal(t, `leash checkout demo: one checkout, two ways (payment fails after 200ms; the shipping quote takes 3s unless cancelled)

without leash (go + sync.WaitGroup):
  waited      3s      (for the slowest dependency, the shipping quote; the payment had failed after 200ms)
  error       card declined
  from        ? (a bare error: which dependency?)
  still running after return: 1 goroutine(s)
  (the audit-log write it fired with `+"`go`"+` and forgot)
  ... it finished 1s after the return; only then does the next run start, so the two do not interfere

with leash (taskgroup):
  waited      200ms   (returned when the payment failed; the rest were cancelled)
  error       taskgroup "checkout": task "payment" (#1): card declined (2 tasks cancelled)
  from        payment (task #1); 2 other task(s) cancelled
  still running after return: 0 goroutine(s)
`, out.String())
	})
}

func TestRun_Scale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		start := time.Now()
		require.NoError(t, run(&out, 0.1))
		require.Less(t, time.Since(start), time.Second, "a tenth of the delays: 300ms + 100ms + 20ms")
		require.Contains(t, out.String(), "payment fails after 20ms; the shipping quote takes 300ms")
		require.Contains(t, out.String(), "  waited      300ms ")
		require.Contains(t, out.String(), "  waited      20ms ")
		require.Contains(t, out.String(), "still running after return: 0 goroutine(s)\n")
	})
}
