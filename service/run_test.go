package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// The tests run inside synctest bubbles, so that a drain of 25 s passes in
// fake time and lands exactly on its bound. Signals come through the seam:
// os/signal delivers on a goroutine outside the bubble, so these tests send
// on a channel made inside it (signal_test.go sends real signals).

// withSignalChannel is the test seam: Run reads its signals from ch instead
// of registering with os/signal.
func withSignalChannel(ch <-chan os.Signal) Option {
	return func(c *config) { c.signalled = ch }
}

// quiet keeps Run's log out of the test output.
func quiet() Option { return WithLogger(slog.New(slog.DiscardHandler)) }

var errBoom = errors.New("boom")

// A program is one Run started in its own goroutine, with a seam to signal it.
type program struct {
	signals chan os.Signal
	result  chan error
}

func start(ctx context.Context, run func(ctx context.Context, g *taskgroup.Group) error, opts ...Option) *program {
	p := &program{signals: make(chan os.Signal, 2), result: make(chan error, 1)}
	opts = append([]Option{quiet(), withSignalChannel(p.signals)}, opts...)
	go func() { p.result <- Run(ctx, run, opts...) }()
	return p
}

// returned waits for Run's error: the fake clock runs on while it waits, and
// a Run that never returns deadlocks the bubble, which fails the test.
func (p *program) returned() error { return <-p.result }

func (p *program) running(t *testing.T) {
	t.Helper()
	synctest.Wait()
	require.Empty(t, p.result, "Run has returned")
}

// untilCancelled is a service that stops when told to, reporting the
// cancellation as most services do.
func untilCancelled(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// ignoresCancellation is a task that waits for release and never looks at its
// context: the task a drain gives up on. Tests find its name in the stack.
func ignoresCancellation(release <-chan struct{}) func(context.Context) error {
	return func(context.Context) error {
		<-release
		return nil
	}
}

// services starts the given tasks, named, and returns.
func services(tasks map[string]func(context.Context) error) func(context.Context, *taskgroup.Group) error {
	return func(_ context.Context, g *taskgroup.Group) error {
		for _, name := range []string{"http", "worker", "legacy"} {
			if fn, ok := tasks[name]; ok {
				g.GoNamed(name, fn)
			}
		}
		return nil
	}
}

func TestRun_SV1_ReturnsNilOnceEveryTaskReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := Run(t.Context(), services(map[string]func(context.Context) error{
			"http":   func(context.Context) error { time.Sleep(time.Minute); return nil },
			"worker": func(context.Context) error { time.Sleep(time.Hour); return nil },
		}), quiet(), WithSignals())
		require.NoError(t, err)
		require.Equal(t, time.Hour, time.Since(start), "waits for the last task")
	})
}

func TestRun_SV1_WaitsForServicesAfterTheMainFunctionReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := start(t.Context(), services(map[string]func(context.Context) error{"http": untilCancelled}))
		time.Sleep(24 * time.Hour)
		p.running(t)
		p.signals <- syscall.SIGTERM
		require.NoError(t, p.returned())
	})
}

func TestRun_SV1_NoTaskIsRunningOnceRunReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		running := 0
		counted := func(fn func(context.Context) error) func(context.Context) error {
			return func(ctx context.Context) error {
				mu.Lock()
				running++
				mu.Unlock()
				defer func() {
					time.Sleep(time.Second) // cleans up after the cancellation
					mu.Lock()
					running--
					mu.Unlock()
				}()
				return fn(ctx)
			}
		}
		p := start(t.Context(), services(map[string]func(context.Context) error{
			"http": counted(untilCancelled), "worker": counted(untilCancelled),
		}))
		synctest.Wait()
		p.signals <- syscall.SIGTERM
		require.NoError(t, p.returned())
		mu.Lock()
		defer mu.Unlock()
		require.Zero(t, running)
	})
}

func TestRun_SV1_TheMainFunctionsErrorIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		err := Run(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
			g.GoNamed("http", untilCancelled)
			return errBoom // say, the configuration did not parse
		}, quiet(), WithSignals())
		var te *taskgroup.TaskError
		require.ErrorAs(t, err, &te)
		require.Equal(t, "main", te.Name)
		require.ErrorIs(t, err, errBoom)
		require.Equal(t, 1, ExitCode(err))
	})
}

