package lv3

import (
	"context"

	"github.com/leash-go/leash/taskgroup"
	"golang.org/x/sync/errgroup"
)

// Non-findings.
func fine(ctx context.Context, urls []string) error {
	g := taskgroup.New(ctx)
	gctx := g.Context()
	for _, u := range urls {
		g.Go(func(ctx context.Context) error { return fetch(ctx, u) })
		g.Go(func(c context.Context) error { return fetch(gctx, u) }) // the group's own context
		g.Go(func(c context.Context) error {
			// Detached on purpose.
			return fetch(context.WithoutCancel(ctx), u)
		})
	}
	return g.Wait()
}

// A group of Background: its tasks' parameter carries no cancellation from
// the caller, so using ctx is not a mistake the task can fix.
func backgroundGroup(ctx context.Context) error {
	g := taskgroup.New(context.Background())
	g.Go(func(_ context.Context) error { return fetch(ctx, "x") })
	return g.Wait()
}

// A zero errgroup has no context for its tasks.
func zero(ctx context.Context) error {
	var g errgroup.Group
	g.Go(func() error { return fetch(ctx, "x") })
	return g.Wait()
}

// A nested group: each task is checked against its own parameter.
func nested(ctx context.Context) error {
	g := taskgroup.New(ctx)
	g.Go(func(ctx context.Context) error {
		inner := taskgroup.New(ctx)
		inner.Go(func(ictx context.Context) error { return fetch(ictx, "x") })
		return inner.Wait()
	})
	return g.Wait()
}
