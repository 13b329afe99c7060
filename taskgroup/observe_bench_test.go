package taskgroup_test

import (
	"context"
	"testing"
	"time"

	"github.com/leash-go/leash/taskgroup"
)

// BenchmarkNamed measures what observability costs (OB1-OB5): impl=leash is
// the unobserved group of BenchmarkOneTask, the others pay for a name (pprof
// labels, the tree), hooks, a straggler timeout or a slow-task threshold
// (OB7: BenchmarkSlowTask is its row).
func BenchmarkNamed(b *testing.B) {
	ctx := context.Background()
	var ended int
	cases := []struct {
		impl string
		opts []taskgroup.Option
		name string
	}{
		{"leash", nil, ""},
		{"leash-named-group", []taskgroup.Option{taskgroup.WithName("bench")}, ""},
		{"leash-named-task", nil, "task"},
		{"leash-named", []taskgroup.Option{taskgroup.WithName("bench")}, "task"},
		{"leash-hooks", []taskgroup.Option{taskgroup.WithHooks(taskgroup.Hooks{
			OnDone: func(taskgroup.TaskInfo, error, time.Duration) { ended++ },
		})}, ""},
		{"leash-stragglers", []taskgroup.Option{taskgroup.WithStragglerTimeout(time.Minute)}, ""},
		{"leash-slowtask", []taskgroup.Option{taskgroup.WithSlowTask(time.Minute)}, ""}, // OB7
	}
	for _, c := range cases {
		b.Run("tasks=1/impl="+c.impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g := taskgroup.New(ctx, c.opts...)
				g.GoNamed(c.name, nop)
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, c := range cases {
		b.Run("tasks=1000/impl="+c.impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g := taskgroup.New(ctx, c.opts...)
				for range manyTasks {
					g.GoNamed(c.name, nop)
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
