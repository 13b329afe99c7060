package bench_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/sourcegraph/conc/iter"
	"golang.org/x/sync/errgroup"
)

// The RS benchmarks of taskgroup beside sourcegraph/conc, errgroup and the
// floor, each family in one process so that benchstat shows the ratios. The
// stream benchmarks are BenchmarkStreams, in streams_test.go.

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
// GOMAXPROCS workers by default), errgroup with SetLimit, and the floor,
// GOMAXPROCS goroutines taking the items by an atomic index.
func BenchmarkMapLimit(b *testing.B) {
	ctx := context.Background()
	in := input()
	sum0 := want(in)
	limit := runtime.GOMAXPROCS(0)
	check := func(b *testing.B, out []int) {
		sum := 0
		for _, v := range out {
			sum += v
		}
		if len(out) != len(in) || sum != sum0 {
			b.Fatalf("%d results summing to %d, want %d summing to %d", len(out), sum, len(in), sum0)
		}
	}
	runImpls(b,
		impl{"leash", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := taskgroup.Map(ctx, in, square, taskgroup.WithLimit(limit))
				if err != nil {
					b.Fatal(err)
				}
				check(b, out)
			}
			perTask(b, len(in))
		}},
		impl{"conc-map", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				check(b, iter.Map(in, func(x *int) int { v, _ := square(ctx, *x); return v }))
			}
			perTask(b, len(in))
		}},
		impl{"conc-maperr", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := iter.MapErr(in, func(x *int) (int, error) { return square(ctx, *x) })
				if err != nil {
					b.Fatal(err)
				}
				check(b, out)
			}
			perTask(b, len(in))
		}},
		impl{"errgroup", func(b *testing.B) {
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
				check(b, out)
			}
			perTask(b, len(in))
		}},
		impl{"floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out := make([]int, len(in))
				var next atomic.Int64
				var wg sync.WaitGroup
				wg.Add(limit)
				for range limit {
					//leash:ignore LV1 the floor: what a hand-written program does
					go func() {
						defer wg.Done()
						for i := int(next.Add(1) - 1); i < len(in); i = int(next.Add(1) - 1) {
							out[i], _ = square(ctx, in[i])
						}
					}()
				}
				wg.Wait()
				check(b, out)
			}
			perTask(b, len(in))
		}},
	)
}
