// Package shield runs cleanup that cancellation cannot interrupt, and that
// still cannot run for ever. It is context.WithoutCancel with the bound that
// WithoutCancel leaves out:
//
//	func checkout(ctx context.Context, order Order) (err error) {
//		res, err := inventory.Reserve(ctx, order)
//		if err != nil {
//			return err
//		}
//		// Runs even when ctx was cancelled; gets 2s of its own.
//		defer shield.Cleanup(ctx, 2*time.Second, &err, res.ReleaseUnlessCommitted)
//		...
//	}
//
// # Which one do I use
//
//   - Cleanup, in a defer, for cleanup whose error joins the function's
//     error: rolling back, releasing a reservation, closing a session.
//   - Do, for a protected step that is not a defer and whose error you
//     handle yourself.
//   - Context, for code that cannot take a callback: it returns the shielded
//     context and its CancelFunc.
//
// # Rules
//
// The tests carry each rule's name:
//
//   - SH1 protected, not orphaned. fn runs once, in the caller's goroutine,
//     with a context that keeps ctx's values but not its cancellation or
//     deadline, and that expires d after the call. It runs even when ctx is
//     already done.
//   - SH2 every shield is bounded. d <= 0 panics, with a message that starts
//     "shield: ". An error fn returns after the shield's own deadline matches
//     context.DeadlineExceeded, wraps fn's error, names d and answers
//     Timeout() true; an error fn returns before it comes back unchanged.
//   - SH3 Cleanup is Do for defer: `defer shield.Cleanup(ctx, 2*time.Second,
//     &err, tx.Rollback)` joins the cleanup's error into *errp with
//     errors.Join, after the error already there. When *errp is nil it
//     becomes the cleanup's error itself, unwrapped; a nil cleanup error
//     leaves *errp alone. A nil errp panics, before fn runs.
//   - SH4 a panic in fn propagates to the caller; nothing is swallowed. The
//     shield's timer is released all the same.
//
// Context is the same shield for code that cannot take a callback; its
// context follows SH1 and SH2, and its CancelFunc must be called, as
// context.WithTimeout's must.
//
// A nil ctx, or a nil fn, panics at the call with a message.
//
// shield holds no state between calls, and its only wait is the shield's
// timer, so code that uses it can be tested inside testing/synctest: the
// bubble's fake clock drives the shield's deadline.
package shield
