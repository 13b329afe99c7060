//go:build unix

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// TestServer_SV3_InProcessSIGTERMDrainsEveryRequest runs the server in the
// test process, so that the race detector sees its handlers, background
// group and drain (the end-to-end tests run it as a separate binary). Like
// them it works over loopback in real time, and waits for events, each
// with a deadline: the "listening on" line, every request past the
// shutdown's check (config.onWork), the responses, run's return.
func TestServer_SV3_InProcessSIGTERMDrainsEveryRequest(t *testing.T) {
	const requests = 20
	var stdout, stderr output
	working := make(chan struct{}, requests) // one per request past the shutdown's check
	cfg := config{addr: "127.0.0.1:0", drain: 5 * time.Second, onWork: func() { working <- struct{}{} }}
	exit := make(chan int, 1)
	ended := make(chan struct{}) // closed when run has returned
	server := taskgroup.New(context.Background(), taskgroup.WithName("server"))
	server.GoNamed("run", func(context.Context) error {
		defer close(ended)
		exit <- run(cfg, &stdout, &stderr)
		return nil
	})
	termSent := false
	defer func() {
		select {
		case <-ended:
		default: // run returns on a signal only: send it if a failure came first
			if !termSent {
				_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			}
		}
		require.NoError(t, server.Wait())
	}()

	waitOutput(t, &stdout, &stderr, ended, "listening on", startDeadline) // Run listens for signals by then
	base := listening.FindStringSubmatch(stdout.String())[1]

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	g := taskgroup.New(t.Context())
	for range requests {
		g.Go(func(context.Context) error {
			resp, err := client.Get(base + "/work?ms=100")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		})
	}
	// SIGTERM while the requests are in flight: they still complete.
	arrived := time.NewTimer(startDeadline)
	defer arrived.Stop()
	for i := range requests {
		select {
		case <-working:
		case <-arrived.C:
			require.FailNow(t, "the requests did not all arrive", "%d of %d within %v", i, requests, startDeadline)
		}
	}
	// The tree of task groups, read while they run (for the race detector,
	// as the requests' groups come and go).
	resp, err := client.Get(base + "/debug/taskgroups")
	require.NoError(t, err)
	tree, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(tree), `task "http"`, "the tree:\n%s", tree)
	termSent = true
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	require.NoError(t, g.Wait(), "every request in flight completed")

	select {
	case code := <-exit:
		require.Equal(t, 0, code, "stderr:\n%s", stderr.String())
	case <-time.After(exitDeadline):
		require.FailNow(t, "run did not return")
	}
	require.Contains(t, stdout.String(), "server: accepted=20 completed=20 rejected=0 failed=0 audited=20 audit-failed=0 abandoned=0\n")
}
