package etcdlimit_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/leash-go/leash/etcdlimit"
	"github.com/leash-go/leash/taskgroup"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A task group bounded cluster-wide: every replica of the service runs this,
// and at most 4 imports run at once across all of them. A task whose permit's
// lease is lost (its process cut off from etcd) is cancelled with
// ErrLeaseLost as the cause.
func Example_group() {
	client, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()

	imports, err := etcdlimit.New(ctx, client, "example/imports", 4)
	if err != nil {
		log.Fatal(err) // etcd unreachable, or another replica stored another capacity
	}
	defer imports.Close()

	g := taskgroup.New(ctx, taskgroup.WithLimiter(imports))
	for _, file := range []string{"a.csv", "b.csv", "c.csv", "d.csv", "e.csv"} {
		g.Go(func(ctx context.Context) error {
			return importFile(ctx, file) // holds one of the 4 permits
		})
	}
	if err := g.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("imported 5 files, at most 4 at once in the cluster")
	// Output: imported 5 files, at most 4 at once in the cluster
}

func importFile(ctx context.Context, name string) error { return ctx.Err() }

// A grant's fencing token guards writes: a write made in a transaction that
// If's on Fence is refused once the grant no longer counts, however late it
// reaches etcd (a holder paused past its lease cannot overwrite the work of
// the next holder).
func ExampleSemaphore_AcquireGrant() {
	client, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	sem, err := etcdlimit.New(ctx, client, "example/reports", 1)
	if err != nil {
		log.Fatal(err)
	}
	defer sem.Close()

	g, err := sem.AcquireGrant(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	write := func() bool {
		resp, err := client.Txn(ctx).If(g.Fence()).Then(clientv3.OpPut("example/report", "done")).Commit()
		if err != nil {
			log.Fatal(err)
		}
		return resp.Succeeded
	}
	fmt.Println("while held:", write())
	g.Release()
	fmt.Println("after release:", write())
	// Output:
	// while held: true
	// after release: false
}
