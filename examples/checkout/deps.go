package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// errCardDeclined is what the payment service answers. Like most client
// errors it does not say which dependency it came from: that is the caller's
// job, and the ad-hoc checkout forgets to do it.
var errCardDeclined = errors.New("card declined")

// delays are how long each simulated dependency takes.
type delays struct {
	inventory       time.Duration // reserves the items
	payment         time.Duration // then declines the card
	shipping        time.Duration // the slow one; stops early when cancelled
	recommendations time.Duration
	audit           time.Duration // writing one audit-log record
	release         time.Duration // giving a reservation back
	fraudCheck      time.Duration // the legacy fraud check of -debug, which cannot be cancelled
	stragglerAfter  time.Duration // -debug: report tasks still running this long after the cancellation

	quoteBudget   time.Duration // how long the leash checkout waits for a shipping quote
	releaseBudget time.Duration // the shield's bound on giving a reservation back
}

// scaledDelays returns the demo's delays multiplied by scale: at scale 1 the
// payment fails after 200ms and the shipping quote takes 3s.
func scaledDelays(scale float64) delays {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	return delays{
		inventory:       s(100 * time.Millisecond),
		payment:         s(200 * time.Millisecond),
		shipping:        s(3 * time.Second),
		recommendations: s(500 * time.Millisecond),
		audit:           s(1 * time.Second),
		release:         s(50 * time.Millisecond),
		fraudCheck:      s(1500 * time.Millisecond),
		stragglerAfter:  s(100 * time.Millisecond),
		quoteBudget:     s(1 * time.Second),
		releaseBudget:   s(500 * time.Millisecond),
	}
}

// order is what the customer checks out.
type order struct {
	id       string
	items    []string
	card     string
	declined bool // the payment service declines this card
}

// receipt is what a successful checkout returns.
type receipt struct {
	reservation     string
	paymentID       string
	shippingCents   int
	shippingNote    string // how the shipping price was found
	recommendations []string
}

// flatRateCents is what shipping costs when the carrier does not answer in
// time.
const flatRateCents = 990

// deps are the checkout's simulated dependencies. Each call takes its delay
// and honours its context: when ctx is done first, the call stops at once and
// returns an error wrapping ctx.Err(), as a well-behaved client does.
type deps struct {
	delays  delays
	running atomic.Int64 // calls in progress, for the tests

	mu       sync.Mutex
	released []string // reservations given back
}

func newDeps(d delays) *deps { return &deps{delays: d} }

// reserveInventory holds the order's items in the warehouse.
func (d *deps) reserveInventory(ctx context.Context, o order) (string, error) {
	if err := d.work(ctx, d.delays.inventory); err != nil {
		return "", fmt.Errorf("inventory: %w", err)
	}
	return "rsv-" + o.id, nil
}

// releaseInventory gives a reservation back. Like every call it stops at
// once on a cancelled context: called with the context of a checkout that was
// just cancelled, it would never release anything.
func (d *deps) releaseInventory(ctx context.Context, reservation string) error {
	if err := d.work(ctx, d.delays.release); err != nil {
		return fmt.Errorf("release %s: %w", reservation, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.released = append(d.released, reservation)
	return nil
}

// releasedReservations returns the reservations given back so far.
func (d *deps) releasedReservations() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.released...)
}

// charge charges the order's card, after the payment service's delay; it
// declines the cards of orders marked declined.
func (d *deps) charge(ctx context.Context, o order) (string, error) {
	if err := d.work(ctx, d.delays.payment); err != nil {
		return "", fmt.Errorf("payment: %w", err)
	}
	if o.declined {
		return "", errCardDeclined
	}
	return "pay-" + o.id, nil
}

// quoteShipping asks the carrier for a price: very slow, but it stops as soon
// as its context is cancelled.
func (d *deps) quoteShipping(ctx context.Context, o order) (int, error) {
	if err := d.work(ctx, d.delays.shipping); err != nil {
		return 0, fmt.Errorf("shipping quote: %w", err)
	}
	return 499 * len(o.items), nil
}

// legacyFraudCheck asks an old fraud-scoring service, whose client takes no
// context: once started, nothing can stop it. The -debug checkout adds it to
// show how a task group reports such a straggler.
func (d *deps) legacyFraudCheck(o order) error {
	d.running.Add(1)
	defer d.running.Add(-1)
	time.Sleep(d.delays.fraudCheck)
	_ = o
	return nil
}

// recommend fetches "customers also bought" for the confirmation page.
func (d *deps) recommend(ctx context.Context, o order) ([]string, error) {
	if err := d.work(ctx, d.delays.recommendations); err != nil {
		return nil, fmt.Errorf("recommendations: %w", err)
	}
	return []string{"sku-socks", "sku-laces"}, nil
}

// audit writes the checkout's outcome to the (slow) audit log.
func (d *deps) audit(ctx context.Context, o order, outcome error) error {
	if err := d.work(ctx, d.delays.audit); err != nil {
		return fmt.Errorf("audit log: order %s: %w", o.id, err)
	}
	_ = outcome // a real audit log would store it
	return nil
}

// work stands for a remote call that takes dur, or less when ctx is done
// first. It blocks on a timer and ctx.Done(), so inside a synctest bubble it
// runs in fake time.
func (d *deps) work(ctx context.Context, dur time.Duration) error {
	d.running.Add(1)
	defer d.running.Add(-1)
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
