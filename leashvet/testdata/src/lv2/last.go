package lv2

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// errgroup is the last import of its block: taskgroup takes its place.
func last(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx) // want `LV2: errgroup.Group`
	g.Go(func() error { return fetch(ctx, "x") })
	return g.Wait()
}
