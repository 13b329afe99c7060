package taskgroup_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leash-go/leash/taskgroup"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The streams' property (RS2, RS3): random items, a random loop body that
// may leave early, both orders, random limits, in fake time. It does not
// predict every instant, as the group's model does; it checks what must
// hold whatever the scheduling: the order, that every item the input
// yielded is received, listed or counted, that nothing runs after the loop,
// the bounds, fail-fast, and how the range statement and Err end.

// streamKind is what one item's fn does.
type streamKind uint8

const (
	skValue        streamKind = iota // returns its value at its time, ignoring ctx
	skFail                           // fails with its own error at its time
	skPanic                          // panics with its own error at its time
	skGoexit                         // calls runtime.Goexit at its time
	skBlock                          // waits for ctx.Done, returns ctx.Err() (an echo)
	skIgnore                         // sleeps until its time ignoring ctx; then echoes if ctx is done, else returns its value
	skFailOnCancel                   // waits for ctx.Done, then fails with its own error
	numStreamKinds
)

var streamKindNames = [...]string{"value", "fail", "panic", "goexit", "block", "ignore", "failOnCancel"}

func (k streamKind) String() string { return streamKindNames[k] }

// exitKind is how the loop body leaves early.
type exitKind uint8

const (
	exitBreak exitKind = iota
	exitReturn
	exitPanic
)

type streamScenario struct {
	ordered        bool
	limit          int // 0: none
	collectAll     bool
	panicsAsErrors bool
	kinds          []streamKind
	at             []time.Duration // each item's time, when its kind has one
	bodySleep      []time.Duration // the body's time for its k-th result
	exitAt         int             // the result at which the body leaves; -1: never
	exit           exitKind
	cancelAt       time.Duration // when the parent is cancelled with errParent; 0: only at its one-hour deadline
}

var errParent = errors.New("parent cancelled")

const streamHour = time.Hour

func drawStreamScenario(t *rapid.T) *streamScenario {
	sc := &streamScenario{
		ordered:        rapid.Bool().Draw(t, "ordered"),
		collectAll:     rapid.Bool().Draw(t, "collectAll"),
		panicsAsErrors: rapid.Bool().Draw(t, "panicsAsErrors"),
		limit:          rapid.IntRange(0, 4).Draw(t, "limit"),
		exitAt:         -1,
	}
	if rapid.Bool().Draw(t, "leave early") {
		sc.exitAt = rapid.IntRange(0, 4).Draw(t, "exitAt")
		sc.exit = exitKind(rapid.IntRange(0, 2).Draw(t, "exit"))
	}
	n := rapid.IntRange(0, 12).Draw(t, "items")
	for i := range n {
		// Values half the time, so that the loop has something to receive.
		k := rapid.IntRange(0, 2*int(numStreamKinds)-1).Draw(t, "kind")
		sc.kinds = append(sc.kinds, streamKind(max(0, k-int(numStreamKinds))))
		// Whole seconds plus a microsecond count of the item's own: no two
		// items act at one instant.
		sc.at = append(sc.at, time.Duration(rapid.IntRange(0, 4).Draw(t, "at"))*time.Second+time.Duration(i)*time.Microsecond)
	}
	for range rapid.IntRange(1, 4).Draw(t, "body sleeps") {
		sc.bodySleep = append(sc.bodySleep, time.Duration(rapid.IntRange(0, 3).Draw(t, "body sleep"))*time.Second)
	}
	if rapid.Bool().Draw(t, "cancel parent") {
		// 999 µs: never the instant of an item's own time.
		sc.cancelAt = time.Duration(rapid.IntRange(0, 8).Draw(t, "cancelAt"))*time.Second + 999*time.Microsecond
	}
	return sc
}

func (sc *streamScenario) options() []taskgroup.Option {
	var opts []taskgroup.Option
	if sc.limit > 0 {
		opts = append(opts, taskgroup.WithLimit(sc.limit))
	}
	if sc.collectAll {
		opts = append(opts, taskgroup.CollectAll())
	}
	if sc.panicsAsErrors {
		opts = append(opts, taskgroup.PanicsAsErrors())
	}
	return opts
}

func itemError(i int) error { return fmt.Errorf("item %d failed", i) }

// streamEnd is how an item ended, as its fn saw it.
type streamEnd uint8

const (
	endSuccess streamEnd = iota + 1
	endFailure
	endEcho
)

// streamRun is what one run of a scenario saw.
type streamRun struct {
	sc    *streamScenario
	start time.Time

	mu          sync.Mutex
	running     int
	mostRunning int
	maxStarted  int // the highest index started, -1 for none
	startAt     map[int]time.Duration
	endAt       map[int]time.Duration
	end         map[int]streamEnd
	pulled      int  // items the input yielded
	inputActive bool // the input is being ranged
}

