package lv2

import (
	"context"
	"runtime"

	"golang.org/x/sync/errgroup"
)

type server struct {
	bg errgroup.Group // want `LV2: errgroup.Group: .* \(no automatic fix: the group is not a local variable`
}

var global errgroup.Group // want `LV2: .*no automatic fix: the group is not a local variable`

func passed(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx) // want `LV2: .*no automatic fix: g is used as a value`
	start(g, ctx)
	return g.Wait()
}

func start(g *errgroup.Group, ctx context.Context) {}

func variableLimit(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx) // want `LV2: .*no automatic fix: the limit is not a constant`
	g.SetLimit(runtime.NumCPU())
	g.Go(func() error { return fetch(ctx, "x") })
	return g.Wait()
}

func lateLimit(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx) // want `LV2: .*no automatic fix: SetLimit is not the statement right after`
	g.Go(func() error { return fetch(ctx, "x") })
	g.SetLimit(2)
	return g.Wait()
}

type worker struct{}

func (worker) run() error { return nil }

func methodValue(ctx context.Context, w worker) error {
	g, _ := errgroup.WithContext(ctx) // want `LV2: .*no automatic fix: a task is not a function literal`
	g.Go(w.run)
	return g.Wait()
}

func assigned(ctx context.Context) error {
	var g *errgroup.Group
	g, ctx = errgroup.WithContext(ctx) // want `LV2: .*no automatic fix: the group is not a local variable`
	g.Go(func() error { return nil })
	return g.Wait()
}

func shadowed(ctx context.Context) error {
	taskgroup := "a local that takes the package's name"
	_ = taskgroup
	g, ctx := errgroup.WithContext(ctx) // want `LV2: .*no automatic fix: "taskgroup" or "context" means something else here`
	g.Go(func() error { return fetch(ctx, "x") })
	return g.Wait()
}
