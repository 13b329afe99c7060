package etcdlimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leash-go/leash/etcdlimit/internal/etcdtest"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The LIM3 fault tests: at least three worker processes (worker_test.go)
// share one limit on a real etcd while a fault is injected; the checker
// (checker_test.go) then proves from their logs that the holders never held
// more than the capacity. Each test is bounded: workers stop by themselves
// after workerLife, and every wait has a deadline. No wait sleeps: each is
// woken by an event (a log written, a watch on etcd, a process exit).
//
// The lease-expiry window checked is 0: a holder's Lease context ends (3/4
// TTL after the last acknowledged keep-alive) before the server may expire
// the lease, so no overlap is excused.

const (
	faultTTL   = 2 * time.Second
	workerLife = 60 * time.Second
)

// fleet is the worker processes of one test.
type fleet struct {
	t       *testing.T
	cmds    []*exec.Cmd
	done    []chan struct{}
	logs    []string
	stops   map[int]int64 // worker -> time it was killed
	written *os.File      // inotify: readable once a log was written to
}

func startFleet(t *testing.T, base workerConfig, cfgs ...func(*workerConfig)) *fleet {
	t.Helper()
	if testing.Short() {
		t.Skip("fault tests start processes and wait for leases to expire")
	}
	dir := t.TempDir()
	f := &fleet{t: t, stops: make(map[int]int64)}
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	require.NoError(t, err)
	f.written = os.NewFile(uintptr(fd), "inotify") // non-blocking: read deadlines work
	t.Cleanup(func() { f.written.Close() })
	_, err = syscall.InotifyAddWatch(fd, dir, syscall.IN_MODIFY)
	require.NoError(t, err)
	for i, set := range cfgs {
		cfg := base
		cfg.ID = i
		cfg.Log = filepath.Join(dir, fmt.Sprintf("worker-%d.log", i))
		cfg.Duration = workerLife
		set(&cfg)
		require.NoError(t, os.WriteFile(cfg.Log, nil, 0o644))
		js, err := json.Marshal(cfg)
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), workerEnv+"="+string(js))
		cmd.Stderr = &prefixed{t: t, prefix: fmt.Sprintf("worker %d: ", i)}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		require.NoError(t, cmd.Start())
		done := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(done)
		}()
		f.cmds, f.done, f.logs = append(f.cmds, cmd), append(f.done, done), append(f.logs, cfg.Log)
	}
	t.Cleanup(func() {
		for i, c := range f.cmds {
			_ = c.Process.Signal(syscall.SIGKILL)
			<-f.done[i]
		}
	})
	return f
}

// prefixed passes a worker's stderr to the test log.
type prefixed struct {
	t      *testing.T
	prefix string
}

func (p *prefixed) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		p.t.Log(p.prefix + l)
	}
	return len(b), nil
}

func same(cfg *workerConfig) {}

// grouped makes a worker bound its groups with taskgroup.WithLimiter.
func grouped(cfg *workerConfig) { cfg.Group = true }

func (f *fleet) read() logs { return readLogs(f.t, f.logs) }

// waitLogs reads the logs until cond holds, again each time a worker has
// written to its log, for at most limit. A write between a read and the
// wait is not missed: inotify keeps its event until it is read.
func (f *fleet) waitLogs(what string, limit time.Duration, cond func(logs) bool) logs {
	f.t.Helper()
	require.NoError(f.t, f.written.SetReadDeadline(time.Now().Add(limit)))
	events := make([]byte, 64<<10)
	for {
		lg := f.read()
		if cond(lg) {
			return lg
		}
		if _, err := f.written.Read(events); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				f.t.Fatalf("waited %v for %s; grants per worker: %v, errors %d", limit, what, lg.byProc, lg.errors)
			}
			f.t.Fatalf("waiting for %s: reading inotify: %v", what, err)
		}
	}
}

