package semaphore_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	xsync "golang.org/x/sync/semaphore"
	"pgregory.net/rapid"

	"github.com/leash-go/leash/semaphore"
)

// TestSemaphore_SEM1to5_MatchesFIFOModel drives a Semaphore with random
// Acquires (in goroutines), cancellations, releases, TryAcquires, resizes and
// closes, and after every step, once the bubble has settled, compares every
// observable with a FIFO model: who holds permits, who waits, what each
// finished Acquire returned, and Stats.
func TestSemaphore_SEM1to5_MatchesFIFOModel(t *testing.T) {
	rapid.Check(t, fifoModelProperty)
}

// FuzzSemaphoreModel runs the FIFO model as a coverage-guided fuzz target
// (go test -fuzz FuzzSemaphoreModel ./semaphore): the fuzzer's bytes stand
// for rapid's random choices.
func FuzzSemaphoreModel(f *testing.F) {
	// Regression seeds for noSkipWithoutDraw: bytes that keep choosing
	// Cancel (3) or Release (12) while nothing is queued or held.
	for _, b := range []byte{3, 12} {
		in := append([]byte{1}, bytes.Repeat([]byte{b}, 3000)...)
		f.Add(append(in, make([]byte, 64)...))
	}
	f.Fuzz(rapid.MakeFuzz(fifoModelProperty))
}

// fifoModelProperty is the state machine of
// TestSemaphore_SEM1to5_MatchesFIFOModel.
//
// noSkipWithoutDraw: an action with nothing to act on returns as a no-op
// step instead of calling rt.Skip. rapid's Repeat fails the whole test
// ("can't find a valid (non-skipped) action") after 100 skips in a row that
// drew nothing, and fuzzer bytes that keep choosing Cancel before any Acquire
// do exactly that (CI's fuzz stage found it). A skip after a draw is a
// rejection, which at worst ends the sequence early, so those stay.
func fifoModelProperty(rt *rapid.T) { runMachine(rt, false) }

// TestSemaphore_SEM1_SEM2_AgreesWithXSync replays the same kind of action
// sequences against golang.org/x/sync/semaphore as well, where the two
// contracts agree: no Resize, no Close, no request larger than the capacity
// (x/sync waits for ctx instead) and no weight 0 (x/sync queues it).
func TestSemaphore_SEM1_SEM2_AgreesWithXSync(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) { runMachine(rt, true) })
}

// runMachine runs one random action sequence in a bubble and drains it.
func runMachine(rt *rapid.T, withXSync bool) {
	rapid.SyncTest(rt, func(rt *rapid.T) {
		m := newMachine(rt, withXSync)
		defer m.cleanup()
		rt.Repeat(m.actions())
		m.drain(rt)
	})
}

// actions are the machine's steps for rapid's Repeat; the differential test
// leaves out those x/sync does not have.
func (m *machine) actions() map[string]func(*rapid.T) {
	actions := map[string]func(*rapid.T){
		"":           m.check,
		"Acquire":    m.acquire,
		"TryAcquire": m.tryAcquire,
		"Cancel":     m.cancel,
		"Release":    m.release,
	}
	if !m.xsync {
		actions["OverRelease"] = m.overRelease
		actions["Resize"] = m.resize
		actions["Close"] = m.close
	}
	return actions
}

// impl is what the machine drives: a *semaphore.Semaphore, and in the
// differential test also an *xsync.Weighted.
type impl interface {
	Acquire(ctx context.Context, w int64) error
	TryAcquire(w int64) bool
	Release(w int64)
}

type outcome int

const (
	waiting outcome = iota
	granted
	cancelled
	tooLarge
	closed
)

func (o outcome) String() string {
	return [...]string{"waiting", "granted", "cancelled", "ErrTooLarge", "ErrClosed"}[o]
}

// call is one Acquire, started on every implementation at once.
type call struct {
	id     int
	w      int64
	cancel context.CancelCauseFunc
	cause  error
	res    []<-chan error // one per implementation
	want   outcome        // what the model says
	seen   bool           // its return has been checked
}

func (c *call) String() string { return fmt.Sprintf("Acquire #%d (w=%d)", c.id, c.w) }

