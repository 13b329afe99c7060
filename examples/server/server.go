package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leash-go/leash/semaphore"
	"github.com/leash-go/leash/taskgroup"
	"github.com/leash-go/leash/taskgroup/treehttp"
	"github.com/leash-go/leash/timeout"
)

// permits bounds the request tasks that run at once, across all requests.
const permits = 8

// legacyPermits bounds the calls to the legacy client that may be stuck at
// once, abandoned ones included (SV6).
const legacyPermits = 2

// A server holds what the program's services share.
type server struct {
	cfg       config
	stdout    io.Writer
	log       *slog.Logger
	sem       *semaphore.Semaphore // shared by every request's group
	legacySem *semaphore.Semaphore // held by every call to the legacy client, until it returns
	audit     *auditLog

	// Set by run before the listener starts, then only read.
	stopping   <-chan struct{}  // closed when the shutdown begins
	background *taskgroup.Group // fire-and-forget work: the audit records
	httpDone   chan struct{}    // closed once the HTTP server has drained

	nextID                                atomic.Int64
	accepted, completed, rejected, failed atomic.Int64
	auditFailed                           atomic.Int64
}

func newServer(cfg config, sink io.Writer, stdout io.Writer, log *slog.Logger) *server {
	return &server{cfg: cfg, stdout: stdout, log: log, sem: semaphore.New(permits), legacySem: semaphore.New(legacyPermits),
		audit: &auditLog{w: sink}, httpDone: make(chan struct{})}
}

// run is the program: service.Run calls it as the task "main" of the group
// "server", and it starts the services. Each is a task of that group, so
// the shutdown reaches all of them and the drain waits for all of them.
func (s *server) run(ctx context.Context, g *taskgroup.Group) error {
	s.stopping = ctx.Done()
	// The background group outlives the shutdown's start on purpose: the
	// audit records of requests still completing must be written. Its task
	// "background" waits for it once the HTTP server has drained, and the
	// drain bounds that wait like any other.
	// A failed audit write is logged and counted as it happens, not kept
	// (SV5): the group lives as long as the program. CollectAll: one failed
	// write does not cancel the others.
	s.background = taskgroup.New(context.WithoutCancel(ctx), taskgroup.WithName("background"), taskgroup.WithLogger(s.log),
		taskgroup.CollectAll(), taskgroup.WithFailureHandler(func(te *taskgroup.TaskError) {
			s.auditFailed.Add(1)
			s.log.Error("server: audit write failed", "error", te)
		}))
	g.GoNamed("background", func(ctx context.Context) error {
		<-ctx.Done()
		//leash:ignore LV4 the service's drain bounds this wait; ctx is already done here
		<-s.httpDone // no request can add an audit record any more
		err := s.background.Wait()
		if ge, ok := err.(*taskgroup.Error); ok && len(ge.Failures) == 0 {
			return nil // every failure was handled, and logged, as it happened
		}
		return err
	})

	addr, err := taskgroup.Start(g, "http", s.serveHTTP) // returns once the listener is bound (SV4)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "server: listening on http://%s (pid %d)\n", addr, os.Getpid())
	fmt.Fprintf(s.stdout, "  try:  curl 'http://%s/work?ms=200'   curl http://%s/debug/taskgroups   (pprof: /debug/pprof/)\n", addr, addr)
	if s.cfg.debug {
		fmt.Fprintf(s.stdout, "  -debug: curl http://%s/legacy   starts a task that ignores cancellation\n", addr)
		fmt.Fprintf(s.stdout, "          curl http://%s/legacy-call   gives up on it after 500ms; at most %d stay stuck\n", addr, legacyPermits)
	}
	fmt.Fprintf(s.stdout, "  stop: Ctrl-C or kill -TERM %d; the drain waits at most %v, a second signal ends it at once\n", os.Getpid(), s.cfg.drain)

	g.GoNamed("worker", s.worker)
	return nil
}

