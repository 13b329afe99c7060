package taskgroup_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
)

// tree returns the part of WriteTree's text rooted at the group named root:
// other tests' groups may be live too.
func tree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, taskgroup.WriteTree(&b))
	var out []string
	in := false
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if strings.HasPrefix(line, "group ") {
			in = strings.HasPrefix(line, `group "`+root+`" `)
		}
		if in {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

func block(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestWriteTree_OB5_PrintsNestedGroupsUnderTheirTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithName("ob5-checkout"))
		g.GoNamed("payment", block)
		g.GoNamed("shipping", func(ctx context.Context) error {
			time.Sleep(400 * time.Millisecond)
			quotes := taskgroup.New(ctx, taskgroup.WithName("quotes"))
			quotes.GoNamed("ups", block)
			quotes.Go(block)
			return quotes.Wait()
		})
		g.Go(func(ctx context.Context) error {
			time.Sleep(time.Second)
			audit := taskgroup.New(g.Context(), taskgroup.WithName("audit")) // the group's own context
			audit.Go(block)
			return audit.Wait()
		})
		time.Sleep(1200 * time.Millisecond)
		synctest.Wait()

		require.Equal(t, `group "ob5-checkout" (running 1.2s)
├── task "payment" #0 (running 1.2s)
├── task "shipping" #1 (running 1.2s)
│   └── group "quotes" (running 800ms)
│       ├── task "ups" #0 (running 800ms)
│       └── task #1 (running 800ms)
├── task #2 (running 1.2s)
└── group "audit" (running 200ms)
    └── task #0 (running 200ms)
`, tree(t, "ob5-checkout"))
		g.Stop()
		require.NoError(t, g.Wait())
	})
}

func TestWriteTree_OB5_NamedGroupInsideAnUnnamedOneSitsUnderTheNearestNamed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithName("ob5-outer"))
		g.GoNamed("fanout", func(ctx context.Context) error {
			plain := taskgroup.New(ctx) // unnamed: not in the tree
			plain.Go(func(ctx context.Context) error {
				inner := taskgroup.New(ctx, taskgroup.WithName("inner"))
				inner.GoNamed("leaf", block)
				return inner.Wait()
			})
			return plain.Wait()
		})
		time.Sleep(time.Second)
		synctest.Wait()

		require.Equal(t, `group "ob5-outer" (running 1s)
└── task "fanout" #0 (running 1s)
    └── group "inner" (running 1s)
        └── task "leaf" #0 (running 1s)
`, tree(t, "ob5-outer"))
		g.Stop()
		require.NoError(t, g.Wait())
	})
}

func TestWriteTree_OB5_ForgetsFinishedGroups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithName("ob5-forget"))
		g.GoNamed("parent", func(ctx context.Context) error {
			inner := taskgroup.New(ctx, taskgroup.WithName("short"))
			inner.GoNamed("quick", sleepThen(time.Second, nil))
			if err := inner.Wait(); err != nil {
				return err
			}
			return block(ctx)
		})
		g.GoNamed("done", sleepThen(500*time.Millisecond, nil))
		time.Sleep(2 * time.Second)
		synctest.Wait()

		require.Equal(t, `group "ob5-forget" (running 2s)
└── task "parent" #0 (running 2s)
`, tree(t, "ob5-forget"))
		g.Stop()
		require.NoError(t, g.Wait())
		require.Empty(t, tree(t, "ob5-forget"))
	})
}

func TestWriteTree_OB5_ShowsWhenAndWhyAGroupWasCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		g := taskgroup.New(t.Context(), taskgroup.WithName("ob5-stuck"))
		g.GoNamed("legacy", ignoresCancellation(release))
		g.GoNamed("payment", sleepThen(time.Second, errA))
		time.Sleep(3 * time.Second)
		synctest.Wait()

		require.Equal(t, `group "ob5-stuck" (running 3s; cancelled 2s ago: task "payment" (#1): a failed)
└── task "legacy" #0 (running 3s)
`, tree(t, "ob5-stuck"))
		close(release)
		require.ErrorIs(t, g.Wait(), errA)
	})
}

func TestWriteTree_OB5_GroupOfAFinishedTaskMovesUpToItsGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithName("ob5-orphan"))
		escaped := make(chan *taskgroup.Group, 1)
		g.GoNamed("starter", func(ctx context.Context) error {
			inner := taskgroup.New(ctx, taskgroup.WithName("escaped"))
			inner.GoNamed("runner", block)
			escaped <- inner // waited for by another task
			return nil
		})
		g.GoNamed("waiter", func(context.Context) error { return (<-escaped).Wait() })
		time.Sleep(time.Second)
		synctest.Wait()

		require.Equal(t, `group "ob5-orphan" (running 1s)
├── task "waiter" #1 (running 1s)
└── group "escaped" (running 1s)
    └── task "runner" #0 (running 1s)
`, tree(t, "ob5-orphan"))
		g.Stop()
		require.NoError(t, g.Wait())
	})
}

func TestWriteTree_OB5_ForgetsAGroupNeverWaitedForOnceCollected(t *testing.T) {
	func() {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel() // lets the group's context go
		_ = taskgroup.New(ctx, taskgroup.WithName("ob5-abandoned"))
	}()
	require.NotEmpty(t, tree(t, "ob5-abandoned"))
	require.Eventually(t, func() bool {
		runtime.GC()
		return tree(t, "ob5-abandoned") == ""
	}, 10*time.Second, time.Millisecond)
}