func TestRun_SV2_SignalCancelsWithACauseNamingIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		causes := make(chan error, 2)
		seen := func(ctx context.Context) error {
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return ctx.Err()
		}
		p := start(t.Context(), services(map[string]func(context.Context) error{"http": seen, "worker": seen}))
		time.Sleep(time.Hour)
		p.signals <- syscall.SIGTERM
		start := time.Now()

		require.NoError(t, p.returned(), "stopped as asked, in time: a clean stop")
		require.Zero(t, time.Since(start), "services see ctx.Done() at once")
		for range 2 {
			c := <-causes
			var se *SignalError
			require.ErrorAs(t, c, &se)
			require.Equal(t, syscall.SIGTERM, se.Signal)
			require.EqualError(t, c, "service: received signal terminated")
		}
	})
}

func TestRun_SV2_FirstFailureCancelsTheOthersWithItsTaskError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := make(chan error, 1)
		p := start(t.Context(), services(map[string]func(context.Context) error{
			"http": func(ctx context.Context) error {
				<-ctx.Done()
				cause <- context.Cause(ctx)
				return ctx.Err()
			},
			"worker": func(context.Context) error { time.Sleep(time.Minute); return errBoom },
		}))
		err := p.returned()

		var te *taskgroup.TaskError
		require.ErrorAs(t, <-cause, &te, "the cause names the failed task")
		require.Equal(t, "worker", te.Name)
		require.ErrorIs(t, te, errBoom)
		require.EqualError(t, err, `taskgroup "service": task "worker" (#2): boom (1 task cancelled)`)
		require.Equal(t, 1, ExitCode(err))
	})
}

func TestRun_SV2_ParentCancellationCancelsWithItsCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		cause := make(chan error, 1)
		p := start(ctx, services(map[string]func(context.Context) error{
			"http": func(ctx context.Context) error {
				<-ctx.Done()
				cause <- context.Cause(ctx)
				return ctx.Err()
			},
		}))
		synctest.Wait()
		cancel(errBoom)
		err := p.returned()

		require.ErrorIs(t, <-cause, errBoom)
		require.ErrorIs(t, err, errBoom, "Run's error carries the parent's cause")
		require.ErrorIs(t, err, context.Canceled, "and its error (ALL3)")
		require.Equal(t, 1, ExitCode(err))
	})
}

func TestRun_SV2_ParentCancellationWithServicesThatReturnNilIsNil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		p := start(ctx, services(map[string]func(context.Context) error{
			"http": func(ctx context.Context) error { <-ctx.Done(); return nil },
		}))
		synctest.Wait()
		cancel()
		require.NoError(t, p.returned(), "their work is done (TG4)")
	})
}

func TestRun_SV2_PanicIsLoggedAtOnceAndReturnedNotRaised(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log bytes.Buffer
		var mu sync.Mutex
		logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &log}, nil))
		p := start(t.Context(), services(map[string]func(context.Context) error{
			"http":   untilCancelled,
			"worker": func(context.Context) error { panic("kaboom") },
		}), WithLogger(logger))
		err := p.returned()

		var pe *taskgroup.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "kaboom", pe.Value)
		require.Equal(t, 2, ExitCode(err))
		mu.Lock()
		defer mu.Unlock()
		require.Contains(t, log.String(), `msg="taskgroup: task panicked" group=service task=worker`)
	})
}

func TestRun_SV2_TheShutdownIsLoggedWithItsTrigger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log bytes.Buffer
		var mu sync.Mutex
		logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &log}, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))
		p := start(t.Context(), services(map[string]func(context.Context) error{"http": untilCancelled}),
			WithLogger(logger), WithName("api"))
		synctest.Wait()
		p.signals <- syscall.SIGINT
		require.NoError(t, p.returned())
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, `level=INFO msg="service: shutting down" service=api trigger="signal interrupt" drain=25s`+"\n", log.String())
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestRun_SV3_DrainGivesUpAtItsBoundAndNamesTheTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := start(t.Context(), services(map[string]func(context.Context) error{
			"http":   untilCancelled,
			"legacy": ignoresCancellation(release),
		}), WithDrain(5*time.Second), WithName("api"))
		time.Sleep(time.Minute)
		p.signals <- syscall.SIGTERM
		start := time.Now()
		time.Sleep(5*time.Second - time.Nanosecond)
		p.running(t)
		time.Sleep(time.Nanosecond)
		err := p.returned()

		require.Equal(t, 5*time.Second, time.Since(start), "gives up exactly at the bound")
		var de *DrainError
		require.ErrorAs(t, err, &de)
		require.Len(t, de.Stragglers, 1, "http stopped; legacy did not")
		s := de.Stragglers[0]
		require.Equal(t, taskgroup.TaskInfo{Group: "api", Name: "legacy", Index: 2, Start: start.Add(-time.Minute)}, s.TaskInfo)
		require.Equal(t, 5*time.Second, s.SinceCancel)
		require.Contains(t, string(s.Stack), "ignoresCancellation")
		require.EqualError(t, err, `service "api": shutdown on signal terminated: drain gave up after 5s with 1 task still running: task "legacy" (#2)`)
		require.Equal(t, 128+15, ExitCode(err))

		close(release)
		<-de.Done()
	})
}

