package semaphore_test

import (
	"context"
	"testing"

	"github.com/leash-go/leash/semaphore"
	xsync "golang.org/x/sync/semaphore"
)

// Every benchmark family runs leash beside golang.org/x/sync/semaphore (and,
// where weights do not matter, a buffered channel, the floor), so that
//
//	go test -run '^$' -bench . -count 10 -benchmem ./semaphore > sem.bench
//	benchstat -col /impl sem.bench
//
// prints the ratio in one table.

// BenchmarkAcquireRelease: one goroutine, never any contention.
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	benchAcquireRelease(b, ctx)
	b.Run("impl=chan", func(b *testing.B) {
		s := make(chan struct{}, 1)
		b.ReportAllocs()
		for b.Loop() {
			select {
			case s <- struct{}{}:
			case <-ctx.Done():
			}
			<-s
		}
	})
}

// BenchmarkAcquireReleaseCancellable is AcquireRelease with a context that
// can be cancelled, as in a server handler.
func BenchmarkAcquireReleaseCancellable(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchAcquireRelease(b, ctx)
}

// benchAcquireRelease runs leash and x/sync in one goroutine, acquiring and
// releasing one permit of one with ctx. Each loop calls its semaphore's
// methods directly, not through an interface, so that the numbers are those
// a caller sees.
func benchAcquireRelease(b *testing.B, ctx context.Context) {
	b.Run("impl=leash", func(b *testing.B) {
		s := semaphore.New(1)
		b.ReportAllocs()
		for b.Loop() {
			_ = s.Acquire(ctx, 1)
			s.Release(1)
		}
	})
	b.Run("impl=xsync", func(b *testing.B) {
		s := xsync.NewWeighted(1)
		b.ReportAllocs()
		for b.Loop() {
			_ = s.Acquire(ctx, 1)
			s.Release(1)
		}
	})
}

// BenchmarkContended: every P acquires and releases one permit of one.
func BenchmarkContended(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=leash", func(b *testing.B) {
		s := semaphore.New(1)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = s.Acquire(ctx, 1)
				s.Release(1)
			}
		})
	})
	b.Run("impl=xsync", func(b *testing.B) {
		s := xsync.NewWeighted(1)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = s.Acquire(ctx, 1)
				s.Release(1)
			}
		})
	})
	b.Run("impl=chan", func(b *testing.B) {
		s := make(chan struct{}, 1)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				select {
				case s <- struct{}{}:
				case <-ctx.Done():
				}
				<-s
			}
		})
	})
}

// BenchmarkWeighted: 4 goroutines per P take weights from a mix of mostly
// light requests and some heavy ones, out of a capacity of 8.
func BenchmarkWeighted(b *testing.B) {
	benchMix(b, []int64{1, 2, 1, 3, 1, 1, 4, 2})
}

// BenchmarkLargeHead: 4 goroutines per P take one permit of 8, but every 16th
// request takes all 8, so it sits at the head of the queue and holds back the
// light ones behind it until every permit is back (SEM1).
func BenchmarkLargeHead(b *testing.B) {
	benchMix(b, []int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8})
}

// benchMix runs leash and x/sync with 8 permits and 4 goroutines per P, each
// acquiring and releasing the weights in turn.
func benchMix(b *testing.B, weights []int64) {
	ctx := context.Background()
	b.Run("impl=leash", func(b *testing.B) {
		s := semaphore.New(8)
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				w := weights[i%len(weights)]
				_ = s.Acquire(ctx, w)
				s.Release(w)
			}
		})
	})
	b.Run("impl=xsync", func(b *testing.B) {
		s := xsync.NewWeighted(8)
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				w := weights[i%len(weights)]
				_ = s.Acquire(ctx, w)
				s.Release(w)
			}
		})
	})
}