// waitDeleted waits until none of the keys under prefix whose create
// revisions are tokens is left, watching their deletion, until ctx is done.
// It returns how many are left.
func waitDeleted(t *testing.T, ctx context.Context, c *clientv3.Client, prefix string, tokens []int64) int {
	t.Helper()
	resp, err := c.Get(ctx, prefix, clientv3.WithPrefix())
	if ctx.Err() != nil {
		return len(tokens)
	}
	require.NoError(t, err)
	left := make(map[string]bool)
	for _, kv := range resp.Kvs {
		if slices.Contains(tokens, kv.CreateRevision) {
			left[string(kv.Key)] = true
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deletes := c.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1), clientv3.WithFilterPut())
	for len(left) > 0 {
		select {
		case wr, ok := <-deletes:
			if !ok || wr.Canceled {
				require.Error(t, ctx.Err(), "the watch ended: %v", wr.Err())
				return len(left)
			}
			for _, ev := range wr.Events {
				delete(left, string(ev.Kv.Key))
			}
		case <-ctx.Done():
			return len(left)
		}
	}
	return 0
}

// kill SIGKILLs worker i and notes when.
func (f *fleet) kill(i int) {
	require.NoError(f.t, f.cmds[i].Process.Signal(syscall.SIGKILL))
	f.stops[i] = now()
	<-f.done[i]
}

