package generics

import (
	"context"
	"time"

	"github.com/leash-go/leash/taskgroup"
)

func each[T any](ctx context.Context, items []T, f func(context.Context, T) error) error {
	g := taskgroup.New(ctx)
	for _, it := range items {
		g.Go(func(gctx context.Context) error {
			return f(ctx, it)
		})
	}
	return g.Wait()
}

type pool[T any] struct{ ch chan T }

func (p *pool[T]) get(ctx context.Context) T {
	time.Sleep(time.Millisecond)
	var zero T
	return zero
}

func (p *pool[T]) getAll(ctx context.Context) ([]T, error) {
	return taskgroup.Map(ctx, []int{1, 2}, func(ctx context.Context, _ int) (T, error) {
		return <-p.ch, nil
	})
}

func spawn[T any](ctx context.Context, f func() T) *taskgroup.Task[T] {
	g := taskgroup.New(ctx)
	return taskgroup.Spawn(g, func(context.Context) (T, error) { return f(), nil })
}
