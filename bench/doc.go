// Package bench holds benchmarks that compare leash with peers the library
// must not depend on (github.com/sourcegraph/conc): a module of its own, so
// that leash's go.mod gains no requirement. It has no code outside its test
// files and the plot command (cmd/plot).
//
// The scaling suite of issue 14 (FanOut, OneTask, Limit, Nested, Spawn,
// LastFails, ErrorString, Semaphore, Streams, MapLimit) runs every
// implementation as a sub-benchmark impl=leash, impl=errgroup, impl=conc,
// impl=floor... of one family. run.sh runs it in interleaved rounds and writes
// benchstat tables and ratios paired by round (results/latest.txt,
// results/ratios.md; cmd/ratios) and the fan-out curve
// (results/scaling.svg, results/scaling.md):
//
//	./run.sh                       # every family, 8 rounds
//	QUICK=1 BENCH=FanOut ./run.sh  # a smoke run of one family
//
// By hand, from this directory:
//
//	go test -run '^$' -bench 'FanOut' -count 8 | tee new.txt
//	go tool benchstat -col /impl new.txt
package bench
