package taskgroup_test

import (
	"context"
	"testing"

	"github.com/leash-go/leash/taskgroup"
)

// BenchmarkStart starts one task that says it is ready and returns, then
// waits for the group: Start (SV4) beside its peer, Go plus a channel the
// task closes when it is ready, the handshake Start replaces.
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=start", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g := taskgroup.New(ctx)
			v, err := taskgroup.Start(g, "", func(_ context.Context, ready func(int)) error {
				ready(1)
				return nil
			})
			werr := g.Wait()
			if err != nil || v != 1 || werr != nil {
				b.Fatal(v, err, werr)
			}
		}
	})
	b.Run("impl=go+channel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g := taskgroup.New(ctx)
			var v int
			ready := make(chan struct{})
			g.Go(func(context.Context) error {
				v = 1
				close(ready)
				return nil
			})
			select {
			case <-ready:
			case <-g.Context().Done():
			}
			got := v
			if err := g.Wait(); err != nil || got != 1 {
				b.Fatal(got, err)
			}
		}
	})
}
