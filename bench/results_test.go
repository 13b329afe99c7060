package bench_test

import (
	"context"
	"runtime"
	"slices"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/sourcegraph/conc/iter"
	"github.com/sourcegraph/conc/stream"
	"golang.org/x/sync/errgroup"
)

// The RS benchmarks of taskgroup beside sourcegraph/conc, errgroup and the
// floor, each family in one process so that benchstat shows the ratios.

const items = 10_000

func input() []int {
	in := make([]int, items)
	for i := range in {
		in[i] = i
	}
	return in
}

func square(_ context.Context, x int) (int, error) { return x * x, nil }

func want(in []int) int {
	sum := 0
	for _, x := range in {
		sum += x * x
	}
	return sum
}

// BenchmarkMapLimit: 10k trivial items on GOMAXPROCS goroutines (RS4):
// taskgroup.Map with WithLimit, conc's iter.Map and iter.MapErr (which use
// GOMAXPROCS workers by default), errgroup with SetLimit.
func BenchmarkMapLimit(b *testing.B) {
	ctx := context.Background()
	in := input()
	limit := runtime.GOMAXPROCS(0)
	b.Run("impl=leash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := taskgroup.Map(ctx, in, square, taskgroup.WithLimit(limit)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=conc-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			iter.Map(in, func(x *int) int { v, _ := square(ctx, *x); return v })
		}
	})
	b.Run("impl=conc-maperr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := iter.MapErr(in, func(x *int) (int, error) { return square(ctx, *x) }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(limit)
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
}

// BenchmarkStream: 10k trivial items whose results a loop receives as they
// come (RS2), without a limit: taskgroup.Stream (input order) and
// AsCompleted, conc's stream (input order), errgroup with the tasks sending
// on a channel (completion order).
func BenchmarkStream(b *testing.B) { benchStream(b, 0) }

// BenchmarkStreamLimit8 is BenchmarkStream with a limit of 8.
func BenchmarkStreamLimit8(b *testing.B) { benchStream(b, 8) }

func benchStream(b *testing.B, limit int) {
	ctx := context.Background()
	in := input()
	sum0 := want(in)
	var opts []taskgroup.Option
	if limit > 0 {
		opts = append(opts, taskgroup.WithLimit(limit))
	}
	b.Run("impl=leash-stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := 0
			res := taskgroup.Stream(ctx, slices.Values(in), square, opts...)
			for _, v := range res.All() {
				sum += v
			}
			if res.Err() != nil || sum != sum0 {
				b.Fatal(sum, res.Err())
			}
		}
	})
	b.Run("impl=leash-ascompleted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := 0
			res := taskgroup.AsCompleted(ctx, slices.Values(in), square, opts...)
			for _, v := range res.All() {
				sum += v
			}
			if res.Err() != nil || sum != sum0 {
				b.Fatal(sum, res.Err())
			}
		}
	})
	b.Run("impl=conc-stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := 0
			s := stream.New()
			if limit > 0 {
				s = s.WithMaxGoroutines(limit)
			}
			for _, x := range in {
				s.Go(func() stream.Callback {
					v, _ := square(ctx, x)
					return func() { sum += v }
				})
			}
			s.Wait()
			if sum != sum0 {
				b.Fatal(sum)
			}
		}
	})
	b.Run("impl=errgroup-channel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g, gctx := errgroup.WithContext(ctx)
			if limit > 0 {
				g.SetLimit(limit)
			}
			results := make(chan int)
			errc := make(chan error, 1)
			go func() {
				for _, x := range in {
					g.Go(func() error {
						v, err := square(gctx, x)
						if err != nil {
							return err
						}
						results <- v
						return nil
					})
				}
				errc <- g.Wait()
				close(results)
			}()
			sum := 0
			for v := range results {
				sum += v
			}
			if err := <-errc; err != nil || sum != sum0 {
				b.Fatal(sum, err)
			}
		}
	})
}
