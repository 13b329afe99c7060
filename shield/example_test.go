package shield_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leash-go/leash/shield"
)

type reservation struct{ sku string }

func (r *reservation) Release(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // a cancelled context would stop the release here
	}
	fmt.Println("released", r.sku)
	return nil
}

func ExampleCleanup() {
	checkout := func(ctx context.Context) (err error) {
		res := &reservation{sku: "SKU-1042"}
		// Runs even though ctx is cancelled by now, with 2s of its own.
		defer shield.Cleanup(ctx, 2*time.Second, &err, res.Release)
		return errors.New("payment declined")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(checkout(ctx))
	// Output:
	// released SKU-1042
	// payment declined
}

func ExampleDo() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the request is gone, but the audit record must be written
	err := shield.Do(ctx, time.Second, func(ctx context.Context) error {
		fmt.Println("writing audit record; ctx.Err() =", ctx.Err())
		return nil
	})
	fmt.Println(err)
	// Output:
	// writing audit record; ctx.Err() = <nil>
	// <nil>
}

func ExampleContext() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sctx, release := shield.Context(ctx, time.Second)
	defer release()
	_, hasDeadline := sctx.Deadline()
	fmt.Println(sctx.Err(), hasDeadline)
	// Output: <nil> true
}
