package treehttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/leash-go/leash/taskgroup/treehttp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHandler_OB5_ServesWriteTreesText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := taskgroup.New(t.Context(), taskgroup.WithName("ob5-served"))
		g.GoNamed("busy", func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		time.Sleep(time.Second)
		synctest.Wait()
		rec := httptest.NewRecorder()
		treehttp.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/taskgroups", nil))
		g.Stop()
		require.NoError(t, g.Wait())

		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Contains(t, rec.Body.String(), `group "ob5-served" (running 1s)
└── task "busy" #0 (running 1s)
`)
	})
}

func ExampleHandler() {
	// Beside net/http/pprof's handlers, on a debug listener:
	http.Handle("/debug/taskgroups", treehttp.Handler())
	// $ curl localhost:6060/debug/taskgroups
	// group "checkout" (running 1.2s; cancelled 1s ago: task "payment" (#0): card declined)
	// └── task "fraud-check" #1 (running 1.2s)
}