// stop SIGTERMs every live worker and waits, at most 20s, for them to finish
// their tasks and exit.
func (f *fleet) stop() int64 {
	for i, c := range f.cmds {
		if _, killed := f.stops[i]; !killed {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
	}
	for i := range f.cmds {
		select {
		case <-f.done[i]:
		case <-time.After(20 * time.Second):
			f.t.Fatalf("worker %d did not stop within 20s of SIGTERM", i)
		}
	}
	return now()
}

// check runs the checker over the logs and reports the counts.
func (f *fleet) check(capacity int64, runEnd int64) logs {
	f.t.Helper()
	lg := f.read()
	v, peak := overCapacity(lg.holds, capacity, 0, f.stops, runEnd)
	f.t.Logf("LIM3 %s: %d processes, %d grants (per process %v), peak %d of %d permits, %d violations, %d leases lost while held, %d fenced writes refused while held, %d Acquire errors",
		f.t.Name(), len(f.cmds), len(lg.holds), lg.byProc, peak, capacity, len(v), lg.lost(), lg.fenced, lg.errors)
	if len(lg.errorWhy) > 0 {
		f.t.Logf("LIM3 Acquire errors: %v", lg.errorWhy)
	}
	require.Empty(f.t, v, "holders exceeded the capacity")
	require.Zero(f.t, lg.fenced, "a write was refused by the fence while its grant's Lease was not done")
	return lg
}

func openHolds(lg logs, proc int) []int64 {
	var tokens []int64
	for _, h := range lg.holds {
		if h.proc == proc && h.open {
			tokens = append(tokens, h.token)
		}
	}
	return tokens
}

func TestFault_LIM3_KilledHolderPermitsReturnAfterTTL(t *testing.T) {
	m := etcdtest.Start(t)
	c := etcdtest.Client(t, m)
	const capacity = 3
	base := workerConfig{
		Endpoints: etcdtest.Endpoints(m), Prefix: "lim3/", Capacity: capacity, TTL: faultTTL,
		Tasks: 3, MaxWeight: 2, HoldMin: 5 * time.Millisecond, HoldMax: 40 * time.Millisecond,
	}
	f := startFleet(t, base,
		func(c *workerConfig) { // holds one permit until killed
			c.Tasks, c.MaxWeight, c.HoldMin, c.HoldMax = 1, 1, time.Minute, time.Minute
		},
		same, grouped)
	f.waitLogs("worker 0 to hold and the others to work", 30*time.Second, func(lg logs) bool {
		return len(openHolds(lg, 0)) > 0 && lg.byProc[1]+lg.byProc[2] >= 10
	})
	f.kill(0)
	killed := f.stops[0]
	tokens := openHolds(f.read(), 0)
	// Its keys go when the server expires its lease: within the TTL (plus
	// the server's expiry check, every 500ms, and a margin for a busy
	// machine).
	bound := faultTTL + 2*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	left := waitDeleted(t, ctx, c, "lim3/queue/", tokens)
	cancel()
	require.Zero(t, left, "the killed holder's %d keys are still there %v after SIGKILL", left, bound)
	returned := now()
	t.Logf("LIM3 killed holder's %d grants returned %v after SIGKILL (TTL %v)", len(tokens), time.Duration(returned-killed).Round(time.Millisecond), faultTTL)
	f.waitLogs("the others to go on", 30*time.Second, func(lg logs) bool {
		a := lg.after(returned)
		return a[1] >= 5 && a[2] >= 5
	})
	f.check(capacity, f.stop())
}

func TestFault_LIM3_PausedServerEndsLeasesThenRecovers(t *testing.T) {
	m := etcdtest.Start(t)
	const capacity = 2
	base := workerConfig{
		Endpoints: etcdtest.Endpoints(m), Prefix: "lim3/", Capacity: capacity, TTL: faultTTL,
		// A grant is held for at least the TTL: a hold granted just before
		// the pause is still running when its lease ends.
		Tasks: 2, MaxWeight: 1, HoldMin: faultTTL, HoldMax: faultTTL + 500*time.Millisecond,
	}
	f := startFleet(t, base, same, same, grouped)
	f.waitLogs("grants before the pause", 30*time.Second, func(lg logs) bool {
		// A holder writing under its fence, granted less than a second ago
		// (so at least another second to go), is cut off mid-write by the
		// pause and sees its lease end.
		fresh := now() - int64(time.Second)
		return len(lg.holds) >= 4 && slices.ContainsFunc(lg.holds, func(h hold) bool {
			return h.open && h.proc != 2 && h.start > fresh
		})
	})
	m.Pause(t)
	paused := now()
	// The server stays paused until every worker has seen its lease end
	// (3/4 TTL after its last acknowledged keep-alive, before the server
	// may expire it): by then every holder at the pause has been told to
	// stop, and every waiter to give up.
	f.waitLogs("every worker's lease to end", 10*time.Second, func(lg logs) bool {
		return lg.leasesEndedAfter(paused, len(f.cmds))
	})
	m.Resume()
	resumed := now()
	t.Logf("LIM3 server paused with SIGSTOP for %v", time.Duration(resumed-paused).Round(time.Millisecond))
	f.waitLogs("every worker to be granted again", 30*time.Second, func(lg logs) bool {
		a := lg.after(resumed)
		return a[0] >= 2 && a[1] >= 2 && a[2] >= 2
	})
	lg := f.check(capacity, f.stop())
	require.NotZero(t, lg.lost(), "the holders at the pause saw their leases end")
	for _, why := range lg.lostWhy {
		require.Contains(t, why, "etcdlimit: lease lost")
	}
	t.Logf("LIM3 recoveries: grants after SIGCONT per worker %v", lg.after(resumed))
}

func TestFault_LIM3_ClusterMemberStoppedWorkGoesOn(t *testing.T) {
	ms := etcdtest.StartCluster(t, 3)
	c := etcdtest.Client(t, ms...)
	const capacity = 3
	base := workerConfig{
		Endpoints: etcdtest.Endpoints(ms...), Prefix: "lim3/", Capacity: capacity, TTL: 5 * time.Second,
		Tasks: 3, MaxWeight: 2, HoldMin: 5 * time.Millisecond, HoldMax: 40 * time.Millisecond,
	}
	f := startFleet(t, base, same, same, grouped)
	f.waitLogs("grants before the stop", 30*time.Second, func(lg logs) bool { return len(lg.holds) >= 15 })
	// Stop the leader: the hardest member to lose.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	st, err := c.Status(ctx, ms[0].ClientURL)
	cancel()
	require.NoError(t, err)
	victim := ms[0]
	for _, m := range ms {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := c.Status(ctx, m.ClientURL)
		cancel()
		require.NoError(t, err)
		if s.Header.MemberId == st.Leader {
			victim = m
		}
	}
	victim.Kill()
	stopped := now()
	t.Logf("LIM3 stopped member %s (the leader) with SIGKILL", victim.Name)
	f.waitLogs("every worker to be granted after the stop", 45*time.Second, func(lg logs) bool {
		a := lg.after(stopped)
		return a[0] >= 5 && a[1] >= 5 && a[2] >= 5
	})
	lg := f.check(capacity, f.stop())
	t.Logf("LIM3 grants after the member stopped, per worker: %v", lg.after(stopped))
}
