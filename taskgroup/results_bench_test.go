package taskgroup_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"golang.org/x/sync/errgroup"
)

// The RS benchmarks: a limited Map, MapOutcomes and streams, each beside its
// peer in one family. The peers from sourcegraph/conc are in the bench
// module (../bench), so that this module does not require conc.

const streamItems = 10_000

func items(n int) []int {
	in := make([]int, n)
	for i := range in {
		in[i] = i
	}
	return in
}

// BenchmarkMapLimit is a limited Map over 10k trivial items (RS4), with the
// limit GOMAXPROCS, beside errgroup's SetLimit and the floor: that many
// goroutines taking the items by an atomic index.
func BenchmarkMapLimit(b *testing.B) {
	ctx := context.Background()
	in := items(streamItems)
	limit := runtime.GOMAXPROCS(0)
	b.Run("impl=leash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := taskgroup.Map(ctx, in, square, taskgroup.WithLimit(limit)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			//leash:ignore LV2 errgroup is the benchmark's peer
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
	b.Run("impl=workers", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := make([]int, len(in))
			var next atomic.Int64
			var wg sync.WaitGroup
			for range limit {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1) - 1; i < int64(len(in)); i = next.Add(1) - 1 {
						out[i], _ = square(ctx, in[i])
					}
				}()
			}
			wg.Wait()
		}
	})
}

// BenchmarkOutcomes is MapOutcomes (RS1) beside a plain Map over 1000
// trivial items, unlimited: the price of accounting for every item.
func BenchmarkOutcomes(b *testing.B) {
	ctx := context.Background()
	in := items(manyTasks)
	b.Run("impl=leash-outcomes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := taskgroup.MapOutcomes(ctx, in, square); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=leash-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := taskgroup.Map(ctx, in, square); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStream ranges over 10k trivial items (RS2) in input order and in
// completion order, beside errgroup with the tasks sending on a channel that
// the caller ranges over (completion order), and the floor: goroutines
// sending on a channel, counted by a WaitGroup.
func BenchmarkStream(b *testing.B) {
	benchStream(b, 0)
}

// BenchmarkStreamLimit8 is BenchmarkStream with WithLimit(8) and errgroup's
// SetLimit(8).
func BenchmarkStreamLimit8(b *testing.B) {
	benchStream(b, 8)
}

func benchStream(b *testing.B, limit int) {
	ctx := context.Background()
	in := items(streamItems)
	var opts []taskgroup.Option
	if limit > 0 {
		opts = append(opts, taskgroup.WithLimit(limit))
	}
	want := 0
	for _, x := range in {
		want += x * x
	}
	check := func(b *testing.B, sum int, err error) {
		if err != nil || sum != want {
			b.Fatal(sum, err)
		}
	}
	b.Run("impl=leash-stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := 0
			res := taskgroup.Stream(ctx, slices.Values(in), square, opts...)
			for _, v := range res.All() {
				sum += v
			}
			check(b, sum, res.Err())
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
			check(b, sum, res.Err())
		}
	})
	b.Run("impl=errgroup-channel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			//leash:ignore LV2 errgroup is the benchmark's peer
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
			check(b, sum, <-errc)
		}
	})
	b.Run("impl=waitgroup-channel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			results := make(chan int)
			go func() {
				var sem chan struct{}
				if limit > 0 {
					sem = make(chan struct{}, limit)
				}
				for _, x := range in {
					if sem != nil {
						sem <- struct{}{}
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						v, _ := square(ctx, x)
						results <- v
						if sem != nil {
							<-sem
						}
					}()
				}
				wg.Wait()
				close(results)
			}()
			sum := 0
			for v := range results {
				sum += v
			}
			check(b, sum, nil)
		}
	})
}