func TestRun_SV3_DefaultDrainIs25Seconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := start(t.Context(), services(map[string]func(context.Context) error{"legacy": ignoresCancellation(release)}))
		synctest.Wait()
		p.signals <- syscall.SIGTERM
		start := time.Now()
		err := p.returned()
		var de *DrainError
		require.ErrorAs(t, err, &de)
		require.Equal(t, DefaultDrain, time.Since(start))
		require.Equal(t, 25*time.Second, de.Drain)
		close(release)
		<-de.Done()
	})
}

func TestRun_SV3_TasksThatStopWithinTheDrainAreWaitedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := start(t.Context(), services(map[string]func(context.Context) error{
			"http": func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(5*time.Second - time.Nanosecond) // finishes its requests
				return nil
			},
		}), WithDrain(5*time.Second))
		synctest.Wait()
		p.signals <- syscall.SIGTERM
		start := time.Now()
		require.NoError(t, p.returned())
		require.Equal(t, 5*time.Second-time.Nanosecond, time.Since(start))
	})
}

func TestRun_SV3_ASecondSignalEndsTheDrainAtOnceWithTheSameReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := start(t.Context(), services(map[string]func(context.Context) error{
			"http":   untilCancelled,
			"legacy": ignoresCancellation(release),
		}), WithDrain(time.Minute))
		synctest.Wait()
		p.signals <- syscall.SIGTERM
		time.Sleep(2 * time.Second)
		p.running(t)
		p.signals <- syscall.SIGINT
		err := p.returned()

		var de *DrainError
		require.ErrorAs(t, err, &de)
		require.Equal(t, 2*time.Second, de.Drain)
		require.Equal(t, syscall.SIGINT, de.Signal)
		require.Len(t, de.Stragglers, 1)
		require.Equal(t, "legacy", de.Stragglers[0].Name)
		require.Equal(t, 2*time.Second, de.Stragglers[0].SinceCancel)
		require.Contains(t, string(de.Stragglers[0].Stack), "ignoresCancellation")
		require.EqualError(t, err, `service "service": shutdown on signal terminated: drain cut short by a second signal (interrupt) after 2s with 1 task still running: task "legacy" (#2)`)
		require.Equal(t, 128+15, ExitCode(err), "the signal that began the shutdown")

		close(release)
		<-de.Done()
	})
}

func TestRun_SV3_GivenUpTasksAreCountedUntilTheyReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := start(t.Context(), services(map[string]func(context.Context) error{
			"worker": ignoresCancellation(release),
			"legacy": ignoresCancellation(release),
		}), WithDrain(time.Second))
		synctest.Wait()
		p.signals <- syscall.SIGTERM
		err := p.returned()
		var de *DrainError
		require.ErrorAs(t, err, &de)
		require.Len(t, de.Stragglers, 2)
		require.Equal(t, 2, Abandoned())
		select {
		case <-de.Done():
			require.FailNow(t, "Done before the tasks returned")
		default:
		}

		close(release)
		<-de.Done()
		require.Zero(t, Abandoned())
	})
}

func TestRun_SV3_AfterAFailureTheDrainIsBoundedToo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := start(t.Context(), services(map[string]func(context.Context) error{
			// The worker fails once legacy has started: failing at once, it
			// could beat legacy's Go, and legacy would never start (TG7).
			"worker": func(context.Context) error { time.Sleep(time.Millisecond); return errBoom },
			"legacy": ignoresCancellation(release),
		}), WithDrain(time.Second))
		err := p.returned()
		var de *DrainError
		require.ErrorAs(t, err, &de)
		require.ErrorIs(t, err, errBoom, "the trigger is reachable")
		require.EqualError(t, err, `service "service": shutdown on task "worker" (#1): boom: drain gave up after 1s with 1 task still running: task "legacy" (#2)`)
		require.Equal(t, 1, ExitCode(err))
		close(release)
		<-de.Done()
	})
}

