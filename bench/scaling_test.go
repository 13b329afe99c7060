package bench_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// The scaling suite of issue 14: every family runs leash beside errgroup,
// conc (where it has an equivalent) and the floor, the least a hand-written
// program must do, as sub-benchmarks impl=leash, impl=errgroup, impl=conc and
// impl=floor of one process, under a size level (n=, limit=, depth=, g=), so
// that benchstat -col /impl shows the ratios per size. run.sh runs it.
//
// Every benchmark checks its answer and fails on a wrong one: no benchmark can
// measure nothing. Where the work is a number of tasks, ns/task is reported
// beside ns/op.

// impl is one implementation of a family's work.
type impl struct {
	name string
	run  func(b *testing.B)
}

// runImpls runs the implementations as sub-benchmarks impl=<name>, in the
// order given, or in the reverse order when the environment has
// BENCH_ORDER=reverse: run.sh alternates the two between rounds, so that no
// implementation always runs first (and pays for what the others reuse).
func runImpls(b *testing.B, impls ...impl) {
	if os.Getenv("BENCH_ORDER") == "reverse" {
		impls = slices.Clone(impls)
		slices.Reverse(impls)
	}
	for _, im := range impls {
		b.Run("impl="+im.name, im.run)
	}
}

// perTask reports the time per task, once b.Loop has finished.
func perTask(b *testing.B, tasks int) {
	perUnit(b, tasks, "ns/task")
}

// perUnit reports the time per unit of work (tasks, acquires, failures).
func perUnit(b *testing.B, units int, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*units), unit)
}

// marks is how the tasks of one op show they ran: task i of op gen writes gen
// into ran[i], a slot of its own, and check finds every slot at gen. It costs
// a task one store, and a check one pass over n words per op (about 0.1% of
// an op at n = 100k).
type marks struct {
	ran []uint32
	gen uint32
}

func newMarks(n int) *marks { return &marks{ran: make([]uint32, n)} }

// next starts an op and returns its generation.
func (m *marks) next() uint32 {
	m.gen++
	return m.gen
}

func (m *marks) check(b *testing.B, gen uint32) {
	for i, g := range m.ran {
		if g != gen {
			b.Fatalf("task %d of %d did not run (op %d, slot says %d)", i, len(m.ran), gen, g)
		}
	}
}

// warmGoroutines starts n goroutines that all exist at once, then joins them:
// the runtime keeps the goroutines (and grows its list of them) for later
// reuse, so that the first implementation measured at N >= 100k does not pay
// to grow what the later ones reuse. TestMain calls it before benchmarks run.
func warmGoroutines(n int) {
	var started, done sync.WaitGroup
	release := make(chan struct{})
	started.Add(n)
	done.Add(n)
	for range n {
		//leash:ignore LV1 the floor: what a hand-written program does
		go func() {
			defer done.Done()
			started.Done()
			<-release
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
}

// fanOutSizes are the N of the fan-out and the scaling curve (run.sh plots it).
var fanOutSizes = []int{1, 100, 10_000, 100_000}

// BenchmarkFanOut: N trivial tasks, each writing its own slot, then Wait:
// taskgroup.New+Go×N+Wait, errgroup.WithContext, conc's
// pool.New().WithErrors().WithContext, and the floor, go + sync.WaitGroup.
func BenchmarkFanOut(b *testing.B) {
	ctx := context.Background()
	for _, n := range fanOutSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			runImpls(b,
				impl{"leash", func(b *testing.B) {
					m := newMarks(n)
					b.ReportAllocs()
					for b.Loop() {
						gen := m.next()
						g := taskgroup.New(ctx)
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
						p := pool.New().WithErrors().WithContext(ctx)
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
						var wg sync.WaitGroup
						for i := range n {
							wg.Add(1)
							//leash:ignore LV1 the floor: what a hand-written program does
							go func() { defer wg.Done(); m.ran[i] = gen }()
						}
						wg.Wait()
						m.check(b, gen)
					}
					perTask(b, n)
				}},
			)
		})
	}
}

// ticks counts the calls of tick.
var ticks atomic.Int64

// tick is a trivial task that a plain function value can pass: the task of
// BenchmarkOneTask, which leash and conc take as is and errgroup and the floor
// wrap in a closure, as their callers would.
func tick(context.Context) error {
	ticks.Add(1)
	return nil
}

// BenchmarkOneTask: one task, New+Go+Wait, each implementation written as its
// users would write it; the floor is a bare go statement and a
// sync.WaitGroup.
func BenchmarkOneTask(b *testing.B) {
	ctx := context.Background()
	// checked fails b unless tick ran once since the last call.
	checked := func(b *testing.B, last *int64) {
		now := ticks.Load()
		if now != *last+1 {
			b.Fatalf("tick ran %d times, want 1", now-*last)
		}
		*last = now
	}
	runImpls(b,
		impl{"leash", func(b *testing.B) {
			last := ticks.Load()
			b.ReportAllocs()
			for b.Loop() {
				g := taskgroup.New(ctx)
				g.Go(tick)
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				checked(b, &last)
			}
		}},
		impl{"errgroup", func(b *testing.B) {
			last := ticks.Load()
			b.ReportAllocs()
			for b.Loop() {
				//leash:ignore LV2 errgroup is the benchmark's peer
				g, gctx := errgroup.WithContext(ctx)
				g.Go(func() error { return tick(gctx) })
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				checked(b, &last)
			}
		}},
		impl{"conc", func(b *testing.B) {
			last := ticks.Load()
			b.ReportAllocs()
			for b.Loop() {
				p := pool.New().WithErrors().WithContext(ctx)
				p.Go(tick)
				if err := p.Wait(); err != nil {
					b.Fatal(err)
				}
				checked(b, &last)
			}
		}},
		impl{"floor", func(b *testing.B) {
			last := ticks.Load()
			b.ReportAllocs()
			for b.Loop() {
				var wg sync.WaitGroup
				wg.Add(1)
				//leash:ignore LV1 the floor: what a hand-written program does
				go func() { defer wg.Done(); _ = tick(ctx) }()
				wg.Wait()
				checked(b, &last)
			}
		}},
	)
}
