package taskgroup_test

import (
	"context"
	"sync"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"golang.org/x/sync/errgroup"
)

// Each benchmark family runs leash beside its peer (and the bare floor) in one
// process, so one benchstat table over -count 10 shows the ratios.

func nop(context.Context) error { return nil }

func BenchmarkOneTask(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=leash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g := taskgroup.New(ctx)
			g.Go(nop)
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			//leash:ignore LV2 errgroup is the benchmark's peer
			g, ctx := errgroup.WithContext(ctx)
			g.Go(func() error { return nop(ctx) })
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = nop(ctx)
			}()
			wg.Wait()
		}
	})
}

const manyTasks = 1000

func BenchmarkManyTasks(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=leash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g := taskgroup.New(ctx)
			for range manyTasks {
				g.Go(nop)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			//leash:ignore LV2 errgroup is the benchmark's peer
			var g errgroup.Group
			for range manyTasks {
				g.Go(func() error { return nop(ctx) })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			for range manyTasks {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = nop(ctx)
				}()
			}
			wg.Wait()
		}
	})
}

func BenchmarkLimit8(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=leash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g := taskgroup.New(ctx, taskgroup.WithLimit(8))
			for range manyTasks {
				g.Go(nop)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			//leash:ignore LV2 errgroup is the benchmark's peer
			var g errgroup.Group
			g.SetLimit(8)
			for range manyTasks {
				g.Go(func() error { return nop(ctx) })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for range manyTasks {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					_ = nop(ctx)
				}()
			}
			wg.Wait()
		}
	})
}

func square(_ context.Context, x int) (int, error) { return x * x, nil }

func BenchmarkMap(b *testing.B) {
	ctx := context.Background()
	in := make([]int, manyTasks)
	for i := range in {
		in[i] = i
	}
	b.Run("impl=leash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := taskgroup.Map(ctx, in, square); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			//leash:ignore LV2 errgroup is the benchmark's peer
			g, gctx := errgroup.WithContext(ctx)
			out := make([]int, len(in))
			for i, x := range in {
				g.Go(func() error {
					v, err := square(gctx, x)
					out[i] = v
					return err
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			out := make([]int, len(in))
			for i, x := range in {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out[i], _ = square(ctx, x)
				}()
			}
			wg.Wait()
		}
	})
}