func TestRun_SV3_ReportShowsTheStackAndTheNestedGroupsStillAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := start(t.Context(), func(ctx context.Context, g *taskgroup.Group) error {
			g.GoNamed("http", func(ctx context.Context) error {
				req := taskgroup.New(ctx, taskgroup.WithName("request"))
				req.GoNamed("legacy-report", ignoresCancellation(release))
				return req.Wait()
			})
			return nil
		}, WithDrain(time.Second), WithName("api"))
		synctest.Wait()
		p.signals <- syscall.SIGTERM
		err := p.returned()
		var de *DrainError
		require.ErrorAs(t, err, &de)
		report := de.Report()
		require.Contains(t, report, de.Error()+"\n")
		require.Contains(t, report, `task "http" (#1) of group "api": running 1s, 1s since the cancellation; its goroutine: sync.WaitGroup.Wait`)
		require.Contains(t, report, "\n    goroutine ")
		require.Contains(t, report, "(*Group).Wait", "the http task waits for its request group")
		require.Contains(t, report, "named groups still alive:\n"+
			`group "api" (running 1s; cancelled 1s ago: service: received signal terminated)`+"\n"+
			`└── task "http" #1 (running 1s)`+"\n"+
			`    └── group "request" (running 1s; cancelled 1s ago: service: received signal terminated)`+"\n"+
			`        └── task "legacy-report" #0 (running 1s)`+"\n")
		close(release)
		<-de.Done()
	})
}

func TestExitCode_SV3_ConventionalStatuses(t *testing.T) {
	sigterm := &DrainError{Trigger: &SignalError{Signal: syscall.SIGTERM}}
	sigint := &DrainError{Trigger: &SignalError{Signal: syscall.SIGINT}}
	failed := &DrainError{Trigger: &taskgroup.TaskError{Name: "worker", Err: errBoom}}
	panicked := &taskgroup.Error{Failures: []*taskgroup.TaskError{{Err: &taskgroup.PanicError{Value: "x"}}}}
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errBoom, 1},
		{failed, 1},
		{panicked, 2},
		{sigterm, 143},
		{sigint, 130},
	} {
		require.Equal(t, c.want, ExitCode(c.err), "%v", c.err)
	}
}

func TestRun_ALL4_NilContextPanics(t *testing.T) {
	require.PanicsWithValue(t,
		"service: Run called with a nil context; pass context.Background() or the caller's context",
		func() {
			//lint:ignore SA1012 the nil context is the point
			_ = Run(nil, services(nil)) //nolint:staticcheck
		})
}

func TestRun_NilFunctionPanics(t *testing.T) {
	require.PanicsWithValue(t,
		"service: Run called with a nil function; pass the function that starts the program's services",
		func() { _ = Run(context.Background(), nil) })
}

func TestWithDrain_SV3_NonPositiveDrainPanics(t *testing.T) {
	require.PanicsWithValue(t,
		"service: WithDrain(0s): the drain must be positive; DefaultDrain is 25s",
		func() { WithDrain(0) })
	require.Panics(t, func() { WithDrain(-time.Second) })
}

func TestWithLogger_NilLoggerPanics(t *testing.T) {
	require.PanicsWithValue(t,
		"service: WithLogger(nil): pass a *slog.Logger, slog.Default() for the default one",
		func() { WithLogger(nil) })
}

func TestWithSignals_NilSignalPanics(t *testing.T) {
	require.PanicsWithValue(t, "service: WithSignals: signal #1 is nil",
		func() { WithSignals(syscall.SIGTERM, nil) })
}

func TestRun_SV3_InABubbleWithoutSignalsTheDrainRunsOnTheFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		release := make(chan struct{})
		result := make(chan error, 1)
		go func() {
			result <- Run(ctx, services(map[string]func(context.Context) error{"legacy": ignoresCancellation(release)}),
				WithSignals(), WithDrain(time.Hour), quiet()) // no os/signal: what a user's bubble test passes
		}()
		synctest.Wait()
		cancel()
		start := time.Now()
		err := <-result
		require.Equal(t, time.Hour, time.Since(start), "an hour of fake time")
		var de *DrainError
		require.ErrorAs(t, err, &de)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 1, ExitCode(err))
		close(release)
		<-de.Done()
	})
}
