package lv4

import (
	"context"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"golang.org/x/sync/errgroup"
)

func poll(ctx context.Context, check func() bool) error {
	for !check() {
		time.Sleep(100 * time.Millisecond) // want `LV4: time.Sleep ignores the cancellation of ctx`
	}
	return nil
}

func after(ctx context.Context) {
	<-time.After(time.Second) // want `LV4: a bare <-time.After ignores the cancellation of ctx`
}

func receive(ctx context.Context, jobs chan int) error {
	g := taskgroup.New(ctx)
	g.Go(func(ctx context.Context) error {
		<-jobs // want `LV4: receive from jobs blocks without watching ctx`
		return nil
	})
	return g.Wait()
}

func namedResults(ctx context.Context, jobs chan int) (n int, err error) {
	var g errgroup.Group
	g.Go(func() error {
		n, err = work(ctx, jobs)
		return err
	})
	return n, g.Wait()
}

func work(ctx context.Context, jobs chan int) (n int, err error) {
	time.Sleep(time.Millisecond) // want `LV4: time.Sleep ignores the cancellation of ctx`
	return 1, nil
}

// A goroutine inside a function with a context inherits it.
func worker(ctx context.Context, ch chan int) {
	go func() {
		for {
			time.Sleep(time.Second) // want `LV4: time.Sleep ignores the cancellation of ctx`
			ch <- 1
		}
	}()
}

func value(ctx context.Context, results chan int) ([]int, error) {
	return taskgroup.Map(ctx, []int{1}, func(ctx context.Context, _ int) (int, error) {
		v := <-results // want `LV4: receive from results blocks without watching ctx: .*\(no automatic fix`
		return v, nil
	})
}

func sel(ctx context.Context, a, b chan int) error {
	g := taskgroup.New(ctx)
	g.Go(func(ctx context.Context) error {
		select { // want `LV4: select without a case for the cancellation of ctx`
		case <-a:
		case <-b:
		}
		return nil
	})
	return g.Wait()
}

func twoResults(ctx context.Context) (int, error) {
	time.Sleep(time.Second) // want `LV4: .*\(no automatic fix: the function returns more than an error\)`
	return 0, nil
}
