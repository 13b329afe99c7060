package bench_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
	xsync "golang.org/x/sync/semaphore"
)

// BenchmarkLimit: N trivial tasks with at most limit running at once:
// taskgroup.WithLimit, errgroup's SetLimit, conc's WithMaxGoroutines, and the
// floor, limit workers ranging over an unbuffered channel of the tasks'
// indices.
func BenchmarkLimit(b *testing.B) {
	ctx := context.Background()
	for _, limit := range []int{1, 8, 64} {
		for _, n := range []int{1_000, 100_000} {
			b.Run(fmt.Sprintf("limit=%d/n=%d", limit, n), func(b *testing.B) {
				benchLimit(b, ctx, limit, n)
			})
		}
	}
}

func benchLimit(b *testing.B, ctx context.Context, limit, n int) {
	runImpls(b,
		impl{"leash", func(b *testing.B) {
			m := newMarks(n)
			b.ReportAllocs()
			for b.Loop() {
				gen := m.next()
				g := taskgroup.New(ctx, taskgroup.WithLimit(limit))
				for i := range n {
					g.Go(func(context.Context) error { m.ran[i] = gen; return nil })
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				m.check(b, gen)
			}
			perTask(b, n)
		}},
		impl{"errgroup", func(b *testing.B) {
			m := newMarks(n)
			b.ReportAllocs()
			for b.Loop() {
				gen := m.next()
				//leash:ignore LV2 errgroup is the benchmark's peer
				g, _ := errgroup.WithContext(ctx)
				g.SetLimit(limit)
				for i := range n {
					g.Go(func() error { m.ran[i] = gen; return nil })
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				m.check(b, gen)
			}
			perTask(b, n)
		}},
		impl{"conc", func(b *testing.B) {
			m := newMarks(n)
			b.ReportAllocs()
			for b.Loop() {
				gen := m.next()
				p := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(limit)
				for i := range n {
					p.Go(func(context.Context) error { m.ran[i] = gen; return nil })
				}
				if err := p.Wait(); err != nil {
					b.Fatal(err)
				}
				m.check(b, gen)
			}
			perTask(b, n)
		}},
		impl{"floor", func(b *testing.B) {
			m := newMarks(n)
			b.ReportAllocs()
			for b.Loop() {
				gen := m.next()
				jobs := make(chan int)
				var wg sync.WaitGroup
				for range limit {
					wg.Add(1)
					//leash:ignore LV1 the floor: what a hand-written program does
					go func() {
						defer wg.Done()
						for i := range jobs {
							m.ran[i] = gen
						}
					}()
				}
				for i := range n {
					jobs <- i
				}
				close(jobs)
				wg.Wait()
				m.check(b, gen)
			}
			perTask(b, n)
		}},
	)
}

// semAcquires is how many Acquire+Release pairs one op of BenchmarkSemaphore
// makes, shared evenly among its goroutines: enough that starting the
// goroutines costs a few percent of an op.
const semAcquires = 8192

// BenchmarkSemaphore: a semaphore of capacity 1 and g goroutines, each
// acquiring it, incrementing a shared counter (the semaphore is its only
// guard) and releasing it, semAcquires/g times: leash's semaphore,
// golang.org/x/sync's Weighted, and the floor, a buffered channel of capacity
// 1 whose send selects on ctx.Done() as Acquire(ctx) does.
func BenchmarkSemaphore(b *testing.B) {
	ctx := context.Background()
	for _, gs := range []int{4, 16, 64} {
		per := semAcquires / gs
		b.Run(fmt.Sprintf("g=%d", gs), func(b *testing.B) {
			// hammer runs body on gs goroutines at once, then checks that
			// every acquire counted.
			hammer := func(b *testing.B, count *int, body func()) {
				*count = 0
				var wg sync.WaitGroup
				for range gs {
					wg.Add(1)
					//leash:ignore LV1 the floor: what a hand-written program does
					go func() { defer wg.Done(); body() }()
				}
				wg.Wait()
				if *count != semAcquires {
					b.Fatalf("%d acquires counted, want %d", *count, semAcquires)
				}
			}
			runImpls(b,
				impl{"leash", func(b *testing.B) {
					s := semaphore.New(1)
					count := 0
					body := func() {
						for range per {
							if s.Acquire(ctx, 1) == nil {
								count++
								s.Release(1)
							}
						}
					}
					b.ReportAllocs()
					for b.Loop() {
						hammer(b, &count, body)
					}
					perUnit(b, semAcquires, "ns/acquire")
				}},
				impl{"xsync", func(b *testing.B) {
					s := xsync.NewWeighted(1)
					count := 0
					body := func() {
						for range per {
							if s.Acquire(ctx, 1) == nil {
								count++
								s.Release(1)
							}
						}
					}
					b.ReportAllocs()
					for b.Loop() {
						hammer(b, &count, body)
					}
					perUnit(b, semAcquires, "ns/acquire")
				}},
				impl{"floor", func(b *testing.B) {
					s := make(chan struct{}, 1)
					count := 0
					body := func() {
						for range per {
							select {
							case s <- struct{}{}:
								count++
								<-s
							case <-ctx.Done():
							}
						}
					}
					b.ReportAllocs()
					for b.Loop() {
						hammer(b, &count, body)
					}
					perUnit(b, semAcquires, "ns/acquire")
				}},
			)
		})
	}
}