// machine holds the implementations under test and the model.
type machine struct {
	sem   *semaphore.Semaphore
	impls []impl
	names []string
	xsync bool // differential: restrict the actions to where the contracts agree

	// the model
	capacity, inUse int64
	isClosed        bool
	queue           []*call // waiting, oldest first
	holds           []int64 // permits held, one entry per successful Acquire or TryAcquire
	overByShrink    bool    // InUse above Capacity is allowed: a shrink left it so

	calls []*call
}

func newMachine(rt *rapid.T, withXSync bool) *machine {
	capacity := rapid.Int64Range(0, 6).Draw(rt, "capacity")
	m := &machine{
		sem:      semaphore.New(capacity),
		xsync:    withXSync,
		capacity: capacity,
	}
	m.impls, m.names = []impl{m.sem}, []string{"leash"}
	if withXSync {
		if capacity == 0 {
			capacity = 1 // x/sync hangs on any Acquire of capacity 0
			m.sem.Resize(1)
			m.capacity = 1
		}
		m.impls = append(m.impls, xsync.NewWeighted(capacity))
		m.names = append(m.names, "xsync")
	}
	return m
}

// cleanup lets every goroutine of the bubble end, also after a failure.
func (m *machine) cleanup() {
	for _, c := range m.calls {
		c.cancel(nil)
	}
	m.sem.Close()
}

func (m *machine) acquire(rt *rapid.T) {
	lo, hi := int64(0), m.capacity+2
	if m.xsync {
		lo, hi = 1, m.capacity
	}
	w := rapid.Int64Range(lo, hi).Draw(rt, "w")
	ctx, cancel := context.WithCancelCause(context.Background())
	c := &call{id: len(m.calls), w: w, cancel: cancel}
	for _, s := range m.impls {
		c.res = append(c.res, acquire(ctx, s, w))
	}
	m.calls = append(m.calls, c)
	switch {
	case m.isClosed:
		c.want = closed // SEM5
	case w == 0:
		c.want = granted // SEM3: holds nothing
	case w > m.capacity:
		c.want = tooLarge // SEM3
	case len(m.queue) == 0 && w <= m.capacity-m.inUse:
		c.want = granted
		m.take(w)
	default:
		m.queue = append(m.queue, c) // SEM1
	}
}

func (m *machine) tryAcquire(rt *rapid.T) {
	lo := int64(0)
	if m.xsync {
		lo = 1
	}
	w := rapid.Int64Range(lo, m.capacity+1).Draw(rt, "w")
	want := !m.isClosed && (w == 0 || len(m.queue) == 0 && w <= m.capacity-m.inUse)
	for i, s := range m.impls {
		require.Equal(rt, want, s.TryAcquire(w), "%s: TryAcquire(%d)", m.names[i], w)
	}
	if want && w > 0 {
		m.take(w)
	}
}

func (m *machine) cancel(rt *rapid.T) {
	if len(m.calls) == 0 {
		return // a no-op step, not a skip: see noSkipWithoutDraw
	}
	c := m.calls[rapid.IntRange(0, len(m.calls)-1).Draw(rt, "Acquire #")]
	if c.cause != nil {
		rt.Skip("already cancelled")
	}
	c.cause = fmt.Errorf("cancel %v", c)
	c.cancel(c.cause)
	if i := slices.Index(m.queue, c); i >= 0 {
		m.queue = slices.Delete(m.queue, i, i+1)
		c.want = cancelled // SEM2
		m.grant()          // SEM2: those behind may fit now
	}
}

func (m *machine) release(rt *rapid.T) {
	if len(m.holds) == 0 {
		return // a no-op step, not a skip: see noSkipWithoutDraw
	}
	i := rapid.IntRange(0, len(m.holds)-1).Draw(rt, "holder")
	w := rapid.Int64Range(1, m.holds[i]).Draw(rt, "w")
	for _, s := range m.impls {
		s.Release(w)
	}
	m.holds[i] -= w
	if m.holds[i] == 0 {
		m.holds = slices.Delete(m.holds, i, i+1)
	}
	m.inUse -= w
	m.grant()
}

func (m *machine) overRelease(rt *rapid.T) {
	w := m.inUse + rapid.Int64Range(1, 3).Draw(rt, "excess")
	require.PanicsWithValue(rt, "semaphore: released more than held", func() { m.sem.Release(w) })
}

