package service

import (
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"
)

// DefaultDrain is how long Run waits for its tasks after the shutdown began,
// unless WithDrain says otherwise: 25 seconds. Kubernetes sends SIGTERM and,
// terminationGracePeriodSeconds later (30 s by default), SIGKILL; a drain of
// 25 s leaves 5 s to write the report and exit before the SIGKILL that would
// lose it. With a longer grace period, or a preStop hook that spends part of
// it, set the drain to what is left of it minus a few seconds.
const DefaultDrain = 25 * time.Second

// An Option configures Run.
type Option func(*config)

type config struct {
	name    string
	drain   time.Duration
	signals []os.Signal
	logger  *slog.Logger

	// signalled, when set, is read instead of a channel registered with
	// os/signal: the test seam described in the package doc.
	signalled <-chan os.Signal
}

func defaults() config {
	return config{
		name:    "service",
		drain:   DefaultDrain,
		signals: []os.Signal{os.Interrupt, syscall.SIGTERM},
	}
}

// WithName names the program's group ("service" by default): in errors,
// logs, pprof labels and the tree of taskgroup.WriteTree.
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithDrain bounds the drain (SV3): after the shutdown began, Run waits at
// most d for the tasks, then gives up on those still running and returns a
// *DrainError naming them. The default is DefaultDrain. It panics if d <= 0:
// a drain that cannot wait at all would give up on every task, including the
// ones about to return.
func WithDrain(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("service: WithDrain(%v): the drain must be positive; DefaultDrain is %v", d, DefaultDrain))
	}
	return func(c *config) { c.drain = d }
}

// WithSignals sets the signals that start the shutdown (SV2), SIGINT and
// SIGTERM by default. With no signals, Run listens for none: the program
// stops on a failure or its parent's cancellation only. A nil signal panics.
func WithSignals(sigs ...os.Signal) Option {
	for i, s := range sigs {
		if s == nil {
			panic(fmt.Sprintf("service: WithSignals: signal #%d is nil", i))
		}
	}
	sigs = append([]os.Signal(nil), sigs...)
	return func(c *config) { c.signals = sigs }
}

// WithLogger makes Run log to l (slog.Default() otherwise): the start of the
// shutdown and its trigger at info level; a drain that gave up at error
// level, with a warning per task still running that carries its stack. The
// program's group logs to l too: a task's panic the moment it is recovered.
// A nil l panics.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("service: WithLogger(nil): pass a *slog.Logger, slog.Default() for the default one")
	}
	return func(c *config) { c.logger = l }
}
