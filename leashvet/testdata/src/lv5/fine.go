package lv5

import (
	"context"
	"time"

	"github.com/leash-go/leash/shield"
)

// Non-findings: contexts that are already detached.
func detachedContexts(ctx context.Context, tx *Tx) {
	defer tx.Rollback(context.Background())
	defer tx.Rollback(context.WithoutCancel(ctx))
	dctx := context.WithoutCancel(ctx)
	defer tx.Rollback(dctx)
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	defer tx.Rollback(tctx)
	sctx, stop := shield.Context(ctx, time.Second)
	defer stop()
	defer tx.Rollback(sctx)
	defer shield.Do(ctx, time.Second, tx.Rollback)
}

// Not cleanup.
func commit(ctx context.Context, tx *Tx) {
	defer tx.Commit(ctx)
}
