package bench_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/sourcegraph/conc/stream"
	"golang.org/x/sync/errgroup"
)

// BenchmarkStreams: 10k trivial items whose results a loop receives as they
// come (RS2), without a limit and with WithLimit(8).
//
//   - order=input: taskgroup.Stream against conc's stream, both in input
//     order.
//   - order=completed: taskgroup.AsCompleted against errgroup with the tasks
//     sending on a channel, and the floor: go + sync.WaitGroup sending on a
//     channel (without a limit) or limit workers ranging over a channel of
//     items and sending on another (with one).
func BenchmarkStreams(b *testing.B) {
	for _, limit := range []int{0, 8} {
		name := "limit=none"
		if limit > 0 {
			name = fmt.Sprintf("limit=%d", limit)
		}
		b.Run(name+"/order=input", func(b *testing.B) {
			runImpls(b,
				impl{"leash", func(b *testing.B) { streamLeash(b, taskgroup.Stream[int, int], limit) }},
				impl{"conc", func(b *testing.B) { streamConc(b, limit) }},
			)
		})
		b.Run(name+"/order=completed", func(b *testing.B) {
			runImpls(b,
				impl{"leash", func(b *testing.B) { streamLeash(b, taskgroup.AsCompleted[int, int], limit) }},
				impl{"errgroup", func(b *testing.B) { streamErrgroup(b, limit) }},
				impl{"floor", func(b *testing.B) { streamFloor(b, limit) }},
			)
		})
	}
}

type streamFunc func(context.Context, iter.Seq[int], func(context.Context, int) (int, error), ...taskgroup.Option) *taskgroup.Results[int]

func streamLeash(b *testing.B, run streamFunc, limit int) {
	ctx := context.Background()
	in := input()
	sum0 := want(in)
	var opts []taskgroup.Option
	if limit > 0 {
		opts = append(opts, taskgroup.WithLimit(limit))
	}
	b.ReportAllocs()
	for b.Loop() {
		sum := 0
		res := run(ctx, slices.Values(in), square, opts...)
		for _, v := range res.All() {
			sum += v
		}
		if res.Err() != nil || sum != sum0 {
			b.Fatal(sum, res.Err())
		}
	}
	perTask(b, len(in))
}

func streamConc(b *testing.B, limit int) {
	ctx := context.Background()
	in := input()
	sum0 := want(in)
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
	perTask(b, len(in))
}

func streamErrgroup(b *testing.B, limit int) {
	ctx := context.Background()
	in := input()
	sum0 := want(in)
	b.ReportAllocs()
	for b.Loop() {
		//leash:ignore LV2 errgroup is the benchmark's peer
		g, gctx := errgroup.WithContext(ctx)
		if limit > 0 {
			g.SetLimit(limit)
		}
		results := make(chan int)
		errc := make(chan error, 1)
		//leash:ignore LV1 the floor: what a hand-written program does
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
	perTask(b, len(in))
}

func streamFloor(b *testing.B, limit int) {
	ctx := context.Background()
	in := input()
	sum0 := want(in)
	b.ReportAllocs()
	for b.Loop() {
		results := make(chan int)
		var wg sync.WaitGroup
		if limit > 0 {
			items := make(chan int)
			wg.Add(limit)
			for range limit {
				//leash:ignore LV1 the floor: what a hand-written program does
				go func() {
					defer wg.Done()
					for x := range items {
						v, _ := square(ctx, x)
						results <- v
					}
				}()
			}
			//leash:ignore LV1 the floor: what a hand-written program does
			go func() {
				for _, x := range in {
					items <- x
				}
				close(items)
				wg.Wait()
				close(results)
			}()
		} else {
			//leash:ignore LV1 the floor: what a hand-written program does
			go func() {
				for _, x := range in {
					wg.Add(1)
					//leash:ignore LV1 the floor: what a hand-written program does
					go func() {
						defer wg.Done()
						v, _ := square(ctx, x)
						results <- v
					}()
				}
				wg.Wait()
				close(results)
			}()
		}
		sum := 0
		for v := range results {
			sum += v
		}
		if sum != sum0 {
			b.Fatal(sum)
		}
	}
	perTask(b, len(in))
}
