// Package bench holds benchmarks that compare leash with peers the library
// must not depend on (github.com/sourcegraph/conc): a module of its own, so
// that leash's go.mod gains no requirement. It has no code outside its test
// files. Run it from this directory:
//
//	go test -run XXX -bench . -count 10 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl new.txt
package bench
