// Package treehttp serves taskgroup.WriteTree's text over HTTP: the live tree
// of named task groups and their running tasks, a structured thread dump to
// mount beside net/http/pprof (rule OB5).
//
// It is a package of its own so that importing taskgroup does not link
// net/http into every program.
package treehttp

import (
	"net/http"

	"github.com/leash-go/leash/taskgroup"
)

// Handler returns an http.Handler that answers every request with
// taskgroup.WriteTree's text, as text/plain:
//
//	http.Handle("/debug/taskgroups", treehttp.Handler())
func Handler() http.Handler { return http.HandlerFunc(serve) }

func serve(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = taskgroup.WriteTree(w)
}
