// Package leashvet is leash in code review: go/analysis analyzers that find
// the concurrency leash exists to replace, and rewrite it where the rewrite is
// mechanical.
//
// The analyzers carry the rule names of leash's design contract:
//
//   - LV1 (lv1) ad-hoc go: a bare go statement or a sync.WaitGroup fan-out
//     outside leash. Advice: it names the leash form that owns such a
//     goroutine. No fix.
//   - LV2 (lv2) errgroup: an errgroup.Group, rewritten to a taskgroup.Group.
//   - LV3 (lv3) outer context: a task function that ignores its own ctx and
//     uses a captured one, or context.Background/TODO.
//   - LV4 (lv4) uncancellable wait: time.Sleep, a bare <-time.After or a
//     channel receive with no ctx.Done() case, in a function that has a
//     context.
//   - LV5 (lv5) cleanup with a cancellable context: a deferred Rollback(ctx),
//     Close(ctx), Release(ctx), Shutdown(ctx)... that may run with a context
//     that is already cancelled.
//   - LV6 (lv6) group never waited: a group given tasks with a path to return
//     that skips Wait.
//
// Each analyzer's Doc says what its fix preserves and when it declines to fix.
//
// # Suppression
//
// A finding is suppressed by a comment on its line, or alone on the line
// above it:
//
//	go srv.Serve(l) //leash:ignore LV1 the listener's Close ends it, in Shutdown
//
// The comment names one or more rules (LV1,LV4) and must give a reason: a
// suppression without one suppresses nothing and is itself a finding.
//
// # What is never reported
//
// Generated files (a "Code generated ... DO NOT EDIT." comment) are not
// reported. leash's own library packages (github.com/leash-go/leash/...
// except its examples) implement the primitives these rules point to, and
// are exempt from LV1 and LV4. Test files (_test.go) are exempt from LV1 and
// LV4: tests start goroutines and build stragglers on purpose, and goleak,
// not a linter, is the leak check there.
//
// leashvet matches leash and errgroup by import path; it does not import
// them, so it carries no dependency on the library it checks.
package leashvet
