package taskgroup_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/leash-go/leash/taskgroup"
)

// The properties below draw a set of tasks (property_gen_test.go), work out
// with a model what the group must report (property_model_test.go), then run
// the tasks in a synctest bubble (property_run_test.go) and compare
// (property_check_test.go). The rapid fail files under testdata/rapid are
// regression seeds that every plain go test replays first;
// TestProperty_FailFilesDrawTheScenariosThatFoundTheBugs, in
// regression_test.go, checks that they still draw the scenarios that found
// the bugs.

// TestGroup_Property_TG1toTG11_MatchesModel draws a group (fail-fast or
// CollectAll, PanicsAsErrors, WithName, a limit by WithLimit, WithSemaphore
// or both, with any number of permits against any number of slots and some
// permits held by an outsider for a while; a parent that is cancelled,
// expires or is the context of a group that is stopped; Stop before the
// tasks or later) and up to 12 tasks that
// return nil, fail, fail with a context.Canceled of their own or with a
// nested group's *Error, echo the cancellation at once or late (ctx.Err(),
// the cause, either wrapped), panic (an error, a string, nil,
// context.Canceled), call runtime.Goexit or start a child in the same group,
// each handed over by Go, GoNamed, TryGo, Spawn or SpawnNamed.
//
// It checks the run against a model that simulates the group in fake time:
// when Wait returns and that every task had returned by then (TG1); which
// tasks start, and when (TG7, TG8: as soon as a slot, then a permit, is
// free, in the order the Go calls blocked); TryGo's report (no free slot, or
// a slot but no permit: false); when each task sees the
// cancellation, and its cause (TG2); the failures in return order with
// index, name and error (TG3-TG6); the cancelled count and the parent's
// cause (TG4); the re-panic and every panic in it (TG5); no cancellation by
// failures under CollectAll (TG9); the limit (TG8) and every permit back
// in the semaphore; each Task's Result (TG11); and a second Wait (TG10).
func TestGroup_Property_TG1toTG11_MatchesModel(t *testing.T) {
	rapid.Check(t, groupProperty)
}

// FuzzGroupProperty runs the same property as a coverage-guided fuzz target
// (go test -fuzz FuzzGroupProperty ./taskgroup): the fuzzer's bytes stand
// for rapid's random choices.
func FuzzGroupProperty(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(groupProperty))
}

// groupProperty is the property of TestGroup_Property_TG1toTG11_MatchesModel.
func groupProperty(rt *rapid.T) {
	sc := drawGroupScenario(rt)
	m := simulate(sc)
	rapid.SyncTest(rt, func(rt *rapid.T) {
		r := newPropRun(sc)
		var (
			err      error
			panicked any
			elapsed  time.Duration
			g        *taskgroup.Group
		)
		r.withParent(func(ctx context.Context) {
			g = taskgroup.New(ctx, sc.options(r.sem)...)
			r.g = g
			if m.stopAt < 0 {
				g.Stop()
			} else if m.stopAt != propNever {
				timer := time.AfterFunc(m.stopAt, g.Stop)
				defer timer.Stop()
			}
			panicked, err = propRecover(func() error {
				for _, id := range m.top {
					r.launch(id)
				}
				return g.Wait()
			})
			elapsed = r.since()
		})
		r.check(rt, m, err, panicked, elapsed)
		r.checkTasks(rt, m, err, panicked)
		require.Error(rt, g.Context().Err(), "the group's context is cancelled once Wait returns")

		// TG10: Wait again reports the same outcome.
		panicked2, err2 := propRecover(g.Wait)
		require.True(rt, panicked == panicked2, "TG10: a second Wait panics with the same value")
		require.True(rt, err == err2, "TG10: a second Wait returns the same error")
	})
}

// TestMap_Property_TG12_MatchesModel draws items that succeed, fail, echo,
// panic or call runtime.Goexit, with or without CollectAll, PanicsAsErrors, a
// limit and a parent that ends, and checks Map against the same model:
// len(out) == len(in), out[i] == f(in[i]) for every item that succeeded and
// the zero value for the others, and the error as from Wait.
func TestMap_Property_TG12_MatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := drawMapScenario(rt)
		m := simulate(sc)
		rapid.SyncTest(rt, func(rt *rapid.T) {
			r := newPropRun(sc)
			in := make([]int, len(sc.tasks))
			for i := range in {
				in[i] = 10*i + 3
			}
			f := func(x int) string { return fmt.Sprintf("f(%d)", x) }
			var (
				out      []string
				err      error
				panicked any
				elapsed  time.Duration
			)
			r.withParent(func(ctx context.Context) {
				panicked, err = propRecover(func() error {
					var err error
					out, err = taskgroup.Map(ctx, in, func(ctx context.Context, x int) (string, error) {
						id := (x - 3) / 10
						if _, err := r.body(ctx, id); err != nil {
							return "not " + f(x), err // Map must not keep it
						}
						return f(x), nil
					}, sc.options(r.sem)...)
					return err
				})
				elapsed = r.since()
			})
			r.check(rt, m, err, panicked, elapsed)
			if panicked != nil {
				return // Map re-panicked: there is no out
			}
			require.Len(rt, out, len(in), "TG12: len(out) == len(in)")
			for i := range in {
				if m.result[i] == resNil {
					require.Equal(rt, f(in[i]), out[i], "TG12: out[%d] is f(in[%d])", i, i)
				} else {
					require.Zero(rt, out[i], "TG12: item %d did not succeed", i)
				}
			}
		})
	})
}

// TestFirst_Property_TG13_MatchesModel draws up to 6 functions that succeed,
// fail, echo, panic or call runtime.Goexit, at distinct times, and a parent
// that ends, and checks First against the same model: the earliest success
// wins and stops the others, First returns only after every function has
// returned, and with no success its error is the group's.
func TestFirst_Property_TG13_MatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := drawFirstScenario(rt)
		m := simulate(sc)
		rapid.SyncTest(rt, func(rt *rapid.T) {
			r := newPropRun(sc)
			fns := make([]func(context.Context) (int, error), len(sc.tasks))
			for id := range fns {
				fns[id] = func(ctx context.Context) (int, error) { return r.body(ctx, id) }
			}
			var (
				val      int
				err      error
				panicked any
				elapsed  time.Duration
			)
			r.withParent(func(ctx context.Context) {
				panicked, err = propRecover(func() error {
					var err error
					val, err = taskgroup.First(ctx, fns...)
					return err
				})
				elapsed = r.since()
			})
			if len(fns) == 0 {
				require.ErrorIs(rt, err, taskgroup.ErrNoFunctions, "TG13: no functions")
				return
			}
			if m.winner >= 0 && !m.hasPanic() {
				require.Nil(rt, panicked)
				require.NoError(rt, err, "TG13: a function succeeded")
				require.Equal(rt, propValue(m.winner), val, "TG13: the first success wins")
				r.checkRun(rt, m, err, panicked, elapsed) // the group's error is not reported
				return
			}
			require.Zero(rt, val)
			r.check(rt, m, err, panicked, elapsed)
		})
	})
}
