package shield_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/leash-go/leash/shield"
)

// fast stands for cleanup that finishes well inside its bound. It is a
// variable so that the call is not inlined away, on our side or the peer's.
var fast = func(ctx context.Context) error { return ctx.Err() }

// BenchmarkDo runs Do (and Cleanup) around a fast fn beside its peer,
// context.WithoutCancel plus context.WithTimeout plus a direct call, and the
// floor of a go statement with a WaitGroup, under a cancelable parent.
// Compare with: benchstat -col /impl.
func BenchmarkDo(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("impl=WithoutCancel+WithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = fast(sctx)
			cancel()
		}
	})
	b.Run("impl=Do", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = shield.Do(ctx, time.Second, fast)
		}
	})
	b.Run("impl=Cleanup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var err error
			shield.Cleanup(ctx, time.Second, &err, fast)
		}
	})
	b.Run("impl=go+WaitGroup", func(b *testing.B) {
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
