package lv4

import (
	"context"
	"time"
)

// Non-findings.
func noContext(ch chan int) int {
	time.Sleep(time.Millisecond)
	return <-ch
}

func watches(ctx context.Context, ch chan int, stop chan struct{}) {
	select {
	case <-ch:
	case <-ctx.Done():
	}
	select {
	case <-ch:
	case <-stop:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case <-ch:
	case <-time.After(time.Second):
	}
	<-ctx.Done()
}

// Joining a goroutine of the same function, which has its own cancellation.
func join(ctx context.Context, work func(context.Context) error) error {
	errc := make(chan error, 1)
	go func() { errc <- work(ctx) }()
	return <-errc
}

// A context the function chose to ignore is not one it has.
func ignored(_ context.Context, ch chan int) { <-ch }

// Ranging over a channel ends when the sender closes it.
func drain(ctx context.Context, ch chan int) {
	for range ch {
	}
}
