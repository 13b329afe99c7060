package lv2

import (
	"context"

	"golang.org/x/sync/errgroup"
)

const workers = 4

func fetch(ctx context.Context, u string) error { return nil }

// The group's context is named ctx and shadows the parent: tasks keep it.
func fetchAll(ctx context.Context, urls []string) error {
	g, ctx := errgroup.WithContext(ctx) // want `LV2: errgroup.Group: use a taskgroup.Group`
	g.SetLimit(workers)
	for _, u := range urls {
		g.Go(func() error {
			return fetch(ctx, u)
		})
	}
	return g.Wait()
}

// A differently named group context, a limit of -1 (none), and TryGo.
func fetchSome(parent context.Context, urls []string) (int, error) {
	g, gctx := errgroup.WithContext(parent) // want `LV2: errgroup.Group`
	g.SetLimit(-1)
	n := 0
	for _, u := range urls {
		if g.TryGo(func() error { return fetch(gctx, u) }) {
			n++
		}
	}
	return n, g.Wait()
}

// The group's context is discarded: the task's parameter is named ctx only
// where it shadows nothing the task uses.
func discard(ctx context.Context) error {
	g, _ := errgroup.WithContext(ctx) // want `LV2: errgroup.Group`
	g.Go(func() error { return nil })
	g.Go(func() error { return fetch(ctx, "outer") })
	return g.Wait()
}
