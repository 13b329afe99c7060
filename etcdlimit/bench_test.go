package etcdlimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/leash-go/leash/etcdlimit"
	"github.com/leash-go/leash/etcdlimit/internal/etcdtest"
	"github.com/leash-go/leash/semaphore"
)

// BenchmarkAcquireRelease is the in-process family's benchmark of the same
// name (semaphore/bench_test.go) with the etcd Semaphore beside it: one
// goroutine acquires and releases one permit of one, never contended.
//
//	go test -run '^$' -bench AcquireRelease -count 10 -benchmem . > etcd.bench
//	benchstat -col /impl etcd.bench
//
// impl=etcd is two round trips to a local one-member etcd (the enqueue
// transaction, then the delete), each a raft commit and a WAL fsync.
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=leash", func(b *testing.B) {
		s := semaphore.New(1)
		b.ReportAllocs()
		for b.Loop() {
			_ = s.Acquire(ctx, 1)
			s.Release(1)
		}
	})
	b.Run("impl=etcd", func(b *testing.B) {
		nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := etcdlimit.New(nctx, etcdtest.Client(b, server), b.Name(), 1)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Fatal(err)
			}
			s.Release(1)
		}
	})
}
