//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// The end-to-end tests build this program, start it as a process of its own
// on a loopback port, and drive it with a real HTTP client over real time.
// Every wait is for an event, bounded by a deadline: a string in the
// process's output, read through its pipes as it arrives; its exit, from
// cmd.Wait; an HTTP response; a number of requests completed. None sleeps
// or polls.
//
// They run once per `go test`, not under -race: the race stage repeats the
// package with -count and -cpu, and the server they test is a separate
// binary the race detector does not instrument.

const (
	startDeadline = 10 * time.Second // from exec to "listening on"
	exitDeadline  = 10 * time.Second // from the last signal to the process's exit
)

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// serverBinary builds examples/server once per test binary.
func serverBinary(t *testing.T) string {
	t.Helper()
	if raceEnabled {
		t.Skip("end-to-end: runs in the plain test stage; the server binary is not race-instrumented")
	}
	build.once.Do(func() {
		gotool, err := exec.LookPath("go")
		if err != nil {
			build.err = err
			return
		}
		if build.dir, build.err = os.MkdirTemp("", "leash-server-e2e-"); build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "server")
		out, err := exec.Command(gotool, "build", "-o", build.bin, ".").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, build.err)
	return build.bin
}

func removeBuild() {
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
}

// An output collects what a program writes to one stream while the test
// reads it, and wakes the test waiting for a string in it at each write.
// As a process's Stdout or Stderr, it is written by exec's copy from the
// pipe the process writes to, as the bytes arrive.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed at the next write; nil until someone waits
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.buf.Write(p)
	if o.written != nil {
		close(o.written)
		o.written = nil
	}
	return n, err
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// next returns what was written so far and a channel closed at the next
// write.
func (o *output) next() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.written == nil {
		o.written = make(chan struct{})
	}
	return o.buf.String(), o.written
}

// waitOutput waits until stdout or stderr contains s: it looks again at
// each write to either, and gives up when ended is closed (the program
// ended, its output complete) or after within.
func waitOutput(t *testing.T, stdout, stderr *output, ended <-chan struct{}, s string, within time.Duration) {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		out, outWritten := stdout.next()
		errs, errWritten := stderr.next()
		if strings.Contains(out, s) || strings.Contains(errs, s) {
			return
		}
		select {
		case <-outWritten:
		case <-errWritten:
		case <-ended:
			require.True(t, strings.Contains(stdout.String(), s) || strings.Contains(stderr.String(), s),
				"the server ended without writing %q", s)
			return
		case <-timer.C:
			require.FailNow(t, "no output", "no %q within %v", s, within)
		}
	}
}

// A proc is the server running as a process.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr output
	base           string        // http://127.0.0.1:port
	exited         chan struct{} // closed once the process has exited and its output is read
	exitedAt       time.Time
}

