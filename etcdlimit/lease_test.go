package etcdlimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// These tests check the keep-alive loop's timing inside a synctest bubble,
// on its fake clock, against a stand-in for etcd's lease API. They claim no
// LIM rule: the lease-expiry window is checked against a real etcd by the
// LIM3 fault tests; these pin the arithmetic behind it exactly.

// fakeLeases answers Grant and KeepAliveOnce as a server would, or hangs
// (a paused server) or fails as told.
type fakeLeases struct {
	clientv3.Lease // not used: calling any other method panics
	ttl            int64
	mode           atomic.Value // "ok", "hang", "gone", "flaky"
	keepAlives     atomic.Int64
	revokes        atomic.Int64
}

func newFake(ttl int64) *fakeLeases {
	f := &fakeLeases{ttl: ttl}
	f.mode.Store("ok")
	return f
}

func (f *fakeLeases) Grant(ctx context.Context, ttl int64) (*clientv3.LeaseGrantResponse, error) {
	return &clientv3.LeaseGrantResponse{ID: 7, TTL: f.ttl}, nil
}

func (f *fakeLeases) KeepAliveOnce(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseKeepAliveResponse, error) {
	f.keepAlives.Add(1)
	switch f.mode.Load() {
	case "hang":
		<-ctx.Done()
		return nil, ctx.Err()
	case "gone":
		return nil, rpctypes.ErrLeaseNotFound
	case "flaky":
		if f.keepAlives.Load()%2 == 0 {
			return nil, errors.New("etcdserver: no leader")
		}
	}
	return &clientv3.LeaseKeepAliveResponse{ID: id, TTL: f.ttl}, nil
}

func (f *fakeLeases) Revoke(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseRevokeResponse, error) {
	f.revokes.Add(1)
	if f.mode.Load() == "hang" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &clientv3.LeaseRevokeResponse{}, nil
}

// grantFake grants a lease on f and returns it with a channel closed when
// it ends. The test must close it.
func grantFake(t *testing.T, f *fakeLeases, loops *sync.WaitGroup) (*lease, chan struct{}) {
	ended := make(chan struct{})
	l := newLease(f, time.Duration(f.ttl)*time.Second, loops, func(*lease) { close(ended) })
	require.NoError(t, l.ensure(context.Background()))
	return l, ended
}

func TestKeepAlive_EndsThreeQuartersTTLAfterTheLastAcknowledgedSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loops sync.WaitGroup
		f := newFake(4)
		start := time.Now()
		l, ended := grantFake(t, f, &loops)
		// Keep-alives every TTL/4 (1s), acknowledged at once, until 2.5s;
		// the one sent at 2s is the last acknowledged.
		time.Sleep(2500 * time.Millisecond)
		require.Equal(t, int64(2), f.keepAlives.Load(), "one keep-alive every TTL/4")
		f.mode.Store("hang")
		<-ended
		require.Equal(t, 5*time.Second, time.Since(start), "2s + 3/4 of 4s: before the server's expiry at 2s + 4s")
		require.ErrorIs(t, context.Cause(l.ctx), ErrLeaseLost)
		require.Equal(t, int64(1), f.revokes.Load(), "the lease is revoked, in case the server still holds it")
		loops.Wait()
	})
}

func TestKeepAlive_EndsAtOnceWhenTheServerForgetsTheLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loops sync.WaitGroup
		f := newFake(4)
		start := time.Now()
		l, ended := grantFake(t, f, &loops)
		f.mode.Store("gone")
		<-ended
		require.Equal(t, time.Second, time.Since(start), "at the first keep-alive")
		require.ErrorIs(t, context.Cause(l.ctx), ErrLeaseLost)
		require.ErrorContains(t, context.Cause(l.ctx), "no longer knows")
		loops.Wait()
	})
}

func TestKeepAlive_RetriesErrorsThatMayPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loops sync.WaitGroup
		f := newFake(4)
		l, _ := grantFake(t, f, &loops)
		f.mode.Store("flaky") // every other keep-alive fails
		time.Sleep(time.Minute)
		require.NoError(t, l.ctx.Err())
		require.NoError(t, l.close(ErrClosed))
		require.ErrorIs(t, context.Cause(l.ctx), ErrClosed)
		loops.Wait()
		require.Equal(t, int64(1), f.revokes.Load(), "Close revokes")
	})
}
