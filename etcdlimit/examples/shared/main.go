// Command shared shows one limit shared by several processes: it runs a task
// group bounded by an etcdlimit.Semaphore and prints, for every task, when it
// got its permit, its fencing token and how many permits the whole cluster
// holds. Start two or three in separate terminals against one etcd:
//
//	etcd --data-dir /tmp/shared.etcd &                      # or any cluster
//	go run ./examples/shared -name a -tasks 10 -capacity 3
//	go run ./examples/shared -name b -tasks 10 -capacity 3
//
// and watch "in use" never pass 3 across both. Kill one with Ctrl-\ (or kill
// -9) while it holds permits: the other is granted them once the lease TTL
// has passed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/leash-go/leash/etcdlimit"
	"github.com/leash-go/leash/taskgroup"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func main() {
	var (
		endpoints = flag.String("endpoints", "http://127.0.0.1:2379", "etcd client URLs, comma-separated")
		prefix    = flag.String("prefix", "leash/examples/shared", "key prefix of the shared limit")
		capacity  = flag.Int64("capacity", 3, "permits shared by every process using the prefix")
		tasks     = flag.Int("tasks", 10, "tasks to run")
		hold      = flag.Duration("hold", time.Second, "how long each task holds its permit")
		ttl       = flag.Duration("ttl", 5*time.Second, "lease TTL: how long a dead process's permits stay taken")
		name      = flag.String("name", fmt.Sprint(os.Getpid()), "name printed on each line")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, strings.Split(*endpoints, ","), *prefix, *capacity, *tasks, *hold, *ttl, *name); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, endpoints []string, prefix string, capacity int64, tasks int, hold, ttl time.Duration, name string) error {
	client, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer client.Close()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sem, err := etcdlimit.New(sctx, client, prefix, capacity, etcdlimit.WithTTL(ttl))
	if err != nil {
		return err
	}
	defer sem.Close()

	// The tasks take their permits with AcquireGrant to print the fencing
	// token; taskgroup.WithLimiter(sem) bounds a group the same way when
	// the token is not needed.
	g := taskgroup.New(ctx)
	for i := range tasks {
		g.Go(func(ctx context.Context) error {
			grant, err := sem.AcquireGrant(ctx, 1)
			if err != nil {
				return err
			}
			defer grant.Release()
			st, err := sem.Stats(ctx)
			if err != nil {
				return err
			}
			fmt.Printf("%s %s task %d granted, token %d, in use %d of %d, waiting %d\n",
				time.Now().Format("15:04:05.000"), name, i, grant.Token, st.InUse, st.Capacity, st.Waiters)
			select {
			case <-time.After(hold):
				return nil
			case <-grant.Lease().Done():
				return context.Cause(grant.Lease()) // stop: the permit may be someone else's now
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	}
	return g.Wait()
}