var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+) \(pid`)

// startServer starts the server with args on a free loopback port and waits
// until it listens.
func startServer(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{exited: make(chan struct{})}
	p.cmd = exec.Command(serverBinary(t), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	require.NoError(t, p.cmd.Start())
	g := taskgroup.New(context.Background(), taskgroup.WithName("server-process"))
	g.GoNamed("wait", func(context.Context) error { // ends when the process does
		_ = p.cmd.Wait() // a status other than 0 is an error; the tests read ProcessState
		p.exitedAt = time.Now()
		close(p.exited)
		return nil
	})
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
		}
		require.NoError(t, g.Wait())
		if t.Failed() {
			t.Logf("server stdout:\n%s\nserver stderr:\n%s", p.stdout.String(), p.stderr.String())
		}
	})
	p.waitFor(t, "listening on", startDeadline)
	p.base = listening.FindStringSubmatch(p.stdout.String())[1]
	return p
}

// waitFor waits until the process's stdout or stderr contains s, at most
// within.
func (p *proc) waitFor(t *testing.T, s string, within time.Duration) {
	t.Helper()
	waitOutput(t, &p.stdout, &p.stderr, p.exited, s, within)
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) time.Time {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	return time.Now()
}

// exit waits for the process to exit and returns its status.
func (p *proc) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(exitDeadline):
		require.FailNow(t, "the server did not exit", "within %v", exitDeadline)
		return 0
	}
}

var countsLine = regexp.MustCompile(`server: accepted=(\d+) completed=(\d+) rejected=(\d+) failed=(\d+) audited=(\d+) audit-failed=(\d+)`)

type counts struct{ accepted, completed, rejected, failed, audited, auditFailed int }

func (p *proc) counts(t *testing.T) counts {
	t.Helper()
	m := countsLine.FindStringSubmatch(p.stdout.String())
	require.NotNil(t, m, "the server printed its counts")
	n := make([]int, 6)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return counts{n[0], n[1], n[2], n[3], n[4], n[5]}
}

// load is what the client saw.
type load struct {
	mu             sync.Mutex
	sent           int
	ok             []int // the X-Request-Id of every 200
	rejected       int   // 503: the server was shutting down
	otherStatus    int
	transportErrs  int // no response: refused, or reset
	errsBeforeTerm int // transport errors before the SIGTERM: none expected
}

func (l *load) record(resp *http.Response, err error, termSent bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	switch {
	case err != nil:
		l.transportErrs++
		if !termSent {
			l.errsBeforeTerm++
		}
	case resp.StatusCode == http.StatusOK:
		id, _ := strconv.Atoi(resp.Header.Get("X-Request-Id"))
		l.ok = append(l.ok, id)
	case resp.StatusCode == http.StatusServiceUnavailable:
		l.rejected++
	default:
		l.otherStatus++
	}
}

func TestE2E_SV3_SIGTERMUnderLoadDrainsEveryAcceptedRequestAndItsAudit(t *testing.T) {
	const (
		drain       = 5 * time.Second
		clients     = 4
		interval    = 5 * time.Millisecond // per client: at most 800 requests/s in all
		maxRequests = 1500                 // bounded in count...
		maxLoad     = 8 * time.Second      // ...and in time
		termAfter   = 60                   // SIGTERM once this many requests completed
	)
	auditFile := filepath.Join(t.TempDir(), "audit.log")
	p := startServer(t, "-drain", drain.String(), "-audit", auditFile)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var l load
	var termSent atomic.Bool
	var termAt time.Time
	var sent atomic.Int64
	completed := make(chan struct{}, maxRequests)

	ctx, cancel := context.WithTimeout(context.Background(), maxLoad)
	defer cancel()
	g := taskgroup.New(ctx, taskgroup.WithName("load"))
	for range clients {
		g.GoNamed("client", func(ctx context.Context) error {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for sent.Add(1) <= maxRequests {
				select {
				case <-ctx.Done():
					return nil
				case <-p.exited:
					return nil
				case <-tick.C:
				}
				resp, err := client.Get(p.base + "/work?ms=30")
				// Read after the request: one that fails while termSent is
				// still false failed before the SIGTERM was sent (termSent
				// is set first). Read before, a request sent just before
				// the signal and cut by the shutdown would count.
				was := termSent.Load()
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						completed <- struct{}{}
					}
				}
				l.record(resp, err, was)
			}
			return nil
		})
	}
	g.GoNamed("terminator", func(ctx context.Context) error {
		for range termAfter {
			select {
			case <-completed:
			case <-ctx.Done():
				return fmt.Errorf("only some requests completed before the load's deadline")
			}
		}
		termSent.Store(true)
		termAt = p.signal(t, syscall.SIGTERM)
		return nil
	})
	require.NoError(t, g.Wait())
	code := p.exit(t)
	drained := p.exitedAt.Sub(termAt)

	c := p.counts(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("client: sent %d, 200 %d, 503 %d, other %d, no response %d; server: %+v; exit %d, %v after SIGTERM",
		l.sent, len(l.ok), l.rejected, l.otherStatus, l.transportErrs, c, code, drained.Round(time.Millisecond))

	require.Equal(t, 0, code, "a clean drain exits 0")
	require.Less(t, drained, drain, "within the drain bound")
	require.Zero(t, l.errsBeforeTerm, "no request failed before the SIGTERM")
	require.Zero(t, l.otherStatus, "every response is a 200 or a 503")
	require.Zero(t, c.failed)
	require.Zero(t, c.auditFailed)
	require.Equal(t, c.accepted, c.completed+c.rejected, "every accepted request completed or was rejected")
	require.Equal(t, len(l.ok), c.completed, "every completed request reached the client")
	require.Equal(t, l.rejected, c.rejected, "every rejection reached the client")
	require.Equal(t, c.completed, c.audited, "every completed request was audited")

	audit, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	ids := map[int]bool{}
	for line := range strings.Lines(string(audit)) {
		var id int
		_, err := fmt.Sscanf(line, "request %d GET /work 200\n", &id)
		require.NoError(t, err, "audit line %q", line)
		ids[id] = true
	}
	require.Len(t, ids, c.completed, "one audit record per completed request")
	for _, id := range l.ok {
		require.True(t, ids[id], "request %d answered 200 but has no audit record", id)
	}
}

// legacySlow is the slow-task report (OB7) of the task that /legacy starts:
// it is logged a second after the task started, which it never ends.
const legacySlow = `msg="taskgroup: task is slow" group=request task=legacy-report`

// stuck starts the server with -debug and sends a request to /legacy. The
// caller knows the legacy task runs once the server logs legacySlow.
func stuck(t *testing.T, drain time.Duration) (*proc, func()) {
	t.Helper()
	p := startServer(t, "-debug", "-drain", drain.String())
	client := &http.Client{Timeout: exitDeadline + drain}
	g := taskgroup.New(context.Background(), taskgroup.WithName("legacy-client"))
	g.GoNamed("legacy", func(context.Context) error {
		resp, err := client.Get(p.base + "/legacy")
		if err == nil { // the process exits before it answers
			resp.Body.Close()
			return fmt.Errorf("/legacy answered %s", resp.Status)
		}
		return nil
	})
	return p, func() { require.NoError(t, g.Wait()) }
}

func TestE2E_SV3_StuckHandlerDrainGivesUpAtItsBoundAndNamesIt(t *testing.T) {
	const drain = time.Second
	p, done := stuck(t, drain)
	// SV6 on the way, while the legacy task starts: /legacy-call gives up on
	// the same client after 500ms, and the calls it abandons keep their
	// permits: after two, the third finds none and does not call the client.
	// The legacy task holds no such permit.
	for i, held := range []string{"1 of 2", "2 of 2", "2 of 2"} {
		resp, err := http.Get(p.base + "/legacy-call")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusGatewayTimeout, resp.StatusCode, "call %d", i)
		require.Contains(t, string(body), "legacy calls stuck: "+held+" permits held", "call %d", i)
	}
	http.DefaultClient.CloseIdleConnections()
	p.waitFor(t, legacySlow, startDeadline) // the legacy task runs: logged by now, a second after it started
	termAt := p.signal(t, syscall.SIGTERM)
	code := p.exit(t)
	done()
	took := p.exitedAt.Sub(termAt)
	t.Logf("exit %d, %v after SIGTERM", code, took.Round(time.Millisecond))

	require.Equal(t, 128+int(syscall.SIGTERM), code, "the drain gave up: as if SIGTERM had killed it")
	require.GreaterOrEqual(t, took, drain, "not before the bound")
	require.Less(t, took, drain+exitDeadline/2, "and soon after it")
	stderr := p.stderr.String()
	require.Contains(t, stderr, `service "server": shutdown on signal terminated: drain gave up after 1s with 2 tasks still running: task "background" (#1), task "http" (#2)`)
	require.Contains(t, stderr, `└── task "legacy-report" #0 (running `, "the report's tree names the stuck task")
	require.Contains(t, stderr, "main.(*server).serveHTTP", "with the stack of the task it keeps waiting")
	require.Contains(t, p.stdout.String(), " abandoned=2\n", "the two legacy calls given up on, still counted")
}

func TestE2E_SV3_SecondSIGTERMEndsTheDrainAtOnce(t *testing.T) {
	const drain = time.Minute
	p, done := stuck(t, drain)
	p.waitFor(t, legacySlow, startDeadline) // OB7, before any signal
	p.signal(t, syscall.SIGTERM)
	p.waitFor(t, "service: shutting down", exitDeadline)
	secondAt := p.signal(t, syscall.SIGTERM)
	code := p.exit(t)
	done()
	took := p.exitedAt.Sub(secondAt)
	t.Logf("exit %d, %v after the second SIGTERM", code, took.Round(time.Millisecond))

	require.Equal(t, 128+int(syscall.SIGTERM), code)
	require.Less(t, took, exitDeadline, "at once, not after the minute's bound")
	stderr := p.stderr.String()
	require.Contains(t, stderr, "drain cut short by a second signal (terminated)")
	require.Contains(t, stderr, `└── task "legacy-report" #0 (running `)
}
