//go:build unix

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// TestServer_SV3_InProcessSIGTERMDrainsEveryRequest runs the server in the
// test process, so that the race detector sees its handlers, background
// group and drain (the end-to-end tests run it as a separate binary). Like
// them it works over loopback in real time, every wait with a deadline.
func TestServer_SV3_InProcessSIGTERMDrainsEveryRequest(t *testing.T) {
	const requests = 20
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(config{addr: "127.0.0.1:0", drain: 5 * time.Second}, &stdout, &stderr) }()

	deadline := time.Now().Add(startDeadline)
	for !strings.Contains(stdout.String(), "listening on") { // Run listens for signals by then
		require.True(t, time.Now().Before(deadline), "the server did not start")
		time.Sleep(pollStep)
	}
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
	deadline = time.Now().Add(startDeadline)
	for requestsInFlight(t, base, client) < requests {
		require.True(t, time.Now().Before(deadline), "the requests did not all arrive")
		time.Sleep(pollStep)
	}
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

// requestsInFlight counts the /work requests in flight in the tree of task
// groups: each has a group "request".
func requestsInFlight(t *testing.T, base string, client *http.Client) int {
	t.Helper()
	resp, err := client.Get(base + "/debug/taskgroups")
	require.NoError(t, err)
	defer resp.Body.Close()
	tree, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return strings.Count(string(tree), `group "request"`)
}
