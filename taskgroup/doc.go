// Package taskgroup runs goroutines as tasks of a scope that owns them: a
// Group. It is related to sync.WaitGroup and to golang.org/x/sync/errgroup,
// and replaces both in application code.
//
// A Group cancels the siblings on the first failure, keeps every error with
// the task that caused it, brings panics home to Wait, can bound how many
// tasks run at once, and lets nothing outlive Wait. Spawn, Map and First add
// typed, ordered results.
//
//	g := taskgroup.New(ctx, taskgroup.WithName("checkout"))
//	g.GoNamed("payment", charge)
//	quote := taskgroup.SpawnNamed(g, "shipping", shippingQuote)
//	if err := g.Wait(); err != nil {
//		return err // taskgroup "checkout": task "payment" (#0): card declined
//	}
//	q, _ := quote.Result()
//
// # Which one do I use
//
//   - Go (GoNamed to name the task), for tasks whose only result is an error.
//   - Spawn (SpawnNamed), for a task with a typed result: its Task's Result
//     is that task's own value and error.
//   - Map, to call one function on every item of a slice, results in order.
//   - First, to race functions that are each a way to the same answer: the
//     first success wins and the others are cancelled.
//   - Start, for a long-lived task (a server, a consumer) that must be ready
//     before the caller goes on: it returns the value the task passes to
//     ready, such as the address a listener bound.
//   - WithLimit(n), to bound how many of one group's tasks run at once;
//     WithSemaphore (or WithLimiter, for any semaphore.Limiter, such as a
//     limit shared by many processes), to share one bound among many groups,
//     such as every request handler of a server.
//   - CollectAll, when a failure must not cancel the siblings;
//     WithFailureHandler, for a group that lives as long as the program and
//     must not keep every failure it sees.
//
// # Rules
//
// Each rule has a short name; the tests that check it carry that name.
//
//   - TG1 nothing outlives Wait. Wait returns only after every task the group
//     started has returned, panicked or called runtime.Goexit. Tasks may call
//     Go on their own group while Wait is in progress; Wait waits for those
//     too.
//   - TG2 fail fast. The first real failure (an error that is not a
//     cancellation echo, a panic, a Goexit) cancels the group's context at
//     once, with that failure's *TaskError as context.Cause.
//   - TG3 cancellation echoes. An error a task returns after the group's
//     context is done, and that matches ctx.Err() or context.Cause(ctx) under
//     errors.Is, only reports the cancellation: it is counted in
//     Error.Cancelled, not listed as a failure. Any other error is a real
//     failure, whenever it happens. An error that holds a nested group's
//     *Error listing real failures is a real failure too, even when it also
//     matches the cancellation, unless that *Error is reached only through
//     the group's own cause (a sibling's failure, which is listed already):
//     a failure deep in a tree of groups is never hidden, nor listed twice.
//   - TG4 what Wait returns. nil when there are no real failures and the
//     group was not cancelled from outside (Stop counts as inside). With real
//     failures, an *Error listing every one in the order the tasks returned,
//     so errors.Is and errors.As reach each task's error. With none, but the
//     parent cancelled and at least one task echoed or was not started, an
//     *Error whose Cause matches both the parent's ctx.Err() and its cause.
//     Tasks that all returned nil give nil even if the parent was cancelled
//     meanwhile: their work is done.
//   - TG5 panics come home. A panic in a task is recovered in that task's
//     goroutine as a *PanicError with that goroutine's stack, and is a real
//     failure. Once every task has returned, Wait re-panics with the *Error it
//     would have returned, whose message carries every panic's value and
//     stack; with PanicsAsErrors it returns that *Error instead. No panic is
//     lost, however many tasks panic. A task that blocks forever ignoring its
//     context keeps Wait waiting, but cannot make it drop a sibling's panic.
//   - TG6 Goexit is a failure. A task that calls runtime.Goexit (t.FailNow in
//     a test, say) fails with ErrGoexit; it never reads as a success.
//   - TG7 no start after cancellation. Go, GoNamed, TryGo and Spawn on a group
//     whose context is done do not run fn; the task counts as cancelled, and
//     a Task's error matches both the context's error and its cause. A task
//     that a blocked Go hands over after cancellation is not started either.
//   - TG8 limits. With WithLimit(n), at most n tasks run at once; with
//     WithSemaphore(s), every task holds one permit of s while it runs, so
//     groups that share s share its limit. Go blocks until a slot (and a
//     permit) is free or the group's context is done (then TG7); TryGo never
//     blocks and returns false when no slot or permit is free. A limit is a
//     bound, not a reservation: memory grows with the tasks running, never
//     with n, so WithLimit(math.MaxInt) costs what WithLimit(8) costs. A
//     task that ends hands its slot to the first Go waiting and runs that
//     task on its own goroutine; Map with a limit runs its items on n
//     goroutines.
//   - TG9 CollectAll. Failures and panics do not cancel the siblings; Wait
//     still returns every failure, and still re-panics after every task
//     returned.
//   - TG10 misuse is loud. Go after Wait has returned panics and says so; a
//     nil function, New(nil) and WithLimit(n < 1) panic at the call. Wait may
//     be called again and concurrently: every call reports the same outcome.
//   - TG11 Task. Result returns the task's own value and error, not the
//     group's; a panicked task's Result returns its *PanicError.
//   - TG12 Map. len(out) == len(in) always; out[i] is fn(in[i]) for every
//     item that succeeded and the zero value for the others. Fail-fast by
//     default; CollectAll and WithLimit apply.
//   - TG13 First. Returns the first success and cancels the others, and
//     returns only after every function has returned. If all fail: an *Error
//     with every failure. No functions: ErrNoFunctions, not a hang.
//   - TG14 panics are never silent. A task's panic is logged the moment it is
//     recovered, with its value, its stack, the group and the task, to the
//     group's logger: slog.Default() unless WithLogger names another (a
//     logger that discards is the way to silence it). A caller that never
//     reaches Wait, because it waits on a channel the panicked task was to
//     close, still sees the panic. Wait still re-panics (TG5).
//   - SV4 readiness. Start returns once the task calls ready(v), with v; or
//     the task's error if it returns, panics or calls runtime.Goexit first;
//     or the group's cancellation if the group is done first. The task runs
//     on after ready as a task of the group. Calling ready twice is harmless;
//     returning nil without calling it is ErrNotReady.
//   - SV5 long-lived groups hold bounded memory. With WithFailureHandler(fn),
//     every failure goes to fn as it happens instead of being kept; Wait's
//     *Error counts them in Handled. Panics are kept all the same (TG5).
//   - LIM1 any limiter. WithLimiter takes any semaphore.Limiter. When its
//     permits are held under a lease that can be lost (semaphore.Leased), a
//     task whose lease is lost has its context cancelled with the lease's
//     cause.
//
// A message of an *Error lists every failure on one line, then, for a panic,
// its value and stack after the list; the stacks leave out leash's own
// frames.
//
// # Observability
//
// A task that ignores cancellation keeps Wait from returning: the group looks
// healthy while it is stuck, and a sibling's panic waits behind it. These
// rules make such a group visible, the way a structured thread dump or
// asyncio's debug mode does. An unnamed group with none of these options pays
// for none of it: one nil check.
//
//   - OB1 labels. The tasks of a group named with WithName run under the
//     runtime/pprof label group=name, and a task named with GoNamed or
//     SpawnNamed under task=name, so CPU and goroutine profiles say which task
//     did the work. The task's context carries the labels, so pprof.Do inside
//     a task adds to them. Unnamed, nothing is paid.
//
//   - OB2 traces. A group created while the execution tracer runs
//     (trace.IsEnabled) is a trace task, named after the group, and each of
//     its tasks a region in it, named after the task: go tool trace shows the
//     tree.
//
//   - OB3 panics are seen at once. With WithLogger, a task's panic is logged
//     at error level with its stack the moment it is recovered, in the task's
//     goroutine, before Wait returns or re-panics: a stuck sibling cannot hide
//     it. So is a runtime.Goexit.
//
//   - OB4 stragglers are reported. With WithStragglerTimeout(d), every task
//     still running d after the group's context was cancelled is reported
//     once, to Hooks.OnStraggler and the logger (slog.Default when the group
//     has neither), with the group, the task, how long since the
//     cancellation, and the stack of the task's goroutine. The timer is the
//     time package's, so inside a testing/synctest bubble the fake clock
//     drives it; nothing of it outlives Wait.
//
//   - OB5 the tree. WriteTree prints the live named groups and their running
//     tasks, with how long each has run and when and why a group was
//     cancelled. A named group created with the context of a named group's
//     task appears under that task, like a structured thread dump; one
//     created with a group's own context, under the group. Package
//     taskgroup/treehttp serves the same text over HTTP, beside
//     net/http/pprof (a package of its own, so that importing taskgroup does
//     not link net/http). A group leaves
//     the tree when its Wait returns.
//
//   - OB6 hooks cannot crash a task's goroutine. A panic in a hook (OnStart,
//     OnDone, OnStraggler, OnSlow) or in WithFailureHandler's function is
//     recovered and comes home at Wait as the failure of the task it was
//     called about (TG5).
//
//   - OB7 slow tasks. With WithSlowTask(d), every task still running d after
//     it started is reported once, to Hooks.OnSlow and the logger, with how
//     long it has run, what its goroutine is doing (waiting on a channel, a
//     lock, I/O or a system call, or running, from its stack's header) and
//     its stack, before anything is cancelled. Straggler reports (OB4) say
//     the same of the goroutine's state.
//
// Hooks.OnStart and Hooks.OnDone see every task that runs, with its error and
// how long it ran.
//
// # Rules for every package of leash
//
//   - ALL1 works inside testing/synctest. Every wait is durably blocking (a
//     channel operation, a select, a timer), never a long wait on a mutex nor
//     a spin loop: a bubble that uses leash settles, and its fake clock
//     drives leash's timeouts and reports.
//   - ALL2 nothing global a bubble could share. State that outlives a call
//     (free lists of waiters) belongs to the value that owns it, a Group or a
//     Semaphore: a Group made in one bubble must not be used in another.
//   - ALL3 errors of a cancelled context match both ctx.Err() and
//     context.Cause(ctx) under errors.Is.
//   - ALL4 a nil context passed anywhere panics at the call with a message.
//
// # Choices the rules leave open
//
// Calls to Go must happen before Wait returns: from the goroutine that will
// call Wait, or from a running task. A Group is used once; create a new one
// for the next batch. Once Wait returns, the group's context is cancelled
// (with context.Canceled), so resources tied to it are released.
//
// TryGo reports whether fn was started. On a group whose context is done it
// returns false and counts the task as cancelled (TG7).
//
// A limited group's Go that blocks on a group whose limit is taken by tasks
// that wait for something only a later task would do waits until the group's
// context is done, as any bounded queue would: the limit is the caller's
// promise that n tasks can make progress on their own. Blocked Go calls get
// their slots in the order they blocked. With both WithLimit and
// WithSemaphore, Go takes a slot first and then a permit, and a task gives
// both back before its Task's Done closes.
//
// TaskError.Index counts every call of Go, GoNamed, TryGo and Spawn on the
// group, in order, including a TryGo that returned false for want of a slot:
// the index is taken before the slot is looked for.
//
// Error.Cause tells whether the parent had cancelled the group by the time
// Wait settled the outcome: a parent cancelled after every task returned but
// before Wait was called still counts, although no task saw it (with no
// failures and no echo, Wait returns nil all the same, TG4).
//
// Wait returns once every task's function has returned; the goroutine that
// ran the last one may take a moment more to exit, as with any WaitGroup, so
// runtime.NumGoroutine read at once can count it.
package taskgroup