func (r *streamRun) now() time.Duration { return time.Since(r.start) }

func (r *streamRun) input(yield func(int) bool) {
	r.mu.Lock()
	r.inputActive = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inputActive = false
		r.mu.Unlock()
	}()
	for i := range r.sc.kinds {
		r.mu.Lock()
		r.pulled++
		r.mu.Unlock()
		if !yield(i) {
			return
		}
	}
}

func (r *streamRun) fn(ctx context.Context, i int) (int, error) {
	r.mu.Lock()
	r.startAt[i] = r.now()
	r.running++
	r.mostRunning = max(r.mostRunning, r.running)
	r.maxStarted = max(r.maxStarted, i)
	r.mu.Unlock()
	var end streamEnd
	defer func() {
		r.mu.Lock()
		r.running--
		r.endAt[i] = r.now()
		r.end[i] = end
		r.mu.Unlock()
	}()
	// Fake time: the property runs in a testing/synctest bubble (rapid.SyncTest).
	sleepUntil := func() { time.Sleep(r.sc.at[i] - r.now()) }
	switch r.sc.kinds[i] {
	case skValue:
		sleepUntil()
		end = endSuccess
		return 10 * i, nil
	case skFail:
		sleepUntil()
		end = endFailure
		return 0, itemError(i)
	case skPanic:
		sleepUntil()
		end = endFailure
		panic(itemError(i))
	case skGoexit:
		sleepUntil()
		end = endFailure
		runtime.Goexit()
	case skBlock:
		<-ctx.Done()
		end = endEcho
		return 0, ctx.Err()
	case skIgnore:
		sleepUntil()
		if ctx.Err() != nil {
			end = endEcho
			return 0, ctx.Err()
		}
		end = endSuccess
		return 10 * i, nil
	case skFailOnCancel:
		<-ctx.Done()
		end = endFailure
		return 0, itemError(i)
	}
	panic("unreachable")
}

func TestStream_Property_RS2_RS3_HoldWhateverTheItemsAndTheBody(t *testing.T) {
	rapid.Check(t, streamProperty)
}

