package bench_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// failN is the number of tasks of BenchmarkLastFails and of failures of
// BenchmarkErrorString.
const failN = 100_000

var errLast = errors.New("the last task failed")

// blockOnCtx is a task that waits for its group's cancellation and echoes it.
func blockOnCtx(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// BenchmarkLastFails: failN tasks, all but the last waiting on their
// context and returning ctx.Err(), the last returning errLast: the group's
// wait must return errLast (and, for leash, list it as the only failure).
// leash, errgroup.WithContext, conc's context pool WithCancelOnError and
// WithFirstError, and the floor: go + sync.WaitGroup, a context with a cause
// and a sync.Once for the first error.
func BenchmarkLastFails(b *testing.B) {
	ctx := context.Background()
	runImpls(b,
		impl{"leash", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g := taskgroup.New(ctx)
				for range failN - 1 {
					g.Go(blockOnCtx)
				}
				g.Go(func(context.Context) error { return errLast })
				err := g.Wait()
				var te *taskgroup.Error
				if !errors.As(err, &te) || len(te.Failures) != 1 || !errors.Is(err, errLast) {
					b.Fatalf("Wait: %.200v, want errLast alone", err)
				}
			}
			perTask(b, failN)
		}},
		impl{"errgroup", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				//leash:ignore LV2 errgroup is the benchmark's peer
				g, gctx := errgroup.WithContext(ctx)
				block := func() error { return blockOnCtx(gctx) }
				for range failN - 1 {
					g.Go(block)
				}
				g.Go(func() error { return errLast })
				if err := g.Wait(); err != errLast {
					b.Fatalf("Wait: %.200v, want errLast", err)
				}
			}
			perTask(b, failN)
		}},
		impl{"conc", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := pool.New().WithErrors().WithContext(ctx).WithCancelOnError().WithFirstError()
				for range failN - 1 {
					p.Go(blockOnCtx)
				}
				p.Go(func(context.Context) error { return errLast })
				if err := p.Wait(); !errors.Is(err, errLast) {
					b.Fatalf("Wait: %.200v, want errLast", err)
				}
			}
			perTask(b, failN)
		}},
		impl{"floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cctx, cancel := context.WithCancelCause(ctx)
				var (
					wg    sync.WaitGroup
					once  sync.Once
					first error
				)
				run := func(f func(context.Context) error) {
					defer wg.Done()
					if err := f(cctx); err != nil {
						once.Do(func() { first = err; cancel(err) })
					}
				}
				wg.Add(failN)
				for range failN - 1 {
					//leash:ignore LV1 the floor: what a hand-written program does
					go run(blockOnCtx)
				}
				//leash:ignore LV1 the floor: what a hand-written program does
				go run(func(context.Context) error { return errLast })
				wg.Wait()
				cancel(nil)
				if first != errLast {
					b.Fatalf("first error: %.200v, want errLast", first)
				}
			}
			perTask(b, failN)
		}},
	)
}

// BenchmarkErrorString: the message of an error listing failN failures, each
// a distinct error: taskgroup's *Error, made by a CollectAll group whose
// failN tasks each returned one of them, against errors.Join of the same
// errors. Both values are built before the timed loop, which times Error().
func BenchmarkErrorString(b *testing.B) {
	ctx := context.Background()
	errs := make([]error, failN)
	least := 0 // every error's message is in both
	for i := range errs {
		errs[i] = errors.New("item " + strconv.Itoa(i) + " failed")
		least += len(errs[i].Error())
	}
	g := taskgroup.New(ctx, taskgroup.CollectAll())
	for i := range failN {
		g.Go(func(context.Context) error { return errs[i] })
	}
	var te *taskgroup.Error
	if err := g.Wait(); !errors.As(err, &te) || len(te.Failures) != failN {
		b.Fatalf("Wait: want an *Error with %d failures", failN)
	}
	joined := errors.Join(errs...)
	runImpls(b,
		impl{"leash", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s := te.Error(); len(s) < least {
					b.Fatalf("message of %d bytes, want at least %d", len(s), least)
				}
			}
			perUnit(b, failN, "ns/failure")
		}},
		impl{"join", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s := joined.Error(); len(s) < least {
					b.Fatalf("message of %d bytes, want at least %d", len(s), least)
				}
			}
			perUnit(b, failN, "ns/failure")
		}},
	)
}
