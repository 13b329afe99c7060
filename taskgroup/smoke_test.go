package taskgroup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	g := taskgroup.New(context.Background(), taskgroup.WithLimit(2))
	boom := errors.New("boom")
	for i := range 10 {
		g.Go(func(ctx context.Context) error {
			if i == 0 {
				return boom
			}
			<-ctx.Done()
			return ctx.Err()
		})
	}
	err := g.Wait()
	require.ErrorIs(t, err, boom)
	t.Log(err)
}
