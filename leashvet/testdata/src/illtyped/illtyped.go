// Package illtyped does not type-check: leashvet reports what it can.
package illtyped

import (
	"context"
	"time"
)

func broken(ctx context.Context) error {
	var n int = "not an int"
	time.Sleep(time.Second)
	go undefinedFunction()
	return missing(ctx)
}
