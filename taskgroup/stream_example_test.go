package taskgroup_test

import (
	"bufio"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/leash-go/leash/taskgroup"
)

// lines yields the lines of a text, as a file's would come: an input of
// unknown length.
func lines(text string) iter.Seq[string] {
	return func(yield func(string) bool) {
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			if !yield(sc.Text()) {
				return
			}
		}
	}
}

// Look up each user named in a file, at most two at a time, and stop at the
// first blank line: the break cancels the lookups still running, and the
// loop ends once they have returned (RS2).
func ExampleStream() {
	lookup := func(ctx context.Context, name string) (string, error) {
		return strings.ToUpper(name), nil // a request that honours ctx
	}
	res := taskgroup.Stream(context.Background(), lines("ada\ngrace\n\nbarbara\n"), lookup, taskgroup.WithLimit(2))
	for i, user := range res.All() {
		if user == "" {
			fmt.Printf("line %d is blank: stop\n", i+1)
			break
		}
		fmt.Printf("line %d: %s\n", i+1, user)
	}
	if err := res.Err(); err != nil { // a lookup's failure, even one at the moment of the break
		fmt.Println(err)
	}
	// Output:
	// line 1: ADA
	// line 2: GRACE
	// line 3 is blank: stop
}

// Results in the order they finish, each with its index in the input.
func ExampleAsCompleted() {
	fastSeen := make(chan struct{})
	fetch := func(ctx context.Context, name string) (string, error) {
		if name == "slow" {
			<-fastSeen // finishes only once the loop has received the fast one
		}
		return name + " done", nil
	}
	res := taskgroup.AsCompleted(context.Background(), slices.Values([]string{"slow", "fast"}), fetch)
	for i, v := range res.All() {
		fmt.Println(i, v)
		if v == "fast done" {
			close(fastSeen)
		}
	}
	fmt.Println("error:", res.Err())
	// Output:
	// 1 fast done
	// 0 slow done
	// error: <nil>
}
