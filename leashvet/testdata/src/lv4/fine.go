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
func drainRange(ctx context.Context, ch chan int) {
	for range ch {
	}
}

// A channel used as a semaphore: the receive gives a slot back.
func semaphore(ctx context.Context, sem chan struct{}, work func()) {
	sem <- struct{}{}
	defer func() { <-sem }()
	work()
	<-sem
}

// A variable that holds ctx.Done() is the context's cancellation.
func doneVar(ctx context.Context) {
	done := ctx.Done()
	<-done
}

// Draining a stopped timer does not wait.
func drain(ctx context.Context, t *time.Timer) {
	if !t.Stop() {
		<-t.C
	}
}

// A channel named like a stop signal ends the select.
func race(ctx context.Context, results chan int, returned chan struct{}) {
	select {
	case results <- 1:
	case <-returned:
	}
}

// Outside a task function, a bare receive is most often a hand-off another
// goroutine completes: not reported.
func handOff(ctx context.Context, ready chan int) int { return <-ready }
