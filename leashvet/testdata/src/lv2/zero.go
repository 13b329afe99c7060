package lv2

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// A zero Group runs every task whatever fails: CollectAll keeps that.
func zeroVar(ctx context.Context, urls []string) error {
	var g errgroup.Group // want `LV2: errgroup.Group`
	for _, u := range urls {
		g.Go(func() error { return fetch(ctx, u) })
	}
	return g.Wait()
}

func zeroNew() error {
	g := new(errgroup.Group) // want `LV2: errgroup.Group`
	g.SetLimit(2)
	g.Go(func() error { return nil })
	return g.Wait()
}

func zeroLit() error {
	g := &errgroup.Group{} // want `LV2: errgroup.Group`
	g.Go(func() error { return nil })
	if err := g.Wait(); err != nil {
		return err
	}
	return nil
}
