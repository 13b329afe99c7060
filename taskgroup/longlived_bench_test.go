package taskgroup_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/leash-go/leash/taskgroup"
)

// BenchmarkLongLived_SV5 runs a million short tasks, one in ten failing, in
// one long-lived group, and reports the heap the group holds once they have
// all ended: with every failure kept, and with WithFailureHandler. Run it
// with -benchtime=1x.
func BenchmarkLongLived_SV5(b *testing.B) {
	const tasks = 1_000_000
	for _, bc := range []struct {
		name string
		opts []taskgroup.Option
	}{
		{"kept", []taskgroup.Option{taskgroup.CollectAll()}},
		{"handled", []taskgroup.Option{taskgroup.CollectAll(), taskgroup.WithFailureHandler(func(*taskgroup.TaskError) {})}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				before := heapInUse()
				g := taskgroup.New(context.Background(), append(bc.opts, taskgroup.WithLimit(64))...)
				for i := range tasks {
					g.Go(func(context.Context) error {
						if i%10 == 0 {
							return errA
						}
						return nil
					})
				}
				err := g.Wait()
				b.ReportMetric(max(float64(heapInUse())-float64(before), 0)/(1<<20), "MiB-held")
				runtime.KeepAlive(g)
				runtime.KeepAlive(err)
			}
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
