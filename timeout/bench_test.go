package timeout_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/leash-go/leash/timeout"
)

// fast stands for work that finishes well inside its timeout. It is a
// variable so that the call is not inlined away, on our side or the peer's.
var fast = func(ctx context.Context) error { return ctx.Err() }

var fastBlocking = func() (int, error) { return 1, nil }

// parents are the contexts the benchmarks run under: none to propagate to,
// and a request-like one that can be cancelled.
func parents(b *testing.B) map[string]context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	return map[string]context.Context{"background": context.Background(), "cancelable": ctx}
}

// BenchmarkWaitFor runs WaitFor around a fast fn beside its peer,
// context.WithTimeout plus a direct call, and the floor of a go statement
// with a WaitGroup. Compare with: benchstat -col /impl.
func BenchmarkWaitFor(b *testing.B) {
	for _, parent := range []string{"background", "cancelable"} {
		ctx := parents(b)[parent]
		b.Run("parent="+parent+"/impl=WithTimeout", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				_ = fast(cctx)
				cancel()
			}
		})
		b.Run("parent="+parent+"/impl=WaitFor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = timeout.WaitFor(ctx, time.Second, fast)
			}
		})
		b.Run("parent="+parent+"/impl=go+WaitGroup", func(b *testing.B) {
			b.ReportAllocs()
			var wg sync.WaitGroup
			for b.Loop() {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = fast(ctx)
				}()
				wg.Wait()
			}
		})
	}
}

// BenchmarkCall runs Call around a fast blocking function beside its peer,
// a goroutine sending on a channel and a select with a timeout, and the
// floor of a go statement with a WaitGroup. WaitFor with Grace, which runs
// fn the same way, sits beside them.
func BenchmarkCall(b *testing.B) {
	ctx := parents(b)["cancelable"]
	b.Run("impl=go+select", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			done := make(chan int, 1)
			go func() {
				v, _ := fastBlocking()
				done <- v
			}()
			select {
			case <-done:
			case <-cctx.Done():
			}
			cancel()
		}
	})
	b.Run("impl=Call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = timeout.Call(ctx, time.Second, fastBlocking)
		}
	})
	b.Run("impl=WaitFor+Grace", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = timeout.WaitFor(ctx, time.Second, fast, timeout.Grace(time.Second))
		}
	})
	b.Run("impl=go+WaitGroup", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = fastBlocking()
			}()
			wg.Wait()
		}
	})
}
