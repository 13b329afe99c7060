// Package etcdtest starts real etcd servers for the tests: Debian's
// etcd-server binary (or the one ETCD_BIN names), on loopback ports chosen at
// run time, with data in the test's temporary directory, killed when the test
// ends. Nothing here stands in for etcd.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// TB is the part of testing.TB that starting a server needs; Main provides
// one for TestMain.
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Binary returns the etcd server binary: $ETCD_BIN, or etcd on $PATH.
func Binary(tb TB) string {
	tb.Helper()
	if b := os.Getenv("ETCD_BIN"); b != "" {
		return b
	}
	b, err := exec.LookPath("etcd")
	if err != nil {
		tb.Fatalf("no etcd server binary: install Debian's etcd-server (etcdlimit/ci.sh does) or set ETCD_BIN: %v", err)
	}
	return b
}

// A Member is one etcd server process.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	dir       string
	log       string
	cmd       *exec.Cmd
	exited    chan struct{}
}

// Start starts a one-member cluster and returns its member, ready to serve.
func Start(tb TB) *Member {
	tb.Helper()
	return StartCluster(tb, 1)[0]
}

// StartCluster starts an n-member cluster and returns its members once a
// client can write to it.
func StartCluster(tb TB, n int) []*Member {
	tb.Helper()
	bin := Binary(tb)
	var last error
	for range 3 { // a port chosen free can be taken before etcd binds it
		ms, err := startCluster(tb, bin, n)
		if err == nil {
			return ms
		}
		last = err
	}
	tb.Fatalf("etcdtest: starting %d members: %v", n, last)
	return nil
}

func startCluster(tb TB, bin string, n int) ([]*Member, error) {
	root := tb.TempDir()
	ms := make([]*Member, n)
	var initial []string
	for i := range ms {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		m := &Member{
			Name:      fmt.Sprintf("m%d", i),
			ClientURL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
			dir:       filepath.Join(root, fmt.Sprintf("m%d", i)),
			exited:    make(chan struct{}),
		}
		m.log = m.dir + ".log"
		ms[i] = m
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for _, m := range ms {
		if err := m.start(tb, bin, strings.Join(initial, ",")); err != nil {
			return nil, err
		}
	}
	if err := ready(ms); err != nil {
		for _, m := range ms {
			m.Kill()
		}
		return nil, err
	}
	return ms, nil
}

func (m *Member) start(tb TB, bin, initial string) error {
	logf, err := os.Create(m.log)
	if err != nil {
		return err
	}
	m.cmd = exec.Command(bin,
		"--name", m.Name,
		"--data-dir", m.dir,
		"--listen-client-urls", m.ClientURL,
		"--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.PeerURL,
		"--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", initial,
		"--initial-cluster-state", "new",
		"--initial-cluster-token", filepath.Base(filepath.Dir(m.dir)),
		"--logger", "zap",
		"--log-level", "warn",
	)
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	// The server dies with the test process, even one killed by a timeout.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	go func() {
		_ = m.cmd.Wait()
		logf.Close()
		close(m.exited)
	}()
	tb.Cleanup(m.Kill)
	return nil
}

// ready waits, at most 30s, until a write through the cluster and a status
// request to every member succeed. It waits on events, not on a timer: the
// client holds each request until its connection is ready, and etcd serves
// client connections only once the member has joined the cluster and seen a
// leader; a member's exit ends the wait at once.
func ready(ms []*Member) error {
	var eps []string
	for _, m := range ms {
		eps = append(eps, m.ClientURL)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range ms {
		if err := m.serves(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// serves waits until a write through c and a status request to m succeed,
// until ctx is done or m exits.
func (m *Member) serves(ctx context.Context, c *clientv3.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-m.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := c.Put(ctx, "etcdtest/ready", m.Name)
	if err == nil {
		_, err = c.Status(ctx, m.ClientURL)
	}
	select {
	case <-m.exited:
		b, _ := os.ReadFile(m.log)
		return fmt.Errorf("member %s exited at start: %s", m.Name, tail(b))
	default:
	}
	if err != nil {
		return fmt.Errorf("member %s not ready: %v", m.Name, err)
	}
	return nil
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Pid is the server's process id.
func (m *Member) Pid() int { return m.cmd.Process.Pid }

// Pause stops the server with SIGSTOP: it keeps its sockets but answers
// nothing, as a server stalled by its disk or a long GC pause would. It
// returns once every thread of the server has stopped (the kernel reports
// the stop to the parent, this process), at most 10s after the signal: on a
// busy machine the stop can lag the signal, and a request sent in between
// would still be served.
func (m *Member) Pause(tb TB) {
	tb.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatalf("etcdtest: pausing %s: %v", m.Name, err)
	}
	stopped := make(chan error, 1)
	go func() {
		// WSTOPPED alone: the exit stays for cmd.Wait to collect; should the
		// server die instead, waitid fails with ECHILD once it is reaped.
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, m.Pid(), &info, unix.WSTOPPED, nil)
			if err != unix.EINTR {
				stopped <- err
				return
			}
		}
	}()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case err := <-stopped:
		if err != nil {
			tb.Fatalf("etcdtest: %s did not stop: %v", m.Name, err)
		}
	case <-m.exited:
		tb.Fatalf("etcdtest: %s exited instead of stopping: %s", m.Name, m.Log())
	case <-t.C:
		m.Kill() // ends the waitid
		tb.Fatalf("etcdtest: %s had not stopped 10s after SIGSTOP", m.Name)
	}
}

// Resume undoes Pause with SIGCONT.
func (m *Member) Resume() { _ = m.cmd.Process.Signal(syscall.SIGCONT) }

// Kill kills the server with SIGKILL and waits for it to exit. It is safe to
// call more than once.
func (m *Member) Kill() {
	select {
	case <-m.exited:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.exited
}

// Log returns the end of the server's log, for failure messages.
func (m *Member) Log() string {
	b, _ := os.ReadFile(m.log)
	return tail(b)
}

// Endpoints returns the client URLs of ms.
func Endpoints(ms ...*Member) []string {
	var eps []string
	for _, m := range ms {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// Client returns a client of ms, closed when the test ends.
func Client(tb TB, ms ...*Member) *clientv3.Client {
	tb.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   Endpoints(ms...),
		DialTimeout: 2 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		tb.Fatalf("etcdtest: client: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
