package main

import (
	"context"

	"github.com/leash-go/leash/taskgroup"
)

// checkoutWithLeash is the same checkout with a task group: every dependency
// is a named task of the group "checkout".
//
// When the payment fails, the group cancels its context at once (TG2): the
// shipping quote and the recommendations stop, and Wait returns as soon as
// they have, with an error that names the failed task. Nothing the checkout
// started outlives the call (TG1).
func checkoutWithLeash(ctx context.Context, d *deps, o order) (receipt, error) {
	g := taskgroup.New(ctx, taskgroup.WithName("checkout"))
	inventory := taskgroup.SpawnNamed(g, "inventory", func(ctx context.Context) (string, error) {
		return d.reserveInventory(ctx, o)
	})
	payment := taskgroup.SpawnNamed(g, "payment", func(ctx context.Context) (string, error) {
		return d.charge(ctx, o)
	})
	shipping := taskgroup.SpawnNamed(g, "shipping-quote", func(ctx context.Context) (int, error) {
		return d.quoteShipping(ctx, o)
	})
	recommendations := taskgroup.SpawnNamed(g, "recommendations", func(ctx context.Context) ([]string, error) {
		return d.recommend(ctx, o)
	})
	if err := g.Wait(); err != nil {
		return receipt{}, err
	}

	// Every task succeeded, so every Result is its value and a nil error.
	var r receipt
	r.reservation, _ = inventory.Result()
	r.paymentID, _ = payment.Result()
	r.shippingCents, _ = shipping.Result()
	r.recommendations, _ = recommendations.Result()
	return r, nil
}
