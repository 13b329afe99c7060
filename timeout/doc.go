// Package timeout bounds how long a piece of work may take, the way
// context.WithTimeout does, but keeps the work structured: WaitFor calls fn in
// the caller's goroutine and returns only after fn has, so nothing outlives
// the call unless you ask for it (Grace, Call) and can see it (Abandoned).
//
//	err := timeout.WaitFor(ctx, 2*time.Second, func(ctx context.Context) error {
//		return quote(ctx, order)
//	})
//	if errors.Is(err, timeout.ErrTimeout) { ... } // our 2s ran out, not the caller's
//
// # Which one do I use
//
//   - WaitFor (WaitForValue for a result), for a function that takes a
//     context and honours it: it runs in your goroutine, and nothing outlives
//     the call.
//   - WaitFor with Grace(g), for a function that takes a context but may
//     ignore it: after the deadline it gets g more, then is abandoned (it
//     runs on, counted by Abandoned).
//   - Call, for a blocking function that takes no context at all (a legacy
//     client): it runs in a goroutine of its own and is abandoned at the
//     deadline.
//   - WithLimiter with Grace or Call, so that abandoned goroutines cannot
//     multiply: each keeps its permit until it really returns (SV6).
//
// # Rules
//
// The tests carry each rule's name:
//
//   - TO1 structured by default. WaitFor runs fn exactly once, in the caller's
//     goroutine, with a child context whose deadline is the earlier of the
//     parent's and now+d (the tightest deadline wins), and returns only after
//     fn returned. The child keeps the parent's values.
//   - TO2 fn's success wins. fn returns nil: WaitFor returns nil, even late.
//   - TO3 own timeouts are named. fn returns an error after this WaitFor's own
//     deadline fired: the error matches ErrTimeout, context.DeadlineExceeded
//     and fn's error, answers Timeout() true, and its message names d. When
//     the parent was cancelled or expired first, fn's error comes back
//     unchanged, without ErrTimeout. So does an error fn returns while its
//     context is live. Inside fn, context.Cause(ctx) matches ErrTimeout once
//     the own deadline fired.
//   - TO4 d <= 0: fn still runs once, with an expired context (and an error it
//     returns is named as in TO3, unless the parent was already done).
//   - TO5 Grace. With Grace(g), fn runs in its own goroutine; if it has not
//     returned g after the context ended, WaitFor returns an error matching
//     ErrAbandoned and, when its own deadline fired, ErrTimeout; when the
//     parent ended the context instead, the error matches the parent's Err
//     and its cause, context.Cause (both under errors.Is), and not
//     ErrTimeout. The goroutine runs on and is
//     counted by Abandoned until it returns. A panic before abandonment is
//     raised again in the caller, carrying the panic's value and the stack of
//     fn's goroutine; a runtime.Goexit is carried out in the
//     caller. After abandonment a panic is recovered and logged with
//     slog.Default at level Error, with its stack. A panic raised again is a
//     *panics.Error (the type of taskgroup.PanicError too), so recover()
//     yields its value and stack; a panic with http.ErrAbortHandler is raised
//     again as that very value, as net/http expects.
//   - TO6 Call is for blocking functions that take no context: fn runs in its
//     own goroutine; Call returns its result if it finishes before the
//     deadline or the parent's cancellation, and otherwise returns at once
//     with an ErrAbandoned error, the goroutine counted as in TO5.
//   - SV6 bounded abandonment. With WithLimiter(l), fn holds a permit of l
//     while it runs; an abandoned goroutine keeps it until fn returns, and a
//     call that gets no permit in time does not start fn.
//
// Choices where the contract is silent:
//
//   - WaitForValue returns fn's value as fn returned it, also beside an
//     error; only an abandoned fn gives the zero value.
//   - Remaining never returns a negative duration: past the deadline it
//     returns 0 and true.
//   - ErrAbandoned matches ErrTimeout, as a value. An error for an abandoned
//     goroutine always matches ErrAbandoned, but ErrTimeout only when the
//     call's own deadline fired (or the parent's cause is itself a timeout,
//     an enclosing WaitFor's say): a caller that cancelled its context did
//     not time out.
//   - Call starts fn even when ctx is already done or d <= 0, as WaitFor
//     does (TO4); it is then abandoned at once. With WithLimiter it does
//     not: fn starts only once it holds a permit.
//   - A nil fn, and a nil ctx, panic at the call with a message.
//
// Every wait in this package is a channel operation or a timer, so code that
// uses it can be tested inside testing/synctest: the bubble's fake clock
// drives the timeouts. Abandoned counts goroutines across the process, and
// holds no channel a bubble could share.
package timeout
