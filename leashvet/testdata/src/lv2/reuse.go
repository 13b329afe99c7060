package lv2

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// The group's context reuses the parameter's variable: := becomes =.
func reuse(ctx context.Context) error {
	var g *errgroup.Group
	_ = g
	{
		g, ctx := errgroup.WithContext(ctx) // want `LV2: errgroup.Group`
		g.Go(func() error { return fetch(ctx, "x") })
		return g.Wait()
	}
}

func topLevel(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx) // want `LV2: errgroup.Group`
	g.Go(func() error {
		ctx := context.WithValue(ctx, key{}, 1)
		return fetch(ctx, "x")
	})
	return g.Wait()
}

type key struct{}
