package lv6

import (
	"context"
	"errors"

	"github.com/leash-go/leash/taskgroup"
	"golang.org/x/sync/errgroup"
)

func fetch(ctx context.Context) error { return nil }

func early(ctx context.Context, ok bool) error {
	g := taskgroup.New(ctx) // want `LV6: group g is given tasks, but the return at line 17 skips g.Wait\(\)`
	g.Go(fetch)
	if !ok {
		return errors.New("not ok")
	}
	return g.Wait()
}

func never(ctx context.Context) {
	g, ctx := errgroup.WithContext(ctx) // want `LV6: group g is given tasks, but the end of the function skips g.Wait\(\)`
	g.Go(func() error { return fetch(ctx) })
}

func spawned(ctx context.Context) (int, error) {
	g := taskgroup.New(ctx) // want `LV6: group g is given tasks, but the return at line 31 skips`
	t := taskgroup.Spawn(g, func(ctx context.Context) (int, error) { return 1, nil })
	_ = t
	return 0, nil
}

// A select without a default never leaves by its last case's fall-through:
// the only ways on are its cases.
func selected(ctx context.Context, ready chan struct{}) error {
	g := taskgroup.New(ctx)
	g.Go(fetch)
	select {
	case <-ready:
	case <-g.Context().Done():
	}
	return g.Wait()
}

func selectedReturn(ctx context.Context, ready chan struct{}) error {
	g := taskgroup.New(ctx) // want `LV6: group g is given tasks, but the return at line 51 skips`
	g.Go(fetch)
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
	}
	return g.Wait()
}
