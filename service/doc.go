// Package service runs a whole program as one task group, so that every
// goroutine of the program has an owner: its services (an HTTP server, a
// queue consumer, a flusher), its background work and its shutdown.
//
//	func main() {
//		err := service.Run(context.Background(), func(ctx context.Context, g *taskgroup.Group) error {
//			addr, err := taskgroup.Start(g, "http", serveHTTP) // returns once it listens
//			if err != nil {
//				return err
//			}
//			log.Printf("listening on %s", addr)
//			g.GoNamed("worker", work)
//			return nil
//		})
//		if de, ok := err.(*service.DrainError); ok {
//			fmt.Fprint(os.Stderr, de.Report()) // what did not stop, and where it is stuck
//		} else if err != nil {
//			log.Print(err)
//		}
//		os.Exit(service.ExitCode(err))
//	}
//
// # When to use what
//
// Use Run once, in main, around everything the program runs until it is told
// to stop. Inside it, start long-lived services with g.GoNamed, or with
// taskgroup.Start when the next step must wait until a service is ready (a
// listener that has bound its address). Work with a shorter life gets a group
// of its own inside a task: a request's fan-out, a batch. A task group is for
// a piece of work; Run is for the program's lifetime: it adds signals, a
// bounded drain, a report of what did not stop and an exit status.
//
// # Rules
//
// The rules have names from the design contract; tests carry them in their
// names.
//
//   - SV1 one owner for the program. Run runs the program's function and
//     every task it starts in one group, and returns only when all of them
//     have returned, or when the drain gave up (SV3). Nothing of Run's
//     outlives it, except the tasks the drain gave up on: they are named in
//     its error and counted by Abandoned until they return.
//   - SV2 shutdown has a named trigger. The first real failure of a task, the
//     cancellation of Run's context, or a signal (SIGINT and SIGTERM unless
//     WithSignals says otherwise) cancels every task's context at once, with
//     a cause that names the trigger: the failed task's
//     *taskgroup.TaskError, the context's cause, or a *SignalError that
//     says which signal.
//   - SV3 the drain is bounded and reported. After the trigger, Run waits at
//     most the drain (WithDrain; DefaultDrain, 25 s, fits inside Kubernetes'
//     default grace period of 30 s). Tasks still running then are reported
//     by group, name, time since the cancellation and stack (taskgroup's
//     straggler report), Run returns a *DrainError that names them, and the
//     program can exit. A second signal ends the drain at once, with the same
//     report. ExitCode maps the outcome to a conventional exit status: 0, 1,
//     2 for a panic, 128+n after signal n.
//
// Misuse is loud: a nil context, a nil function, WithDrain(d <= 0), a nil
// logger or signal panic at the call, with a message that starts "service: ".
//
// # Decisions the contract leaves open
//
// A signal that stops a program which then drains in time is a clean stop:
// Run returns nil and ExitCode 0, as an HTTP server's ListenAndServe returns
// ErrServerClosed after Shutdown. Only a drain that gives up ends with
// 128+n, as if the signal had killed the process. A panic does not re-panic
// from Run as it does from a group's Wait: a re-panic would have to wait for
// every task, and the drain is bounded. The panic is logged the moment it
// happens, with its stack, and returned (ExitCode 2).
//
// # Testing with testing/synctest
//
// Run works inside a synctest bubble, with its drain on the bubble's fake
// clock, when it listens for no signals: pass WithSignals() with none, and
// stop the program by cancelling its context. os/signal delivers on a
// goroutine of its own that lives outside every bubble, and a channel made
// in a bubble cannot be used from outside it (the runtime stops the program).
//
// For the same reason Run's own tests inject the signal channel through an
// unexported option (the seam) to test signals in fake time; one test
// outside any bubble sends real signals to the test process with
// syscall.Kill and checks the same path, bounded by a real deadline.
//
// # Costs
//
// Every task of the program's group notes its goroutine as it starts, so
// that the drain report can carry its stack. That costs microseconds per
// task (BenchmarkBackground: about 15 µs against 0.8 µs in a bare group, on
// a busy 2-core machine): nothing for services, too much for work fired per
// request. Give such work a long-lived group of its own inside Run, named and
// with taskgroup.WithFailureHandler, as examples/server does (about 1.8 µs
// per task in the same run); a task of Run's group waits for it.
package service
