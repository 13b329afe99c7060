package lv3

import (
	"context"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/leash-go/leash/timeout"
	"golang.org/x/sync/errgroup"
)

func fetch(ctx context.Context, u string) error { return nil }

func get(ctx context.Context, u string) (int, error) { return 0, nil }

// The task names its own context gctx and uses the caller's ctx.
func captured(ctx context.Context, urls []string) error {
	g := taskgroup.New(ctx)
	for _, u := range urls {
		g.Go(func(gctx context.Context) error {
			return fetch(ctx, u) // want `LV3: task function calls with ctx, captured from outside, instead of its own context`
		})
	}
	return g.Wait()
}

// Background in a task: not cancelled by its siblings.
func background(ctx context.Context) error {
	g := taskgroup.New(ctx)
	g.GoNamed("audit", func(ctx context.Context) error {
		return fetch(context.Background(), "audit") // want `LV3: task function calls with context.Background\(\)`
	})
	t := taskgroup.Spawn(g, func(tctx context.Context) (int, error) {
		return get(context.TODO(), "n") // want `LV3: task function calls with context.TODO\(\)`
	})
	_ = t
	return g.Wait()
}

// An unnamed parameter is named after the context it replaces.
func unnamed(ctx context.Context, items []string) ([]int, error) {
	return taskgroup.Map(ctx, items, func(_ context.Context, it string) (int, error) {
		return get(ctx, it) // want `LV3: task function calls with ctx`
	})
}

func unnamedType(ctx context.Context) error {
	return timeout.WaitFor(ctx, time.Second, func(context.Context) error {
		return fetch(ctx, "x") // want `LV3: task function calls with ctx`
	})
}

func first(ctx context.Context) (int, error) {
	return taskgroup.First(ctx,
		func(c context.Context) (int, error) { return get(ctx, "a") }, // want `LV3: task function calls with ctx`
		func(c context.Context) (int, error) { return get(c, "b") },
	)
}

// errgroup: the group's context is the one WithContext returned.
func errgroupOuter(ctx context.Context, urls []string) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, u := range urls {
		g.Go(func() error {
			return fetch(ctx, u) // want `LV3: task function calls with ctx`
		})
	}
	g.Go(func() error { return fetch(gctx, "ok") })
	return g.Wait()
}
