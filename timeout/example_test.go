package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leash-go/leash/timeout"
)

// slowQuote stands for a call that honours its context but would take longer
// than the caller can wait.
func slowQuote(ctx context.Context) (int, error) {
	select {
	case <-time.After(time.Hour):
		return 995, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("shipping quote: %w", ctx.Err())
	}
}

func ExampleWaitFor() {
	err := timeout.WaitFor(context.Background(), 5*time.Millisecond, func(ctx context.Context) error {
		_, err := slowQuote(ctx)
		return err
	})
	fmt.Println(err)
	fmt.Println("our timeout:", errors.Is(err, timeout.ErrTimeout))
	fmt.Println("a deadline: ", errors.Is(err, context.DeadlineExceeded))
	// Output:
	// timeout: timed out after 5ms: shipping quote: context deadline exceeded
	// our timeout: true
	// a deadline:  true
}

func ExampleWaitFor_parentCancelled() {
	// The caller gave up first: that is not our timeout, and the error is
	// fn's own.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := timeout.WaitFor(ctx, time.Second, func(ctx context.Context) error {
		_, err := slowQuote(ctx)
		return err
	})
	fmt.Println(err)
	fmt.Println("our timeout:", errors.Is(err, timeout.ErrTimeout))
	// Output:
	// shipping quote: context canceled
	// our timeout: false
}

func ExampleWaitForValue() {
	cents, err := timeout.WaitForValue(context.Background(), time.Second, func(ctx context.Context) (int, error) {
		return 995, nil // a quote that answers in time
	})
	fmt.Println(cents, err)
	// Output: 995 <nil>
}

func ExampleGrace() {
	release := make(chan struct{})
	stubborn := func(ctx context.Context) error {
		<-release // ignores ctx
		return nil
	}
	err := timeout.WaitFor(context.Background(), time.Millisecond, stubborn, timeout.Grace(time.Millisecond))
	fmt.Println(err)
	fmt.Println("abandoned:", errors.Is(err, timeout.ErrAbandoned), "timed out:", errors.Is(err, timeout.ErrTimeout))
	fmt.Println("still running:", timeout.Abandoned() > 0)
	close(release) // the abandoned goroutine returns now, and leaves the count
	// Output:
	// timeout: WaitFor abandoned fn, still running 1ms after its 1ms timeout
	// abandoned: true timed out: true
	// still running: true
}

func ExampleCall() {
	// legacyLookup blocks and takes no context.
	legacyLookup := func() (string, error) { return "SKU-1042", nil }
	sku, err := timeout.Call(context.Background(), time.Second, legacyLookup)
	fmt.Println(sku, err)
	// Output: SKU-1042 <nil>
}

func ExampleRemaining() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	left, ok := timeout.Remaining(ctx)
	fmt.Println(left > 59*time.Minute, ok)

	left, ok = timeout.Remaining(context.Background())
	fmt.Println(left, ok)
	// Output:
	// true true
	// 0s false
}
