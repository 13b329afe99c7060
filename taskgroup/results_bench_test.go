package taskgroup_test

import (
	"context"
	"testing"

	"github.com/leash-go/leash/taskgroup"
)

// MapOutcomes beside Map (RS1). The limited Map and the streams are measured
// beside their peers (errgroup, conc, the floor) in the bench module
// (../bench).

func items(n int) []int {
	in := make([]int, n)
	for i := range in {
		in[i] = i
	}
	return in
}

// BenchmarkOutcomes is MapOutcomes (RS1) beside a plain Map over 1000
// trivial items, unlimited: the price of accounting for every item.
func BenchmarkOutcomes(b *testing.B) {
	ctx := context.Background()
	in := items(manyTasks)
	b.Run("impl=leash-outcomes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := taskgroup.MapOutcomes(ctx, in, square); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=leash-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := taskgroup.Map(ctx, in, square); err != nil {
				b.Fatal(err)
			}
		}
	})
}
