package service_test

import (
	"context"
	"testing"

	"github.com/leash-go/leash/service"
	"github.com/leash-go/leash/taskgroup"
)

// BenchmarkBackground runs 1000 trivial background tasks per op: in the
// program's group of service.Run (impl=service); in a background group of
// its own inside Run, named and with a failure handler, as examples/server
// does (impl=service-background); in a bare task group (the peer); and in a
// group with the options Run gives its own, named and with a straggler
// timeout (impl=taskgroup-observed), so one benchstat table shows what each
// costs per task and where it comes from. Signals are off: registering with
// os/signal is a once-per-program cost, not a per-task one.
func BenchmarkBackground(b *testing.B) {
	const tasks = 1000
	ctx := context.Background()
	nop := func(context.Context) error { return nil }
	b.Run("impl=service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := service.Run(ctx, func(_ context.Context, g *taskgroup.Group) error {
				for range tasks {
					g.Go(nop)
				}
				return nil
			}, service.WithSignals(), quietly)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=service-background", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := service.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
				bg := taskgroup.New(ctx, taskgroup.WithName("background"), taskgroup.CollectAll(),
					taskgroup.WithFailureHandler(func(*taskgroup.TaskError) {}))
				for range tasks {
					bg.Go(nop)
				}
				return bg.Wait()
			}, service.WithSignals(), quietly)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=taskgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g := taskgroup.New(ctx)
			for range tasks {
				g.Go(nop)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=taskgroup-observed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g := taskgroup.New(ctx, taskgroup.WithName("service"), taskgroup.WithStragglerTimeout(service.DefaultDrain))
			for range tasks {
				g.Go(nop)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
