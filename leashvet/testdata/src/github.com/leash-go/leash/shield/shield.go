// Package shield is a stub of leash's shield with its real signatures.
package shield

import (
	"context"
	"time"
)

func Do(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error { return nil }

func Cleanup(ctx context.Context, d time.Duration, errp *error, fn func(ctx context.Context) error) {}

func Context(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return ctx, func() {}
}
