package taskgroup_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/leash-go/leash/taskgroup"
)

// A link checker's report: every page is accounted for after the broken one
// cancelled the rest (RS1).
func ExampleMapOutcomes() {
	pages := []string{"/", "/slow", "/broken", "/about", "/blog"}
	check := func(ctx context.Context, page string) (int, error) {
		switch page {
		case "/slow":
			<-ctx.Done() // still loading when the check is cancelled
			return 0, ctx.Err()
		case "/broken":
			return 0, errors.New("connection refused")
		}
		return 200, nil
	}
	outcomes, err := taskgroup.MapOutcomes(context.Background(), pages, check, taskgroup.WithLimit(2))
	for i, o := range outcomes {
		switch o.Status {
		case taskgroup.Succeeded:
			fmt.Printf("%-8s %v %d\n", pages[i], o.Status, o.Value)
		case taskgroup.Failed:
			fmt.Printf("%-8s %v: %v\n", pages[i], o.Status, o.Err)
		default:
			fmt.Printf("%-8s %v\n", pages[i], o.Status)
		}
	}
	fmt.Println(err)
	// Output:
	// /        succeeded 200
	// /slow    cancelled
	// /broken  failed: connection refused
	// /about   not started
	// /blog    not started
	// taskgroup: task #2: connection refused (3 tasks cancelled)
}
