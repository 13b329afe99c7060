package semaphore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/leash-go/leash/semaphore"
)

// A semaphore bounds how much work runs at once: here, jobs of different
// sizes share a budget of 4 permits.
func ExampleSemaphore() {
	ctx := context.Background()
	sem := semaphore.New(4)
	sizes := []int64{1, 3, 2, 4}

	var wg sync.WaitGroup
	var mu sync.Mutex
	total := int64(0)
	for _, size := range sizes {
		if err := sem.Acquire(ctx, size); err != nil {
			fmt.Println("acquire:", err)
			break
		}
		wg.Go(func() {
			defer sem.Release(size)
			mu.Lock()
			total += size
			mu.Unlock()
		})
	}
	wg.Wait()
	fmt.Println("work done:", total)
	fmt.Printf("%+v\n", sem.Stats())
	// Output:
	// work done: 10
	// {Capacity:4 InUse:0 Waiters:0}
}

// Acquire gives up when its context is done; the error matches both
// ctx.Err() and the cause (SEM2).
func ExampleSemaphore_Acquire() {
	sem := semaphore.New(1)
	sem.TryAcquire(1) // all taken

	overloaded := errors.New("overloaded")
	ctx, cancel := context.WithTimeoutCause(context.Background(), time.Millisecond, overloaded)
	defer cancel()
	err := sem.Acquire(ctx, 1)
	fmt.Println(errors.Is(err, context.DeadlineExceeded), errors.Is(err, overloaded))
	fmt.Println(sem.Acquire(context.Background(), 2))
	// Output:
	// true true
	// semaphore: request larger than capacity
}

// TryAcquire never waits, and never passes anyone who does (SEM1).
func ExampleSemaphore_TryAcquire() {
	sem := semaphore.New(2)
	fmt.Println(sem.TryAcquire(2))
	fmt.Println(sem.TryAcquire(1))
	sem.Release(2)
	fmt.Println(sem.TryAcquire(1))
	// Output:
	// true
	// false
	// true
}

// Resize changes the capacity while the semaphore is in use. Shrinking
// revokes nothing: InUse stays above the capacity until permits come back
// (SEM4).
func ExampleSemaphore_Resize() {
	sem := semaphore.New(4)
	sem.TryAcquire(4)

	sem.Resize(2)
	fmt.Printf("%+v\n", sem.Stats())
	fmt.Println(sem.TryAcquire(1))

	sem.Release(3)
	fmt.Printf("%+v\n", sem.Stats())
	fmt.Println(sem.TryAcquire(1))

	sem.Resize(8)
	fmt.Println(sem.TryAcquire(6))
	fmt.Printf("%+v\n", sem.Stats())
	// Output:
	// {Capacity:2 InUse:4 Waiters:0}
	// false
	// {Capacity:2 InUse:1 Waiters:0}
	// true
	// true
	// {Capacity:8 InUse:8 Waiters:0}
}

// Close turns every waiter away with ErrClosed; holders can still give their
// permits back (SEM5).
func ExampleSemaphore_Close() {
	sem := semaphore.New(1)
	sem.TryAcquire(1)

	waited := make(chan error)
	go func() { waited <- sem.Acquire(context.Background(), 1) }()
	for sem.Stats().Waiters == 0 {
		time.Sleep(time.Millisecond) // an example; tests use testing/synctest
	}

	sem.Close()
	fmt.Println(<-waited)
	fmt.Println(sem.Acquire(context.Background(), 1))
	sem.Release(1)
	fmt.Printf("%+v\n", sem.Stats())
	// Output:
	// semaphore: closed
	// semaphore: closed
	// {Capacity:1 InUse:0 Waiters:0}
}
