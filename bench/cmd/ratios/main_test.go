package main

import (
	"math"
	"strings"
	"testing"
)

const rawSample = `# round 1, implementations forward
BenchmarkFanOut/n=100/impl=leash-2   	 100	 1100 ns/op	 6 allocs/op
BenchmarkFanOut/n=100/impl=errgroup-2	 100	 1000 ns/op	 6 allocs/op
BenchmarkFanOut/n=2/impl=leash-2     	 100	 100 ns/op	 4 allocs/op
BenchmarkFanOut/n=2/impl=errgroup-2  	 100	 200 ns/op	 6 allocs/op
BenchmarkOneTask/impl=leash-2        	 100	 50 ns/op
# round 2, implementations reverse
BenchmarkFanOut/n=100/impl=errgroup-2	 100	 400 ns/op	 6 allocs/op
BenchmarkFanOut/n=100/impl=leash-2   	 100	 480 ns/op	 6 allocs/op
BenchmarkFanOut/n=2/impl=errgroup-2  	 100	 200 ns/op	 6 allocs/op
BenchmarkFanOut/n=2/impl=leash-2     	 100	 100 ns/op	 4 allocs/op
# round 3, implementations forward
BenchmarkFanOut/n=100/impl=leash-2   	 100	 2300 ns/op	 6 allocs/op
BenchmarkFanOut/n=100/impl=errgroup-2	 100	 2000 ns/op	 6 allocs/op
`

func TestTable(t *testing.T) {
	rs := newResults()
	if err := rs.read(strings.NewReader(rawSample)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rs.table(&b, "leash", []string{"FanOut"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		// Per round: 1.10, 1.20, 1.15; median 1.15; all slower; exact p = 2/8.
		"| FanOut/n=2 | errgroup | 0.50x | 0.50-0.50 | 2 of 2 | 0.500 | 4 | 6 |",
		"| FanOut/n=100 | errgroup | 1.15x | 1.10-1.20 | 0 of 3 | 0.250 | 6 | 6 |",
	}
	if len(lines) != 2+len(want) {
		t.Fatalf("table:\n%s", b.String())
	}
	for i, w := range want {
		if lines[2+i] != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, lines[2+i], w)
		}
	}
}

func TestSignedRankP(t *testing.T) {
	up := func(n int) []float64 {
		r := make([]float64, n)
		for i := range r {
			r[i] = 1 + float64(i+1)/100
		}
		return r
	}
	// All n differences of one sign: p = 2/2^n.
	for _, n := range []int{3, 8, 12} {
		if p, want := signedRankP(up(n)), 2/math.Pow(2, float64(n)); math.Abs(p-want) > 1e-12 {
			t.Errorf("n=%d: p=%g, want %g", n, p, want)
		}
	}
	// Symmetric around 1: no evidence.
	if p := signedRankP([]float64{1.1, 1 / 1.1, 1.2, 1 / 1.2}); p != 1 {
		t.Errorf("symmetric: p=%g, want 1", p)
	}
	// The normal approximation beyond 20: tiny for 30 of one sign.
	if p := signedRankP(up(30)); p > 1e-5 {
		t.Errorf("n=30: p=%g", p)
	}
}

func TestNaturalCompare(t *testing.T) {
	if naturalCompare("Limit/limit=8/n=1000", "Limit/limit=64/n=1000") >= 0 {
		t.Error("limit=8 sorts after limit=64")
	}
	if naturalCompare("FanOut/n=100000", "FanOut/n=100") <= 0 {
		t.Error("n=100000 sorts before n=100")
	}
}