func (m *machine) resize(rt *rapid.T) {
	c := rapid.Int64Range(0, 8).Draw(rt, "capacity")
	m.sem.Resize(c)
	m.capacity = c
	m.queue = slices.DeleteFunc(m.queue, func(c *call) bool {
		if c.w > m.capacity {
			c.want = tooLarge // SEM4
			return true
		}
		return false
	})
	if m.inUse > m.capacity {
		m.overByShrink = true // SEM4: nothing is revoked
	}
	m.grant()
}

func (m *machine) close(rt *rapid.T) {
	if rapid.IntRange(0, 3).Draw(rt, "close now") != 0 {
		rt.Skip("close less often: little happens after it") // SEM5
	}
	m.sem.Close()
	m.isClosed = true
	for _, c := range m.queue {
		c.want = closed // SEM5
	}
	m.queue = nil
}

// take records a grant of w permits in the model.
func (m *machine) take(w int64) {
	m.inUse += w
	m.holds = append(m.holds, w)
}

// grant is the model's FIFO rule: grant the head while it fits (SEM1).
func (m *machine) grant() {
	for len(m.queue) > 0 && m.queue[0].w <= m.capacity-m.inUse {
		c := m.queue[0]
		m.queue = m.queue[1:]
		c.want = granted
		m.take(c.w)
	}
}

// check settles the bubble and compares every implementation with the model.
func (m *machine) check(rt *rapid.T) {
	synctest.Wait()
	for _, c := range m.calls {
		if c.seen {
			continue
		}
		for i, res := range c.res {
			err, ok := returned(res)
			if c.want == waiting {
				require.False(rt, ok, "%s: %v returned %v; the model says it waits", m.names[i], c, err)
				continue
			}
			require.True(rt, ok, "%s: %v still waits; the model says %v", m.names[i], c, c.want)
			switch c.want {
			case granted:
				require.NoError(rt, err, "%s: %v", m.names[i], c)
			case cancelled:
				require.ErrorIs(rt, err, context.Canceled, "%s: %v", m.names[i], c)
				if m.impls[i] == m.sem {
					require.ErrorIs(rt, err, c.cause, "%s: %v", m.names[i], c) // SEM2, ALL3
				}
			case tooLarge:
				require.ErrorIs(rt, err, semaphore.ErrTooLarge, "%s: %v", m.names[i], c)
			case closed:
				require.ErrorIs(rt, err, semaphore.ErrClosed, "%s: %v", m.names[i], c)
			}
		}
		c.seen = c.want != waiting
	}

	st := m.sem.Stats()
	require.Equal(rt, semaphore.Stats{Capacity: m.capacity, InUse: m.inUse, Waiters: len(m.queue)}, st)
	var held int64
	for _, h := range m.holds {
		held += h
	}
	require.Equal(rt, held, st.InUse, "every held permit is accounted for")
	if st.InUse <= st.Capacity {
		m.overByShrink = false
	}
	require.True(rt, st.InUse <= st.Capacity || m.overByShrink, "InUse %d above Capacity %d without a shrink", st.InUse, st.Capacity)
	if len(m.queue) > 0 {
		// Free permits that fit the head imply an empty queue (SEM1, SEM2).
		require.Less(rt, st.Capacity-st.InUse, m.queue[0].w, "the head %v fits but waits", m.queue[0])
		require.False(rt, m.isClosed, "waiters on a closed semaphore")
	}
}

// drain cancels every waiter and releases every permit, one at a time,
// checking the model at each step; then no permit may be missing.
func (m *machine) drain(rt *rapid.T) {
	for len(m.queue) > 0 {
		c := m.queue[0]
		c.cause = fmt.Errorf("drain %v", c)
		c.cancel(c.cause)
		m.queue = m.queue[1:]
		c.want = cancelled
		m.grant()
		m.check(rt)
	}
	for len(m.holds) > 0 {
		w := m.holds[0]
		for _, s := range m.impls {
			s.Release(w)
		}
		m.holds = m.holds[1:]
		m.inUse -= w
		m.grant()
		m.check(rt)
	}
	require.Equal(rt, semaphore.Stats{Capacity: m.capacity}, m.sem.Stats())
	if !m.isClosed {
		for i, s := range m.impls {
			require.True(rt, s.TryAcquire(m.capacity), "%s: no permit lost: TryAcquire(capacity)", m.names[i])
			s.Release(m.capacity)
		}
	}
}
