// Command server is a small HTTP service whose every goroutine has an owner.
// service.Run runs it: the listener is started with readiness
// (taskgroup.Start) and returns the address it bound; each request fans out
// in its own task group, and all requests share one semaphore; a background
// group writes an audit record for every completed request; a worker loop
// reports what was served; /debug/taskgroups shows the live tree of groups
// beside net/http/pprof. SIGINT or SIGTERM starts a bounded drain: requests
// in flight complete, their audit records are written, and the process
// exits 0. A second signal ends the drain at once.
//
//	go run ./examples/server                    # listens on 127.0.0.1:8080
//	go run ./examples/server -addr 127.0.0.1:0  # any free port
//	go run ./examples/server -debug             # adds /legacy, a handler that ignores cancellation
//
// With -debug, a request to /legacy starts a task whose client takes no
// context: after a second it is logged as a slow task with its goroutine's
// state and stack; on SIGTERM the drain gives up on it at its bound
// (-drain), the report names it, and the process exits 143. /legacy-call
// calls the same client through timeout.Call, which answers 504 after
// 500ms; the calls it abandons hold their permits until the client returns,
// so at most two are ever stuck.
//
// At exit the server prints its counts on one line, for scripts and the
// end-to-end test:
//
//	server: accepted=120 completed=117 rejected=3 failed=0 audited=117 audit-failed=0 abandoned=0
//
// (abandoned counts the legacy calls that -debug's /legacy-call gave up on
// and that are still running: timeout.Abandoned.)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/leash-go/leash/service"
	"github.com/leash-go/leash/timeout"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen on `host:port`; port 0 picks a free one")
	drain := flag.Duration("drain", 10*time.Second, "bound the drain after SIGINT or SIGTERM to `duration` (service.DefaultDrain is 25s)")
	debug := flag.Bool("debug", false, "add /legacy, a handler whose task ignores cancellation, to see the slow-task and drain reports")
	audit := flag.String("audit", "", "append one audit record per completed request to `file` (default: count them only)")
	flag.Parse()
	if *drain <= 0 {
		fmt.Fprintf(os.Stderr, "server: -drain %v: the drain must be positive\n", *drain)
		os.Exit(2)
	}
	os.Exit(run(config{addr: *addr, drain: *drain, debug: *debug, audit: *audit}, os.Stdout, os.Stderr))
}

type config struct {
	addr  string
	drain time.Duration
	debug bool
	audit string // a file to append audit records to; "" for none

	// onWork, if set, is called as each /work request starts its work, once
	// it is past the shutdown's check: a shutdown that begins next lets the
	// request complete rather than reject it. No flag sets it; a program
	// embedding the server, or a test, can count requests in flight with it.
	onWork func()
}

// run runs the server until it is told to stop, and returns the exit status.
func run(cfg config, stdout, stderr io.Writer) int {
	var sink io.Writer = io.Discard
	if cfg.audit != "" {
		f, err := os.OpenFile(cfg.audit, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
		defer f.Close()
		sink = f
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	s := newServer(cfg, sink, stdout, logger)

	err := service.Run(context.Background(), s.run, service.WithName("server"), service.WithDrain(cfg.drain),
		service.WithLogger(logger))

	fmt.Fprintf(stdout, "server: accepted=%d completed=%d rejected=%d failed=%d audited=%d audit-failed=%d abandoned=%d\n",
		s.accepted.Load(), s.completed.Load(), s.rejected.Load(), s.failed.Load(), s.audit.written.Load(), s.auditFailed.Load(),
		timeout.Abandoned())
	var de *service.DrainError
	switch {
	case errors.As(err, &de):
		fmt.Fprintf(stderr, "\nserver: drain report\n%s", de.Report())
	case err != nil:
		fmt.Fprintln(stderr, "server:", err)
	}
	code := service.ExitCode(err)
	fmt.Fprintf(stdout, "server: exit status %d\n", code)
	return code
}
