package timeout

import (
	"context"
	"time"

	"github.com/leash-go/leash/internal/cause"
)

// waitGrace is WaitForValue with Grace(g) (TO5).
func waitGrace[T any](ctx context.Context, d time.Duration, o Option, fn func(ctx context.Context) (T, error)) (T, error) {
	g := o.grace
	start := time.Now()
	child, cancel := context.WithDeadlineCause(ctx, start.Add(d), errDeadline)
	defer cancel()
	if err := o.acquire(child); err != nil { // SV6
		var zero T
		return zero, named(ctx, child, start, d, err)
	}
	f := launch("WaitFor", o, func() (T, error) { return fn(child) })

	select {
	case <-f.done:
	case <-child.Done():
		t := time.NewTimer(g)
		defer t.Stop()
		select {
		case <-f.done:
		case <-t.C:
			if f.abandon() {
				var zero T
				return zero, abandonment(ctx, child, start, "WaitFor", d, g)
			}
			<-f.done
		}
	}
	v, err := f.result()
	if err != nil {
		err = named(ctx, child, start, d, err)
	}
	return v, err
}

// abandonment returns the error for a flight abandoned after child ended.
func abandonment(parent, child context.Context, start time.Time, what string, d, g time.Duration) error {
	e := &abandonedError{what: what, d: d, grace: g, timedOut: ownDeadlineFired(parent, child, start, d)}
	if !e.timedOut {
		// ALL3: child ended because its parent did, with the parent's Err
		// and cause.
		e.ctxErr = cause.Of(child)
	}
	return e
}
