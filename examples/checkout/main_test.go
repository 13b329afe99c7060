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

		require.Equal(t, d.delays.payment+d.delays.release, time.Since(start), "returns once the payment failed and the reservation is back")
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
		require.Equal(t, d.delays.payment+d.delays.release, time.Since(start))
		require.Zero(t, d.running.Load(), "no dependency call is still running")
		require.Equal(t, base, ownGoroutines(), "no goroutine is left behind")
	})
}

func TestCheckoutWithLeash_ReleasesTheReservationUnderShield(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDeps(scaledDelays(1))
		_, err := checkoutWithLeash(t.Context(), d, demoOrder)
		require.ErrorIs(t, err, errCardDeclined)
		require.Equal(t, []string{"rsv-A-1001"}, d.releasedReservations(),
			"given back although the checkout's context was cancelled")
	})
}

func TestCheckoutWithLeash_BoundsTheSlowShippingQuote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDeps(scaledDelays(1))
		base := ownGoroutines()
		start := time.Now()

		r, err := checkoutWithLeash(t.Context(), d, acceptedOrder)

		require.NoError(t, err)
		require.Equal(t, d.delays.quoteBudget, time.Since(start), "waits exactly the quote's budget, not the 3s quote")
		require.Equal(t, flatRateCents, r.shippingCents)
		require.Contains(t, r.shippingNote, "flat rate")
		require.Equal(t, "pay-A-1002", r.paymentID)
		require.Equal(t, "rsv-A-1002", r.reservation)
		require.Empty(t, d.releasedReservations(), "a checkout that succeeded keeps its reservation")
		synctest.Wait()
		require.Zero(t, d.running.Load(), "the cancelled quote stopped before WaitForValue returned")
		require.Equal(t, base, ownGoroutines())
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
		require.Equal(t, `leash checkout demo: one checkout without leash and with it (payment fails after 200ms; the shipping quote takes 3s unless cancelled)

without leash (go + sync.WaitGroup):
  waited      3s      (for the slowest dependency, the shipping quote; the payment had failed after 200ms)
  error       card declined
  from        ? (a bare error: which dependency?)
  still running after return: 1 goroutine(s)
  (the audit-log write it fired with `+"`go`"+` and forgot)
  ... it finished 1s after the return; only then does the next run start, so the two do not interfere

with leash (taskgroup + shield):
  waited      250ms   (returned when the payment failed and the reservation was given back (50ms))
  error       taskgroup "checkout": task "payment" (#1): card declined (2 tasks cancelled)
  from        payment (task #1); 2 other task(s) cancelled
  still running after return: 0 goroutine(s)
  cleanup     reservation rsv-A-1001 given back under shield.Cleanup, though the checkout's context was cancelled

with leash, the card accepted, the carrier still slow (taskgroup + timeout):
  waited      1s      (the shipping quote's budget of 1s)
  error       <nil>
  from        -
  still running after return: 0 goroutine(s)
  shipping    $9.90, flat rate: the carrier's quote did not come within 1s, so it was cancelled and waited for
`, out.String())
	})
}

func TestRun_Scale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		start := time.Now()
		require.NoError(t, run(&out, 0.1))
		require.Less(t, time.Since(start), time.Second, "a tenth of the delays: 300ms + 100ms + 25ms + 100ms")
		require.Contains(t, out.String(), "payment fails after 20ms; the shipping quote takes 300ms")
		require.Contains(t, out.String(), "  waited      300ms ")
		require.Contains(t, out.String(), "  waited      20ms ")
		require.Contains(t, out.String(), "  waited      100ms ")
		require.Contains(t, out.String(), "still running after return: 0 goroutine(s)\n")
	})
}

func TestRunDebug_ReportsTheStragglerAndStillFinishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		start := time.Now()
		require.NoError(t, runDebug(&out, 1))
		d := scaledDelays(1)
		require.Equal(t, d.fraudCheck+d.release, time.Since(start), "Wait waited for the straggler, then the reservation went back")
		report := out.String()
		require.Contains(t, report, `STRAGGLER   task "fraud-check" (#4) of group "checkout" still running 100ms after the group was cancelled (cause: task "payment" (#1): card declined)`)
		require.Contains(t, report, ".(*deps).legacyFraudCheck(", "the report carries the straggler's stack")
		require.Equal(t, 1, strings.Count(report, "STRAGGLER"), "reported once")
		require.Contains(t, report, "still running after return: 0 goroutine(s)")
	})
}
