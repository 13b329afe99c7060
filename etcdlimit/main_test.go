package etcdlimit_test

import (
	"os"
	"testing"

	"github.com/leash-go/leash/etcdlimit/internal/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
)

// server is the etcd server the tests share, each under its own prefix (the
// test's name). The fault tests start servers of their own.
var server *etcdtest.Member

// endpoints are server's client URLs, for the Examples.
var endpoints []string

// watcher is a client of server for the tests' own reads and watches.
var watcher *clientv3.Client

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		os.Exit(workerMain())
	}
	goleak.VerifyTestMain(withServer{m})
}

// withServer starts the shared server before the tests and kills it after,
// before goleak looks for goroutines left behind.
type withServer struct{ m *testing.M }

func (w withServer) Run() int {
	mt := &etcdtest.Main{}
	defer mt.Close()
	server = etcdtest.Start(mt)
	endpoints = etcdtest.Endpoints(server)
	watcher = etcdtest.Client(mt, server)
	return w.m.Run()
}
