package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/leash-go/leash/shield"
	"github.com/leash-go/leash/taskgroup"
	"github.com/leash-go/leash/timeout"
)

// checkoutWithLeash is the same checkout with a task group: every dependency
// is a named task of the group "checkout".
//
// When the payment fails, the group cancels its context at once (TG2): the
// shipping quote and the recommendations stop, and Wait returns as soon as
// they have, with an error that names the failed task. Nothing the checkout
// started outlives the call (TG1).
//
// Two more tools keep the edges honest. The shipping quote gets a budget of
// its own with timeout.WaitForValue: when the carrier is slow, the quote is
// cancelled and waited for, and the checkout falls back to a flat rate. And
// when the checkout fails after the items were reserved, the reservation is
// given back under shield.Cleanup: the checkout's context is cancelled by
// then, so the release runs with a context of its own, bounded by its own
// timeout, and its error, if any, joins the checkout's.
func checkoutWithLeash(ctx context.Context, d *deps, o order) (r receipt, err error) {
	return checkoutObserved(ctx, d, o, nil)
}

// checkoutObserved is checkoutWithLeash; when debug is not nil it also runs
// a legacy fraud check that ignores cancellation, and reports every task
// still running debug.stragglerAfter after the checkout was cancelled, with
// its stack, to debug.w (OB4). The checkout still finishes: Wait waits for
// the straggler, and says who it was waiting for.
func checkoutObserved(ctx context.Context, d *deps, o order, debug *debugReport) (r receipt, err error) {
	opts := []taskgroup.Option{taskgroup.WithName("checkout")}
	if debug != nil {
		opts = append(opts,
			taskgroup.WithStragglerTimeout(d.delays.stragglerAfter),
			taskgroup.WithHooks(taskgroup.Hooks{OnStraggler: debug.straggler}))
	}
	g := taskgroup.New(ctx, opts...)
	inventory := taskgroup.SpawnNamed(g, "inventory", func(ctx context.Context) (string, error) {
		return d.reserveInventory(ctx, o)
	})
	payment := taskgroup.SpawnNamed(g, "payment", func(ctx context.Context) (string, error) {
		return d.charge(ctx, o)
	})
	shipping := taskgroup.SpawnNamed(g, "shipping-quote", func(ctx context.Context) (receipt, error) {
		return quoteWithin(ctx, d, o)
	})
	recommendations := taskgroup.SpawnNamed(g, "recommendations", func(ctx context.Context) ([]string, error) {
		return d.recommend(ctx, o)
	})
	if debug != nil {
		g.GoNamed("fraud-check", func(context.Context) error { return d.legacyFraudCheck(o) })
	}
	if err := g.Wait(); err != nil {
		if reservation, rerr := inventory.Result(); rerr == nil {
			// g.Context() is cancelled: d.releaseInventory would give up at
			// once. The shield gives it a context of its own.
			shield.Cleanup(g.Context(), d.delays.releaseBudget, &err, func(ctx context.Context) error {
				return d.releaseInventory(ctx, reservation)
			})
		}
		return receipt{}, err
	}

	// Every task succeeded, so every Result is its value and a nil error.
	r, _ = shipping.Result()
	r.reservation, _ = inventory.Result()
	r.paymentID, _ = payment.Result()
	r.recommendations, _ = recommendations.Result()
	return r, nil
}

// quoteWithin asks for a shipping quote, waiting at most the quote budget:
// past it, the quote is cancelled, WaitForValue waits for it to stop, and the
// order ships at the flat rate.
func quoteWithin(ctx context.Context, d *deps, o order) (receipt, error) {
	cents, err := timeout.WaitForValue(ctx, d.delays.quoteBudget, func(ctx context.Context) (int, error) {
		return d.quoteShipping(ctx, o)
	})
	switch {
	case errors.Is(err, timeout.ErrTimeout):
		return receipt{
			shippingCents: flatRateCents,
			shippingNote:  fmt.Sprintf("flat rate: the carrier's quote did not come within %s, so it was cancelled and waited for", round(d.delays.quoteBudget)),
		}, nil
	case err != nil:
		return receipt{}, err // the checkout was cancelled: an echo of it
	}
	return receipt{shippingCents: cents, shippingNote: "the carrier's quote"}, nil
}
