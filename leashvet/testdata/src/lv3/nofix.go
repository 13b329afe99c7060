package lv3

import (
	"context"

	"github.com/leash-go/leash/taskgroup"
)

// Another context than the group's parent: reported, not fixed (the task's
// parameter would not carry reqCtx's values).
func otherContext(ctx, reqCtx context.Context) error {
	g := taskgroup.New(ctx)
	g.Go(func(gctx context.Context) error {
		return fetch(reqCtx, "x") // want `LV3: .*\(no automatic fix: reqCtx is not the context the scope was created from\)`
	})
	return g.Wait()
}
