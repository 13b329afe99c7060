package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/leash-go/leash/taskgroup"
)

// A debugReport writes the straggler reports of the -debug checkout.
type debugReport struct {
	mu sync.Mutex
	w  io.Writer
}

// straggler is the group's Hooks.OnStraggler: it names the task that keeps
// Wait waiting and shows where it is stuck.
func (r *debugReport) straggler(s taskgroup.Straggler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "  STRAGGLER   task %q (#%d) of group %q still running %s after the group was cancelled (cause: %v)\n",
		s.Name, s.Index, s.Group, round(s.SinceCancel), s.Cause)
	fmt.Fprintf(r.w, "              its goroutine, where it is stuck:\n")
	for _, line := range bytes.Split(bytes.TrimSpace(stackOfInterest(s.Stack)), []byte("\n")) {
		fmt.Fprintf(r.w, "                %s\n", line)
	}
}

// stackOfInterest keeps the top of a goroutine's stack, down to the frame
// that calls into the task group: what the straggler was doing.
func stackOfInterest(stack []byte) []byte {
	if i := bytes.Index(stack, []byte("github.com/leash-go/leash/taskgroup.")); i > 0 {
		return stack[:bytes.LastIndexByte(stack[:i], '\n')]
	}
	return stack
}

// runDebug places demoOrder once with the -debug checkout: a fraud check
// that ignores cancellation keeps the checkout waiting, and the group reports
// it as a straggler while the program still finishes.
func runDebug(w io.Writer, scale float64) error {
	d := newDeps(scaledDelays(scale))
	fmt.Fprintf(w, "leash checkout demo, -debug: a legacy fraud check (%s) ignores cancellation; stragglers are reported %s after the checkout is cancelled\n\n",
		round(d.delays.fraudCheck), round(d.delays.stragglerAfter))
	fmt.Fprintf(w, "with leash (taskgroup + WithStragglerTimeout):\n")
	debug := &debugReport{w: w}
	o := measure(context.Background(), d, func(ctx context.Context, d *deps, o order) (receipt, error) {
		return checkoutObserved(ctx, d, o, debug)
	}, demoOrder)
	report(w, o, fmt.Sprintf("for the fraud check, which ignored the cancellation after the payment failed at %s", round(d.delays.payment)))
	return nil
}
