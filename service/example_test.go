package service_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/leash-go/leash/service"
	"github.com/leash-go/leash/taskgroup"
)

// quietly keeps the examples' log (which goes to slog.Default, on stderr)
// out of the way.
var quietly = service.WithLogger(slog.New(slog.DiscardHandler))

// A program with two services: when the worker fails, the HTTP service sees
// its context cancelled, with a cause that names the worker, and stops.
func ExampleRun() {
	err := service.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
		g.GoNamed("http", func(ctx context.Context) error {
			<-ctx.Done()
			fmt.Println("http stops:", context.Cause(ctx))
			return ctx.Err()
		})
		g.GoNamed("worker", func(ctx context.Context) error {
			return errors.New("queue closed")
		})
		return nil
	}, service.WithName("api"), quietly)
	fmt.Println(err)
	fmt.Println("exit status", service.ExitCode(err))
	// Output:
	// http stops: task "worker" (#2): queue closed
	// taskgroup "api": task "worker" (#2): queue closed (1 task cancelled)
	// exit status 1
}

// A task that ignores its context keeps running after the shutdown began.
// The drain gives up on it at its bound, and the error names it; the task
// runs on, counted, until it returns.
func ExampleDrainError() {
	ctx, cancel := context.WithCancelCause(context.Background())
	release := make(chan struct{})
	err := service.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		g.GoNamed("legacy", func(context.Context) error {
			<-release // a call that takes no context
			return nil
		})
		cancel(errors.New("deploy")) // as a signal would
		return nil
	}, service.WithDrain(10*time.Millisecond), quietly)

	var de *service.DrainError
	if errors.As(err, &de) {
		fmt.Println(de)
		fmt.Println("still running:", service.Abandoned())
		close(release)
		<-de.Done()
		fmt.Println("still running:", service.Abandoned())
	}
	// Output:
	// service "service": shutdown on deploy: drain gave up after 10ms with 1 task still running: task "legacy" (#1)
	// still running: 1
	// still running: 0
}

// ExitCode gives main the conventional exit status of what Run returned.
func ExampleExitCode() {
	fmt.Println(service.ExitCode(nil))
	fmt.Println(service.ExitCode(errors.New("a task failed")))
	// Output:
	// 0
	// 1
}
