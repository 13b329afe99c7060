package main

import (
	"context"
	"sync"
)

// checkoutAdHoc is the checkout as it is usually written without leash: a
// goroutine per dependency, a sync.WaitGroup, results in shared variables and
// an error slot where the first error wins.
//
// Nothing cancels ctx when the payment fails, so the caller waits for the
// slowest dependency even though its answer is no longer needed (the shipping
// quote would stop if anyone cancelled it: nobody does). The error it returns
// does not say which dependency failed. And the audit-log write is fired and
// forgotten: it is still running when checkoutAdHoc has returned.
func checkoutAdHoc(ctx context.Context, d *deps, o order) (receipt, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		r        receipt
	)
	setErr := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}

	wg.Add(4)
	//leash:ignore LV1 the deliberate ad-hoc version of the checkout, shown beside the leash one
	go func() {
		defer wg.Done()
		res, err := d.reserveInventory(ctx, o)
		if err != nil {
			setErr(err)
			return
		}
		r.reservation = res
	}()
	//leash:ignore LV1 the deliberate ad-hoc version of the checkout, shown beside the leash one
	go func() {
		defer wg.Done()
		id, err := d.charge(ctx, o)
		if err != nil {
			setErr(err)
			return
		}
		r.paymentID = id
	}()
	//leash:ignore LV1 the deliberate ad-hoc version of the checkout, shown beside the leash one
	go func() {
		defer wg.Done()
		cents, err := d.quoteShipping(ctx, o)
		if err != nil {
			setErr(err)
			return
		}
		r.shippingCents = cents
	}()
	//leash:ignore LV1 the deliberate ad-hoc version of the checkout, shown beside the leash one
	go func() {
		defer wg.Done()
		recs, err := d.recommend(ctx, o)
		if err != nil {
			setErr(err)
			return
		}
		r.recommendations = recs
	}()
	wg.Wait()

	// Don't make the customer wait for the audit log. (The typical bug: this
	// goroutine outlives the call, and nobody will ever see its error.)
	//leash:ignore LV1 the deliberate ad-hoc version of the checkout, shown beside the leash one
	go d.audit(context.WithoutCancel(ctx), o, firstErr)

	if firstErr != nil {
		return receipt{}, firstErr
	}
	return r, nil
}
