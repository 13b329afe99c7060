package lv6

import (
	"context"

	"github.com/leash-go/leash/taskgroup"
)

// Non-findings.
func waited(ctx context.Context, ok bool) error {
	g := taskgroup.New(ctx)
	if !ok {
		return nil // no task yet
	}
	g.Go(fetch)
	if err := g.Wait(); err != nil {
		return err
	}
	return nil
}

func deferred(ctx context.Context, ok bool) error {
	g := taskgroup.New(ctx)
	defer g.Wait()
	g.Go(fetch)
	if !ok {
		return nil
	}
	return nil
}

func returned(ctx context.Context) *taskgroup.Group {
	g := taskgroup.New(ctx)
	g.Go(fetch)
	return g // the caller waits
}

func panics(ctx context.Context, ok bool) error {
	g := taskgroup.New(ctx)
	g.Go(fetch)
	if !ok {
		panic("not ok")
	}
	return g.Wait()
}

func waitedInGoroutine(ctx context.Context) <-chan error {
	g := taskgroup.New(ctx)
	g.Go(fetch)
	errc := make(chan error, 1)
	go func() { errc <- g.Wait() }()
	return errc
}

func loop(ctx context.Context, items []int) error {
	g := taskgroup.New(ctx)
	for range items {
		g.Go(fetch)
	}
	return g.Wait()
}
