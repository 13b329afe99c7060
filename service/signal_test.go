//go:build unix

package service

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// These tests send real signals to the test process, through os/signal,
// outside any bubble: each wait is bounded by a real deadline, and nothing
// sleeps.

const realDeadline = 10 * time.Second

// runFor runs Run in a goroutine and returns its error, failing the test if
// it has not returned within realDeadline.
func runFor(t *testing.T, run func(ctx context.Context, g *taskgroup.Group) error, opts ...Option) error {
	t.Helper()
	result := make(chan error, 1)
	go func() { result <- Run(context.Background(), run, append([]Option{quiet()}, opts...)...) }()
	select {
	case err := <-result:
		return err
	case <-time.After(realDeadline):
		require.FailNow(t, "Run did not return within the deadline")
		return nil
	}
}

// kill sends sig to the test process; it may be called from a task.
func kill(t *testing.T, sig syscall.Signal) {
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Errorf("kill %v: %v", sig, err)
	}
}

func TestRun_SV2_ARealSIGTERMToTheProcessStopsRun(t *testing.T) {
	cause := make(chan error, 1)
	err := runFor(t, func(ctx context.Context, g *taskgroup.Group) error {
		g.GoNamed("http", func(ctx context.Context) error {
			<-ctx.Done()
			cause <- context.Cause(ctx)
			return ctx.Err()
		})
		kill(t, syscall.SIGTERM) // Run listens before it calls this function
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, &SignalError{Signal: syscall.SIGTERM}, <-cause)
}

func TestRun_SV2_WithSignalsListensForTheGivenSignals(t *testing.T) {
	err := runFor(t, func(ctx context.Context, g *taskgroup.Group) error {
		g.GoNamed("http", untilCancelled)
		kill(t, syscall.SIGUSR1)
		return nil
	}, WithSignals(syscall.SIGUSR1))
	require.NoError(t, err)
}

func TestRun_SV3_ARealSecondSIGTERMEndsTheDrainAtOnce(t *testing.T) {
	release := make(chan struct{})
	err := runFor(t, func(ctx context.Context, g *taskgroup.Group) error {
		g.GoNamed("legacy", ignoresCancellation(release))
		g.GoNamed("impatient", func(ctx context.Context) error {
			<-ctx.Done() // the first SIGTERM has started the shutdown
			kill(t, syscall.SIGTERM)
			return nil
		})
		kill(t, syscall.SIGTERM)
		return nil
	}, WithDrain(time.Hour))
	var de *DrainError
	require.ErrorAs(t, err, &de)
	require.Equal(t, syscall.SIGTERM, de.Signal, "cut short by the second signal, not the hour's bound")
	// The task that sent the second signal, and main, may not have left the
	// running list yet when the drain gives up: legacy is the one that
	// certainly has not returned.
	var names []string
	for _, s := range de.Stragglers {
		names = append(names, s.Name)
	}
	require.Contains(t, names, "legacy")
	require.Subset(t, []string{"legacy", "impatient", "main"}, names)
	require.Equal(t, 143, ExitCode(err))
	close(release)
	<-de.Done()
}
