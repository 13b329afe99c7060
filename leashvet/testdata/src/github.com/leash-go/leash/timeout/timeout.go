// Package timeout is a stub of leash's timeout with its real signatures.
package timeout

import (
	"context"
	"time"
)

func WaitFor(ctx context.Context, d time.Duration, fn func(ctx context.Context) error) error {
	return nil
}

func WaitForValue[T any](ctx context.Context, d time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	var z T
	return z, nil
}
