module github.com/leash-go/leash/bench

go 1.25.0

replace github.com/leash-go/leash => ../

require (
	github.com/leash-go/leash v0.0.0
	github.com/sourcegraph/conc v0.3.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.22.0
)

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	go.uber.org/atomic v1.7.0 // indirect
	go.uber.org/multierr v1.9.0 // indirect
	golang.org/x/perf v0.0.0-20251208221838-04cf7a2dca90 // indirect
)

tool golang.org/x/perf/cmd/benchstat
