package lv5

import (
	"context"
)

type Tx struct{}

func (*Tx) Rollback(ctx context.Context) error { return nil }
func (*Tx) Commit(ctx context.Context) error   { return nil }

type Lease struct{}

func (Lease) Release(ctx context.Context, id int) error { return nil }

type Conn struct{ tx *Tx }

func (*Conn) Close(ctx context.Context) {}

func begin(ctx context.Context) (*Tx, error) { return &Tx{}, nil }

func transfer(ctx context.Context) error {
	tx, err := begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) // want `LV5: deferred Rollback runs with ctx, which may already be cancelled`
	return tx.Commit(ctx)
}

func field(ctx context.Context, c *Conn) error {
	defer c.tx.Rollback(ctx) // want `LV5: deferred Rollback`
	return nil
}

func release(ctx context.Context, l Lease) {
	defer l.Release(ctx, 7) // want `LV5: .*\(no automatic fix: the cleanup takes more than the context\)`
}

func closeConn(ctx context.Context, c *Conn) {
	defer c.Close(ctx) // want `LV5: .*\(no automatic fix: the cleanup is not a func\(context.Context\) error\)`
}

func inClosure(ctx context.Context, tx *Tx) {
	defer func() {
		_ = tx.Rollback(ctx) // want `LV5: deferred Rollback`
	}()
}