// serveHTTP is the task "http": it binds the listener, says it is ready
// with the address, serves, and on the shutdown waits for the requests in
// flight. Serving and shutting down are two tasks of a group of its own, so
// that no goroutine of the server is bare.
func (s *server) serveHTTP(ctx context.Context, ready func(net.Addr)) error {
	defer close(s.httpDone)
	ln, err := net.Listen("tcp", s.cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		// Requests keep the task's values (so their groups appear under
		// "http" in /debug/taskgroups) but not its cancellation: a graceful
		// drain lets the requests in flight complete.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ready(ln.Addr())

	g := taskgroup.New(ctx, taskgroup.WithName("http-server"))
	g.GoNamed("serve", func(context.Context) error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.GoNamed("shutdown", func(ctx context.Context) error {
		<-ctx.Done() // the program's shutdown, or serve failed
		// Shutdown closes the listener and idle connections, then waits for
		// the requests in flight; the program's drain bounds the wait.
		return srv.Shutdown(context.WithoutCancel(ctx))
	})
	return g.Wait()
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/work", s.work)
	if s.cfg.debug {
		mux.HandleFunc("/legacy", s.legacy)
		mux.HandleFunc("/legacy-call", s.legacyCall)
	}
	mux.Handle("/debug/taskgroups", treehttp.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// work serves /work?ms=N: a request that fans out to two tasks taking about
// N ms (50 by default), each holding a permit of the shared semaphore. A
// completed request gets 200 and an audit record, written in the
// background; a request that arrives once the shutdown has begun gets 503.
// Every request the handler sees is counted as accepted, and ends as
// completed, rejected or failed: none is dropped.
func (s *server) work(w http.ResponseWriter, r *http.Request) {
	s.accepted.Add(1)
	id := s.nextID.Add(1)
	w.Header().Set("X-Request-Id", strconv.FormatInt(id, 10))
	select {
	case <-s.stopping:
		s.rejected.Add(1)
		w.Header().Set("Connection", "close")
		http.Error(w, "server: shutting down", http.StatusServiceUnavailable)
		return
	default:
	}
	if s.cfg.onWork != nil {
		s.cfg.onWork()
	}
	d := 50 * time.Millisecond
	if ms, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil && ms >= 0 && ms <= 10_000 {
		d = time.Duration(ms) * time.Millisecond
	}

	g := taskgroup.New(r.Context(), taskgroup.WithName("request"), taskgroup.WithSemaphore(s.sem), taskgroup.WithLogger(s.log))
	stock := taskgroup.SpawnNamed(g, "lookup", func(ctx context.Context) (int, error) {
		return 42, pause(ctx, d/2)
	})
	g.GoNamed("compute", func(ctx context.Context) error { return pause(ctx, d) })
	if err := g.Wait(); err != nil { // the client went away, say
		s.failed.Add(1)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	n, _ := stock.Result()

	// The audit record is fire-and-forget for the request, not for the
	// program: the background group owns it, and the drain waits for it.
	s.background.GoNamed("audit", func(ctx context.Context) error {
		return s.audit.write(ctx, fmt.Sprintf("request %d %s %s 200\n", id, r.Method, r.URL.Path))
	})
	s.completed.Add(1)
	fmt.Fprintf(w, "ok request %d: %d in stock\n", id, n)
}

// legacy serves /legacy (with -debug): its task calls a client that takes
// no context, so nothing can cancel it. After a second it is reported as a
// slow task (OB7); on the shutdown the drain gives up on it.
func (s *server) legacy(w http.ResponseWriter, r *http.Request) {
	s.accepted.Add(1)
	// OB7: a task still running a second after it started is reported
	// once, with what its goroutine is doing, before anything is cancelled.
	g := taskgroup.New(r.Context(), taskgroup.WithName("request"), taskgroup.WithSlowTask(time.Second), taskgroup.WithLogger(s.log))
	g.GoNamed("legacy-report", func(context.Context) error {
		legacyReport()
		return nil
	})
	if err := g.Wait(); err != nil {
		s.failed.Add(1)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.completed.Add(1)
	fmt.Fprintln(w, "ok legacy report")
}

// legacyCall serves /legacy-call (with -debug): the same legacy client,
// called through timeout.Call, which gives up on it after 500ms and answers
// 504. The goroutine it abandons keeps its permit of s.legacySem until the
// client returns (SV6), so stuck calls cannot pile up: once legacyPermits
// of them are stuck, the next call finds no permit within its 500ms and
// the client is not called at all.
func (s *server) legacyCall(w http.ResponseWriter, r *http.Request) {
	s.accepted.Add(1)
	_, err := timeout.Call(r.Context(), 500*time.Millisecond, func() (struct{}, error) {
		legacyReport()
		return struct{}{}, nil
	}, timeout.WithLimiter(s.legacySem))
	if err != nil {
		s.failed.Add(1)
		msg := fmt.Sprintf("%v (legacy calls stuck: %d of %d permits held)", err, s.legacySem.Stats().InUse, legacyPermits)
		http.Error(w, msg, http.StatusGatewayTimeout)
		return
	}
	s.completed.Add(1)
	fmt.Fprintln(w, "ok legacy call")
}

// legacyReport stands for a client without a context or a timeout, stuck
// on a server that never answers.
func legacyReport() {
	time.Sleep(time.Hour)
}

// worker is the task "worker": a loop that logs what was served every
// second, until the shutdown.
func (s *server) worker(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if n := s.completed.Load(); n != last {
				s.log.Info("server: served", "completed", n, "rejected", s.rejected.Load(), "audited", s.audit.written.Load())
				last = n
			}
		}
	}
}

// pause waits d, or until ctx is done.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// An auditLog appends one record per completed request.
type auditLog struct {
	mu      sync.Mutex
	w       io.Writer
	written atomic.Int64
}

// write stands for a durable write that takes a little while: it waits
// 20ms, then appends the record.
func (a *auditLog) write(ctx context.Context, record string) error {
	if err := pause(ctx, 20*time.Millisecond); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := io.WriteString(a.w, record); err != nil {
		return err
	}
	a.written.Add(1)
	return nil
}
