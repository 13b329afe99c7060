package taskgroup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leash-go/leash/taskgroup"
)

func ExampleWithHooks() {
	hooks := taskgroup.Hooks{
		OnStart: func(t taskgroup.TaskInfo) {
			fmt.Printf("start %s/%s #%d\n", t.Group, t.Name, t.Index)
		},
		OnDone: func(t taskgroup.TaskInfo, err error, _ time.Duration) {
			fmt.Printf("done  %s/%s #%d: %v\n", t.Group, t.Name, t.Index, err)
		},
	}
	g := taskgroup.New(context.Background(), taskgroup.WithName("checkout"), taskgroup.WithHooks(hooks))
	g.GoNamed("payment", func(context.Context) error { return errors.New("card declined") })
	fmt.Println(g.Wait())
	// Output:
	// start checkout/payment #0
	// done  checkout/payment #0: card declined
	// taskgroup "checkout": task "payment" (#0): card declined
}

// legacyFraudCheck is a call that ignores its context.
func legacyFraudCheck(release <-chan struct{}) func(context.Context) error {
	return func(context.Context) error {
		<-release
		return nil
	}
}

// A task that ignores its context keeps Wait waiting. The straggler report
// says which task it is, how long ago the group was cancelled and why, and
// where the task is stuck.
func ExampleWithStragglerTimeout() {
	release := make(chan struct{})
	report := func(s taskgroup.Straggler) {
		fmt.Printf("straggler: group %q, task %q (#%d)\n", s.Group, s.Name, s.Index)
		fmt.Println("cancelled by:", s.Cause)
		fmt.Println("reported after the timeout:", s.SinceCancel >= 50*time.Millisecond)
		fmt.Println("stuck in legacyFraudCheck:", bytes.Contains(s.Stack, []byte("legacyFraudCheck")))
		close(release) // in a real program, the stuck call returns some time
	}
	g := taskgroup.New(context.Background(), taskgroup.WithName("checkout"),
		taskgroup.WithStragglerTimeout(50*time.Millisecond),
		taskgroup.WithHooks(taskgroup.Hooks{OnStraggler: report}))
	g.GoNamed("fraud-check", legacyFraudCheck(release))
	g.Stop()
	fmt.Println(g.Wait())
	// Output:
	// straggler: group "checkout", task "fraud-check" (#0)
	// cancelled by: taskgroup: group stopped
	// reported after the timeout: true
	// stuck in legacyFraudCheck: true
	// <nil>
}
