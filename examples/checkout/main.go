// Command checkout runs one simulated checkout twice, first with ad-hoc
// goroutines and a sync.WaitGroup, then with a leash task group, and reports
// for each how long the caller waited, which error it got and from which
// dependency, and how many goroutines were still running when it returned.
//
// The checkout fans out to four dependencies: inventory, payment, a shipping
// quote and recommendations. The payment fails early; the shipping quote is
// very slow but stops when its context is cancelled. The leash checkout gives
// the items' reservation back under shield.Cleanup although its context is
// cancelled, and a third run, with a card that is accepted, shows
// timeout.WaitForValue bounding the slow shipping quote.
//
//	go run ./examples/checkout             # about 4.5s
//	go run ./examples/checkout -scale 0.1  # the same, 10x faster
//	go run ./examples/checkout -debug      # a task that ignores cancellation, reported as a straggler
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/leash-go/leash/taskgroup"
)

func main() {
	scale := flag.Float64("scale", 1, "multiply every simulated delay by `factor` (0.05 to 2)")
	debug := flag.Bool("debug", false, "add a legacy fraud check that ignores cancellation, and report it as a straggler")
	flag.Parse()
	if !(*scale >= 0.05 && *scale <= 2) {
		fmt.Fprintf(os.Stderr, "checkout: -scale %v: want a factor from 0.05 (shorter delays drown in scheduling noise) to 2 (the run stays under 10s)\n", *scale)
		os.Exit(2)
	}
	do := run
	if *debug {
		do = runDebug
	}
	if err := do(os.Stdout, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

// demoOrder is the order both checkouts try to place: its card is declined.
var demoOrder = order{id: "A-1001", items: []string{"sku-shoes"}, card: "4000-0000-0000-0002", declined: true}

// acceptedOrder is the same order with a card that is accepted.
var acceptedOrder = order{id: "A-1002", items: []string{"sku-shoes"}, card: "4242-4242-4242-4242"}

// A checkoutFunc is one way to write the checkout.
type checkoutFunc func(ctx context.Context, d *deps, o order) (receipt, error)

// run places demoOrder with each checkout, delays multiplied by scale, and
// writes the report to w. It takes its time from the time package only, so
// a test can run it inside a synctest bubble, in fake time.
func run(w io.Writer, scale float64) error {
	ctx := context.Background()
	d := newDeps(scaledDelays(scale))
	fmt.Fprintf(w, "leash checkout demo: one checkout without leash and with it (payment fails after %s; the shipping quote takes %s unless cancelled)\n",
		round(d.delays.payment), round(d.delays.shipping))

	fmt.Fprintf(w, "\nwithout leash (go + sync.WaitGroup):\n")
	base := ownGoroutines()
	adhoc := measure(ctx, d, checkoutAdHoc, demoOrder)
	report(w, adhoc, fmt.Sprintf("for the slowest dependency, the shipping quote; the payment had failed after %s", round(d.delays.payment)))
	if adhoc.leftover > 0 {
		fmt.Fprintf(w, "  (the audit-log write it fired with `go` and forgot)\n")
		// Let the leftover finish, so it cannot disturb the next run's count.
		waited, err := settle(d, base, adhoc.returned, 10*time.Second)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  ... it finished %s after the return; only then does the next run start, so the two do not interfere\n", round(waited))
	}

	fmt.Fprintf(w, "\nwith leash (taskgroup + shield):\n")
	grouped := measure(ctx, d, checkoutWithLeash, demoOrder)
	report(w, grouped, fmt.Sprintf("returned when the payment failed and the reservation was given back (%s)", round(d.delays.release)))
	for _, rsv := range d.releasedReservations() {
		fmt.Fprintf(w, "  cleanup     reservation %s given back under shield.Cleanup, though the checkout's context was cancelled\n", rsv)
	}

	fmt.Fprintf(w, "\nwith leash, the card accepted, the carrier still slow (taskgroup + timeout):\n")
	accepted := measure(ctx, d, checkoutWithLeash, acceptedOrder)
	report(w, accepted, fmt.Sprintf("the shipping quote's budget of %s", round(d.delays.quoteBudget)))
	fmt.Fprintf(w, "  shipping    $%d.%02d, %s\n", accepted.receipt.shippingCents/100, accepted.receipt.shippingCents%100, accepted.receipt.shippingNote)
	return nil
}

// outcome is what a caller of one checkout saw.
type outcome struct {
	waited   time.Duration // from the call to its return
	returned time.Time     // when it returned
	receipt  receipt       // what it returned
	err      error         // what it returned
	leftover int           // goroutines still running after it returned
}

// measure calls checkout with o and times it; leftover counts the goroutines
// the checkout started that are still running when it has returned.
func measure(ctx context.Context, d *deps, checkout checkoutFunc, o order) outcome {
	base := ownGoroutines()
	start := time.Now()
	r, err := checkout(ctx, d, o)
	returned := time.Now()
	return outcome{waited: returned.Sub(start), returned: returned, receipt: r, err: err, leftover: stillRunning(base)}
}

// stillRunning returns how many more goroutines than base ownGoroutines
// finds.
//
// A goroutine that has called wg.Done has finished its work but may not have
// exited yet when Wait returns (this holds for a task group as much as for a
// bare WaitGroup), so stillRunning gives such goroutines up to 5ms to go
// before it counts them. Real work, like a forgotten audit-log write, takes
// longer and is counted. (Inside a synctest bubble each 1ms sleep also waits
// until every other goroutine of the bubble has exited or blocked.)
func stillRunning(base int) int {
	n := ownGoroutines()
	for i := 0; i < 5 && n > base; i++ {
		time.Sleep(time.Millisecond)
		n = ownGoroutines()
	}
	return max(n-base, 0)
}

// settle waits until d has no call in progress and no more than base
// goroutines are running, and returns how long after since that was. It
// gives up with an error after limit.
func settle(d *deps, base int, since time.Time, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		// Counting goroutines stops the world: look only once d is idle.
		if d.running.Load() == 0 && ownGoroutines() <= base {
			return time.Since(since), nil
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("goroutines still running after %s", limit)
		}
		time.Sleep(time.Millisecond)
	}
}

// ownGoroutines counts the live goroutines that this program's code or leash
// started: those whose stack says they were created by a function of package
// main (this program; in its test binary, the package's import path) or of
// the leash module.
//
// It is runtime.NumGoroutine restricted to the goroutines the demo is about:
// in a test binary, the testing package's own goroutines come and go while a
// test runs, and would make a bare NumGoroutine count wrong.
func ownGoroutines() int {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "\ncreated by main.") || strings.Contains(g, "\ncreated by github.com/leash-go/leash/") {
			count++
		}
	}
	return count
}

// report writes one checkout's outcome; why explains how long it waited.
func report(w io.Writer, o outcome, why string) {
	fmt.Fprintf(w, "  waited      %-7s (%s)\n", round(o.waited), why)
	fmt.Fprintf(w, "  error       %v\n", o.err)
	fmt.Fprintf(w, "  from        %s\n", from(o.err))
	fmt.Fprintf(w, "  still running after return: %d goroutine(s)\n", o.leftover)
}

// from says which dependency err came from, as far as err tells: a task
// group's error names its task; a bare error names nothing.
func from(err error) string {
	if err == nil {
		return "-"
	}
	var te *taskgroup.TaskError
	if !errors.As(err, &te) {
		return "? (a bare error: which dependency?)"
	}
	s := fmt.Sprintf("%s (task #%d)", te.Name, te.Index)
	var ge *taskgroup.Error
	if errors.As(err, &ge) && ge.Cancelled > 0 {
		s += fmt.Sprintf("; %d other task(s) cancelled", ge.Cancelled)
	}
	return s
}

// round makes a duration stable enough to print: cut to the hundredth of a
// second, so the few milliseconds a timer fires late do not show.
func round(d time.Duration) time.Duration { return d.Truncate(10 * time.Millisecond) }
