package bench_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// BenchmarkNested: a chain of nested groups, depth deep, fan 2: each level is
// a group of two tasks, one of which makes the next level's group with its
// own context (and waits for it) while the other marks the level, so an op
// runs 2×depth tasks in depth groups. leash, errgroup.WithContext, conc's
// context pool, and the floor, go + sync.WaitGroup at every level.
func BenchmarkNested(b *testing.B) {
	ctx := context.Background()
	for _, depth := range []int{10, 100} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			runImpls(b,
				impl{"leash", func(b *testing.B) {
					m := newMarks(depth)
					b.ReportAllocs()
					for b.Loop() {
						gen := m.next()
						if err := nestLeash(ctx, depth, m, gen); err != nil {
							b.Fatal(err)
						}
						m.check(b, gen)
					}
					perTask(b, 2*depth)
				}},
				impl{"errgroup", func(b *testing.B) {
					m := newMarks(depth)
					b.ReportAllocs()
					for b.Loop() {
						gen := m.next()
						if err := nestErrgroup(ctx, depth, m, gen); err != nil {
							b.Fatal(err)
						}
						m.check(b, gen)
					}
					perTask(b, 2*depth)
				}},
				impl{"conc", func(b *testing.B) {
					m := newMarks(depth)
					b.ReportAllocs()
					for b.Loop() {
						gen := m.next()
						if err := nestConc(ctx, depth, m, gen); err != nil {
							b.Fatal(err)
						}
						m.check(b, gen)
					}
					perTask(b, 2*depth)
				}},
				impl{"floor", func(b *testing.B) {
					m := newMarks(depth)
					b.ReportAllocs()
					for b.Loop() {
						gen := m.next()
						nestFloor(depth, m, gen)
						m.check(b, gen)
					}
					perTask(b, 2*depth)
				}},
			)
		})
	}
}

func nestLeash(ctx context.Context, depth int, m *marks, gen uint32) error {
	g := taskgroup.New(ctx)
	g.Go(func(ctx context.Context) error {
		if depth > 1 {
			return nestLeash(ctx, depth-1, m, gen)
		}
		return nil
	})
	g.Go(func(context.Context) error { m.ran[depth-1] = gen; return nil })
	return g.Wait()
}

func nestErrgroup(ctx context.Context, depth int, m *marks, gen uint32) error {
	//leash:ignore LV2 errgroup is the benchmark's peer
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if depth > 1 {
			return nestErrgroup(gctx, depth-1, m, gen)
		}
		return nil
	})
	g.Go(func() error { m.ran[depth-1] = gen; return nil })
	return g.Wait()
}

func nestConc(ctx context.Context, depth int, m *marks, gen uint32) error {
	p := pool.New().WithErrors().WithContext(ctx)
	p.Go(func(ctx context.Context) error {
		if depth > 1 {
			return nestConc(ctx, depth-1, m, gen)
		}
		return nil
	})
	p.Go(func(context.Context) error { m.ran[depth-1] = gen; return nil })
	return p.Wait()
}

func nestFloor(depth int, m *marks, gen uint32) {
	var wg sync.WaitGroup
	wg.Add(2)
	//leash:ignore LV1 the floor: what a hand-written program does
	go func() {
		defer wg.Done()
		if depth > 1 {
			nestFloor(depth-1, m, gen)
		}
	}()
	//leash:ignore LV1 the floor: what a hand-written program does
	go func() { defer wg.Done(); m.ran[depth-1] = gen }()
	wg.Wait()
}

// BenchmarkSpawn: N tasks with a typed result each, then their sum:
// taskgroup.Spawn and Task.Result after Wait, errgroup writing into an
// indexed slice, and the floor, go + sync.WaitGroup into an indexed slice.
// conc has no task handle with a typed result (its ResultPool collects the
// values in the order they finish).
func BenchmarkSpawn(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{100, 10_000} {
		want := 0
		for i := range n {
			want += i * i
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			runImpls(b,
				impl{"leash", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						g := taskgroup.New(ctx)
						tasks := make([]*taskgroup.Task[int], n)
						for i := range n {
							tasks[i] = taskgroup.Spawn(g, func(context.Context) (int, error) { return i * i, nil })
						}
						if err := g.Wait(); err != nil {
							b.Fatal(err)
						}
						sum := 0
						for _, t := range tasks {
							v, err := t.Result()
							if err != nil {
								b.Fatal(err)
							}
							sum += v
						}
						if sum != want {
							b.Fatalf("sum %d, want %d", sum, want)
						}
					}
					perTask(b, n)
				}},
				impl{"errgroup", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						//leash:ignore LV2 errgroup is the benchmark's peer
						g, _ := errgroup.WithContext(ctx)
						out := make([]int, n)
						for i := range n {
							g.Go(func() error { out[i] = i * i; return nil })
						}
						if err := g.Wait(); err != nil {
							b.Fatal(err)
						}
						sum := 0
						for _, v := range out {
							sum += v
						}
						if sum != want {
							b.Fatalf("sum %d, want %d", sum, want)
						}
					}
					perTask(b, n)
				}},
				impl{"floor", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						var wg sync.WaitGroup
						out := make([]int, n)
						for i := range n {
							wg.Add(1)
							//leash:ignore LV1 the floor: what a hand-written program does
							go func() { defer wg.Done(); out[i] = i * i }()
						}
						wg.Wait()
						sum := 0
						for _, v := range out {
							sum += v
						}
						if sum != want {
							b.Fatalf("sum %d, want %d", sum, want)
						}
					}
					perTask(b, n)
				}},
			)
		})
	}
}
