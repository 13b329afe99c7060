package etcdlimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leash-go/leash/etcdlimit"
	"github.com/leash-go/leash/taskgroup"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// A worker is one OS process of the LIM3 tests: the test binary run again
// with workerEnv set to a JSON workerConfig. It runs task groups, round
// after round, whose tasks each take a grant of the shared etcd limit, hold
// it while making fenced writes to etcd, and give it back; it records every
// grant to its log. It stops by itself after Duration, or at SIGTERM.
const workerEnv = "ETCDLIMIT_WORKER"

type workerConfig struct {
	ID        int
	Endpoints []string
	Prefix    string
	Capacity  int64
	TTL       time.Duration
	Log       string
	Tasks     int           // tasks per group
	MaxWeight int64         // each task asks for 1..MaxWeight permits
	HoldMin   time.Duration // each grant is held for HoldMin..HoldMax
	HoldMax   time.Duration
	Duration  time.Duration // the worker stops by itself after this long
	// Group bounds the worker's groups with taskgroup.WithLimiter instead:
	// each task holds one permit taken by the group, and is cancelled by
	// the group when its lease is lost. Its grants carry no token (the
	// group does not expose one): the log numbers them -(1e9*ID + n).
	Group bool
}

// The log has one line per event, times in Unix nanoseconds:
//
//	G id token weight t   granted (written after Acquire returned)
//	R id token t          released (written before Release is called)
//	L id token t cause    the grant's lease ended while held; the task stopped
//	F id token t          a fenced write was refused while the grant seemed held
//	E id t error          an Acquire failed
//	D id t cause          a lease of the worker's Semaphore ended (written when
//	                      its Lease context was seen done)
type recorder struct {
	f  *os.File
	id int
}

func (r *recorder) line(format string, args ...any) {
	// One write per line, straight to the file: a SIGKILL loses nothing
	// written before it.
	_, _ = fmt.Fprintf(r.f, format+"\n", args...)
}

func now() int64 { return time.Now().UnixNano() }

func workerMain() int {
	var cfg workerConfig
	if err := json.Unmarshal([]byte(os.Getenv(workerEnv)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	if err := runWorker(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "worker %d: %v\n", cfg.ID, err)
		return 1
	}
	return 0
}

func runWorker(cfg workerConfig) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	f, err := os.OpenFile(cfg.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	rec := &recorder{f: f, id: cfg.ID}
	client, err := clientv3.New(clientv3.Config{Endpoints: cfg.Endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer client.Close()
	nctx, ncancel := context.WithTimeout(ctx, 10*time.Second)
	s, err := etcdlimit.New(nctx, client, cfg.Prefix, cfg.Capacity, etcdlimit.WithTTL(cfg.TTL))
	ncancel()
	if err != nil {
		return err
	}
	defer s.Close()
	ended := watchLeases(ctx, s, rec)
	defer ended()
	var n atomic.Int64
	for ctx.Err() == nil {
		var opts []taskgroup.Option
		if cfg.Group {
			opts = append(opts, taskgroup.WithLimiter(s))
		}
		g := taskgroup.New(ctx, opts...)
		for range cfg.Tasks {
			g.Go(func(ctx context.Context) error {
				if cfg.Group {
					groupWork(ctx, cfg, rec, -(1e9*int64(cfg.ID) + n.Add(1)))
				} else {
					work(ctx, cfg, client, s, rec)
				}
				return nil
			})
		}
		switch err := g.Wait(); {
		case err == nil || ctx.Err() != nil:
		case errors.Is(err, etcdlimit.ErrLeaseLost):
			// The group's Acquire failed: its lease ended while it waited.
			rec.line("E %d %d %q", rec.id, now(), err.Error())
		default:
			return err
		}
	}
	return nil
}

// watchLeases records a D line whenever a lease of s ends, until the
// returned function is called; that function returns once it has stopped.
func watchLeases(ctx context.Context, s *etcdlimit.Semaphore, rec *recorder) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			l := s.Lease() // the lease the next Acquire uses: a new one once it ended
			select {
			case <-l.Done():
				rec.line("D %d %d %q", rec.id, now(), context.Cause(l).Error())
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// groupWork is a task of a group bounded by WithLimiter: it holds the
// group's permit from its start to its return, and stops when the group
// cancels it because the permit's lease was lost.
func groupWork(ctx context.Context, cfg workerConfig, rec *recorder, id int64) {
	rec.line("G %d %d %d %d", rec.id, id, 1, now())
	pause(ctx, cfg.HoldMin+rand.N(cfg.HoldMax-cfg.HoldMin+1))
	if errors.Is(context.Cause(ctx), etcdlimit.ErrLeaseLost) {
		rec.line("L %d %d %d %q", rec.id, id, now(), context.Cause(ctx).Error())
	} else {
		rec.line("R %d %d %d", rec.id, id, now())
	}
}

// work is one task: take a grant, hold it while writing to etcd under its
// fence, give it back.
func work(ctx context.Context, cfg workerConfig, client *clientv3.Client, s *etcdlimit.Semaphore, rec *recorder) {
	w := 1 + rand.Int64N(cfg.MaxWeight)
	g, err := s.AcquireGrant(ctx, w)
	if err != nil {
		if ctx.Err() == nil {
			rec.line("E %d %d %q", rec.id, now(), err.Error())
			pause(ctx, 20*time.Millisecond) // the lease is being replaced
		}
		return
	}
	rec.line("G %d %d %d %d", rec.id, g.Token, g.Weight, now())
	// The task stops when its grant's lease ends, as a task of a group
	// bounded by a Leased limiter is cancelled.
	tctx, tcancel := context.WithCancelCause(ctx)
	defer tcancel(nil)
	defer context.AfterFunc(g.Lease(), func() { tcancel(context.Cause(g.Lease())) })()
	hold := cfg.HoldMin + rand.N(cfg.HoldMax-cfg.HoldMin+1)
	end := time.Now().Add(hold)
	resource := fmt.Sprintf("%sresource/%d", cfg.Prefix, cfg.ID)
	for time.Now().Before(end) && tctx.Err() == nil {
		resp, err := client.Txn(tctx).If(g.Fence()).Then(clientv3.OpPut(resource, fmt.Sprint(g.Token))).Commit()
		if err == nil && !resp.Succeeded && g.Lease().Err() == nil {
			rec.line("F %d %d %d", rec.id, g.Token, now())
			break
		}
		pause(tctx, 10*time.Millisecond)
	}
	if g.Lease().Err() != nil {
		rec.line("L %d %d %d %q", rec.id, g.Token, now(), context.Cause(g.Lease()).Error())
	} else {
		rec.line("R %d %d %d", rec.id, g.Token, now())
	}
	g.Release()
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
