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
// The rules, by the names the tests carry:
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
//     and cause (ALL3) and not ErrTimeout. The goroutine runs on and is
//     counted by Abandoned until it returns. A panic before abandonment is
//     raised again in the caller, as an error that carries the panic's value
//     and the stack of fn's goroutine; a runtime.Goexit is carried out in the
//     caller. After abandonment a panic is recovered and logged with
//     slog.Default at level Error, with its stack.
//   - TO6 Call is for blocking functions that take no context: fn runs in its
//     own goroutine; Call returns its result if it finishes before the
//     deadline or the parent's cancellation, and otherwise returns at once
//     with an ErrAbandoned error, the goroutine counted as in TO5.
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
//     does (TO4); it is then abandoned at once.
//   - A nil fn panics at the call.
//
// Every wait in this package is a channel operation or a timer, so it works
// inside testing/synctest and its fake clock drives the timeouts (ALL1).
package timeout
