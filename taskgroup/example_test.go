package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/leash-go/leash/taskgroup"
)

func ExampleGroup() {
	g := taskgroup.New(context.Background(), taskgroup.WithName("checkout"))
	// Two lookups that would take a while: they give up when the group's
	// context is cancelled, and say so with its error.
	for _, name := range []string{"user", "prices"} {
		g.GoNamed(name, func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("%s lookup: %w", name, ctx.Err())
		})
	}
	g.GoNamed("inventory", func(ctx context.Context) error {
		return errors.New("inventory: service unavailable")
	})
	// The failure cancels the lookups at once (TG2); their errors only echo
	// the cancellation, so they are counted, not listed (TG3).
	err := g.Wait()
	fmt.Println(err)
	// Output:
	// taskgroup "checkout": task "inventory" (#2): inventory: service unavailable (2 tasks cancelled)
}

func ExampleWithLimit() {
	var (
		mu          sync.Mutex
		running     int
		mostRunning int
		done        int
	)
	g := taskgroup.New(context.Background(), taskgroup.WithLimit(3))
	for range 20 {
		g.Go(func(ctx context.Context) error { // blocks while 3 tasks run
			mu.Lock()
			running++
			mostRunning = max(mostRunning, running)
			mu.Unlock()

			// ... the work ...

			mu.Lock()
			running--
			done++
			mu.Unlock()
			return nil
		})
	}
	err := g.Wait()
	fmt.Println("done:", done, "error:", err)
	fmt.Println("never more than 3 at once:", mostRunning <= 3)
	// Output:
	// done: 20 error: <nil>
	// never more than 3 at once: true
}

func ExampleSpawn() {
	g := taskgroup.New(context.Background())
	price := taskgroup.SpawnNamed(g, "price", func(ctx context.Context) (int, error) {
		return 995, nil // cents
	})
	stock := taskgroup.SpawnNamed(g, "stock", func(ctx context.Context) (map[string]int, error) {
		return map[string]int{"Lyon": 3, "Oslo": 0}, nil
	})
	if err := g.Wait(); err != nil {
		fmt.Println(err)
		return
	}
	// Every task has returned: Result does not block.
	cents, _ := price.Result()
	levels, _ := stock.Result()
	fmt.Printf("%d.%02d EUR, %d in Lyon\n", cents/100, cents%100, levels["Lyon"])
	// Output:
	// 9.95 EUR, 3 in Lyon
}

func ExampleMap() {
	words := []string{"structured", "concurrency", "in", "go"}
	upper, err := taskgroup.Map(context.Background(), words, func(ctx context.Context, w string) (string, error) {
		return strings.ToUpper(w), nil
	}, taskgroup.WithLimit(2))
	fmt.Println(upper, err) // in the order of words, whatever order the items ran in
	// Output:
	// [STRUCTURED CONCURRENCY IN GO] <nil>
}

func ExampleMap_failure() {
	ids := []int{7, 0, 9}
	names, err := taskgroup.Map(context.Background(), ids, func(ctx context.Context, id int) (string, error) {
		if id == 0 {
			return "", errors.New("no user 0")
		}
		<-ctx.Done() // the failure cancels the other items
		return "", ctx.Err()
	})
	fmt.Println(len(names), err) // one result per item, always
	// Output:
	// 3 taskgroup: task #1: no user 0 (2 tasks cancelled)
}

func ExampleFirst() {
	var slowCause error
	mirror, err := taskgroup.First(context.Background(),
		func(ctx context.Context) (string, error) {
			return "", errors.New("mirror a: 503")
		},
		func(ctx context.Context) (string, error) {
			<-ctx.Done() // still downloading when another mirror wins
			slowCause = context.Cause(ctx)
			return "", ctx.Err()
		},
		func(ctx context.Context) (string, error) {
			return "mirror c", nil
		},
	)
	// First returns only after every function has returned.
	fmt.Println(mirror, err)
	fmt.Println("the slow mirror was stopped:", errors.Is(slowCause, taskgroup.ErrStopped))
	// Output:
	// mirror c <nil>
	// the slow mirror was stopped: true
}

func ExampleGroup_Stop() {
	jobs := make(chan int)
	handled := make(chan int)
	g := taskgroup.New(context.Background())
	for range 2 {
		g.Go(func(ctx context.Context) error { // a worker that serves until stopped
			for {
				select {
				case j := <-jobs:
					handled <- j * j
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		})
	}
	sum := 0
	for j := 1; j <= 3; j++ {
		jobs <- j
		sum += <-handled
	}
	g.Stop() // cancels the workers with cause ErrStopped, and does not wait
	// Errors that only report the Stop are not failures: Wait returns nil.
	fmt.Println("sum:", sum, "Wait:", g.Wait())
	// Output:
	// sum: 14 Wait: <nil>
}

func ExampleError() {
	errDeclined := errors.New("card declined")
	g := taskgroup.New(context.Background())
	g.GoNamed("charge", func(ctx context.Context) error {
		return errDeclined
	})
	g.GoNamed("reserve", func(ctx context.Context) error {
		<-ctx.Done() // the charge failed: release the reservation
		// A failure of its own, not an echo of the cancellation: listed.
		return errors.New("release: connection reset")
	})
	g.GoNamed("quote", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err() // only reports the cancellation
	})
	err := g.Wait()

	var e *taskgroup.Error
	if errors.As(err, &e) {
		for _, f := range e.Failures { // in the order the tasks returned
			fmt.Printf("#%d %s: %v\n", f.Index, f.Name, f.Err)
		}
		fmt.Println("cancelled:", e.Cancelled)
	}
	fmt.Println("declined:", errors.Is(err, errDeclined))
	// Output:
	// #0 charge: card declined
	// #1 reserve: release: connection reset
	// cancelled: 1
	// declined: true
}
