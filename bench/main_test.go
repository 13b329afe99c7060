package bench_test

import (
	"flag"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// warmN is how many goroutines TestMain starts (all at once) before any
// benchmark runs: more than any benchmark has alive at a time (100k).
const warmN = 200_000

func TestMain(m *testing.M) {
	flag.Parse()
	// Only when benchmarks run: warm the runtime's goroutine pool, so that
	// run order does not favour the implementation measured later.
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" && os.Getenv("BENCH_NOWARM") == "" {
		warmGoroutines(warmN)
	}
	goleak.VerifyTestMain(m)
}