func streamProperty(rt *rapid.T) {
	sc := drawStreamScenario(rt)
	rapid.SyncTest(rt, func(rt *rapid.T) {
		r := &streamRun{sc: sc, start: time.Now(), maxStarted: -1,
			startAt: map[int]time.Duration{}, endAt: map[int]time.Duration{}, end: map[int]streamEnd{}}
		parent, cancelTimeout := context.WithTimeout(context.Background(), streamHour)
		defer cancelTimeout()
		parent, cancel := context.WithCancelCause(parent)
		defer cancel(nil)
		if sc.cancelAt > 0 {
			timer := time.AfterFunc(sc.cancelAt, func() { cancel(errParent) })
			defer timer.Stop()
		}
		var res *taskgroup.Results[int]
		if sc.ordered {
			res = taskgroup.Stream(parent, r.input, r.fn, sc.options()...)
		} else {
			res = taskgroup.AsCompleted(parent, r.input, r.fn, sc.options()...)
		}

		var (
			received []int
			exitTime = time.Duration(-1)
		)
		type bodyPanicValue struct{}
		raised := func() (raised any) {
			defer func() { raised = recover() }()
			func() {
				for i, v := range res.All() {
					k := len(received)
					received = append(received, i)
					require.Equal(rt, 10*i, v, "the value of item %d", i)
					if sc.limit > 0 {
						waiting := taskgroup.StreamWaiting(res)
						r.mu.Lock()
						running, maxStarted := r.running, r.maxStarted
						r.mu.Unlock()
						require.LessOrEqual(rt, waiting, sc.limit, "RS2: finished results waiting for the body")
						require.LessOrEqual(rt, running+waiting, sc.limit, "RS2: items started and not yet received")
						if sc.ordered {
							require.LessOrEqual(rt, maxStarted, i+sc.limit, "RS2: backpressure in input order")
						}
					}
					if k == sc.exitAt {
						exitTime = r.now()
						switch sc.exit {
						case exitBreak:
						case exitReturn:
							return
						case exitPanic:
							panic(bodyPanicValue{})
						}
						break
					}
					time.Sleep(sc.bodySleep[k%len(sc.bodySleep)])
				}
			}()
			return nil
		}()
		loopEnd := r.now()

		r.mu.Lock()
		defer r.mu.Unlock()
		require.Zero(rt, r.running, "TG1: nothing runs after the loop")
		require.Len(rt, r.endAt, len(r.startAt), "TG1: every item started has returned")
		require.False(rt, r.inputActive, "the input is no longer ranged after the loop")
		if sc.limit > 0 {
			require.LessOrEqual(rt, r.mostRunning, sc.limit, "RS2: at most limit items run")
		}
		for i, at := range r.endAt {
			require.LessOrEqual(rt, at, loopEnd, "item %d returned after the loop", i)
		}

		var failures, echoes, successes []int
		panicked := false
		for i, e := range r.end {
			switch {
			case e == endSuccess:
				successes = append(successes, i)
			case e == endEcho:
				echoes = append(echoes, i)
			case e == endFailure:
				failures = append(failures, i)
				panicked = panicked || sc.kinds[i] == skPanic
			}
		}
		// A panicking or Goexiting fn set its end to endFailure first.
		slices.Sort(successes)
		slices.Sort(failures)

		// How the range statement ended (RS2, TG5).
		switch {
		case exitTime >= 0 && sc.exit == exitPanic:
			require.Equal(rt, bodyPanicValue{}, raised, "RS2: the body's panic goes on unchanged")
		case panicked && !sc.panicsAsErrors:
			e, ok := raised.(*taskgroup.Error)
			require.True(rt, ok, "TG5: the range statement re-raises Wait's *Error, got %#v", raised)
			require.Equal(rt, e, res.Err(), "Err holds what was raised")
		default:
			require.Nil(rt, raised, "nothing to raise")
		}

		// The order (RS2).
		for _, i := range received {
			require.Equal(rt, endSuccess, r.end[i], "RS2: the loop receives successes only")
		}
		left := exitTime >= 0
		if sc.ordered {
			require.True(rt, slices.IsSorted(received), "RS2: input order")
			want := successes
			if left {
				last := received[len(received)-1]
				want = slices.DeleteFunc(slices.Clone(successes), func(i int) bool { return i > last })
			}
			require.Equal(rt, want, received, "RS2: every success, in input order")
		} else {
			for k := 1; k < len(received); k++ {
				require.LessOrEqual(rt, r.endAt[received[k-1]], r.endAt[received[k]], "RS2: completion order")
			}
			if left {
				last := r.endAt[received[len(received)-1]]
				for _, i := range successes {
					if r.endAt[i] < last {
						require.Contains(rt, received, i, "RS2: a success that finished before the last received one was received")
					}
				}
			} else {
				require.ElementsMatch(rt, successes, received, "RS2: every success")
			}
		}

		// Nothing starts after the group's context is done (TG2, TG7).
		failedAt := streamHour
		if !sc.collectAll {
			for _, i := range failures {
				failedAt = min(failedAt, r.endAt[i])
			}
		}
		ownAt := failedAt
		if left {
			ownAt = min(ownAt, exitTime)
		}
		parentAt := streamHour
		if sc.cancelAt > 0 {
			parentAt = sc.cancelAt
		}
		cancelledAt := min(ownAt, parentAt)
		for i, at := range r.startAt {
			require.LessOrEqual(rt, at, cancelledAt, "TG7: item %d started after the group's context was done", i)
		}
		if cancelledAt > loopEnd {
			require.Equal(rt, len(sc.kinds), r.pulled, "an uncancelled stream reads its whole input")
		}

		// Every item accounted for (RS3).
		err := res.Err()
		notStarted := r.pulled - len(r.startAt)
		if len(failures) == 0 {
			if parentAt <= ownAt && len(echoes)+notStarted > 0 {
				require.ErrorIs(rt, err, context.Cause(parent), "TG4: the parent's cancellation")
				var e *taskgroup.Error
				require.ErrorAs(rt, err, &e)
				require.Equal(rt, len(echoes)+notStarted, e.Cancelled, "RS3: echoes and items never started are counted")
			} else {
				require.NoError(rt, err, "RS3: nothing failed")
			}
			return
		}
		var e *taskgroup.Error
		require.ErrorAs(rt, err, &e, "RS3: a failure is never lost")
		var listed []int
		for _, f := range e.Failures {
			listed = append(listed, f.Index)
			switch sc.kinds[f.Index] {
			case skGoexit:
				require.ErrorIs(rt, f.Err, taskgroup.ErrGoexit, "TG6")
			case skPanic:
				var p *taskgroup.PanicError
				require.ErrorAs(rt, f.Err, &p, "TG5")
				require.Equal(rt, itemError(f.Index), p.Value)
			default:
				require.Equal(rt, itemError(f.Index), f.Err)
			}
		}
		slices.Sort(listed)
		require.Equal(rt, failures, listed, "RS3: every failure, with its item's index")
		require.Equal(rt, len(echoes)+notStarted, e.Cancelled, "RS3: echoes and items never started are counted")
	})
}
