package etcdlimit_test

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A hold is one grant as its holder saw it: from Acquire's return to the
// call of Release, or to the moment the holder saw its lease end, or to the
// holder's death.
type hold struct {
	proc       int
	token, w   int64
	start, end int64 // Unix nanoseconds
	lost       bool  // ended by the lease (an L line)
	open       bool  // no end recorded: the process was killed
}

// logs is what the workers recorded.
type logs struct {
	holds   []hold
	errors  int // E lines
	fenced  int // F lines: fenced writes refused while the grant seemed held
	byProc  map[int]int
	lostWhy []string
	// errorWhy counts the Acquire errors by message, run of digits elided.
	errorWhy map[string]int
	// leaseEnds are the times the leases of each process ended (D lines).
	leaseEnds map[int][]int64
}

func readLogs(t *testing.T, files []string) logs {
	t.Helper()
	var lg logs
	lg.byProc = make(map[int]int)
	lg.errorWhy = make(map[string]int)
	lg.leaseEnds = make(map[int][]int64)
	index := make(map[int64]int) // token -> holds index
	for _, name := range files {
		f, err := os.Open(name)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 3 {
				continue // a line cut by SIGKILL
			}
			n := func(i int) int64 {
				v, err := strconv.ParseInt(fs[i], 10, 64)
				require.NoError(t, err, "%s: %q", name, sc.Text())
				return v
			}
			switch fs[0] {
			case "G":
				if len(fs) < 5 {
					continue
				}
				index[n(2)] = len(lg.holds)
				lg.holds = append(lg.holds, hold{proc: int(n(1)), token: n(2), w: n(3), start: n(4), open: true})
				lg.byProc[int(n(1))]++
			case "R", "L":
				if len(fs) < 4 {
					continue
				}
				i, ok := index[n(2)]
				require.True(t, ok, "%s: end of unknown grant: %q", name, sc.Text())
				h := &lg.holds[i]
				h.end, h.open, h.lost = n(3), false, fs[0] == "L"
				if h.lost {
					lg.lostWhy = append(lg.lostWhy, strings.Join(fs[4:], " "))
				}
			case "F":
				lg.fenced++
			case "D":
				lg.leaseEnds[int(n(1))] = append(lg.leaseEnds[int(n(1))], n(2))
			case "E":
				lg.errors++
				lg.errorWhy[digits.ReplaceAllString(strings.Join(fs[3:], " "), "N")]++
			}
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return lg
}

// after counts, for each process, the grants that began after t.
func (lg logs) after(t int64) map[int]int {
	m := make(map[int]int)
	for _, h := range lg.holds {
		if h.start > t {
			m[h.proc]++
		}
	}
	return m
}

// leasesEndedAfter reports whether each of procs saw a lease of its own end
// after t.
func (lg logs) leasesEndedAfter(t int64, procs int) bool {
	for p := range procs {
		if !slices.ContainsFunc(lg.leaseEnds[p], func(at int64) bool { return at > t }) {
			return false
		}
	}
	return true
}

func (lg logs) lost() int {
	n := 0
	for _, h := range lg.holds {
		if h.lost {
			n++
		}
	}
	return n
}

var digits = regexp.MustCompile(`[0-9a-f]*[0-9][0-9a-f]*`)

// violation is a moment when the holders held more than the capacity.
type violation struct {
	at   int64
	held int64
}

// overCapacity sweeps the holds in time order and returns the moments at
// which more than capacity permits were held. Holds still open end at
// ends[proc] (the time the process was killed) or at runEnd. The last
// window nanoseconds of a hold ended by its lease are not counted: that is
// the documented lease-expiry window (0 checks that there is none).
func overCapacity(holds []hold, capacity int64, window int64, ends map[int]int64, runEnd int64) (violations []violation, peak int64) {
	type event struct {
		at int64
		dw int64
	}
	var evs []event
	for _, h := range holds {
		end := h.end
		switch {
		case h.open && ends[h.proc] != 0:
			end = ends[h.proc]
		case h.open:
			end = runEnd
		case h.lost:
			end = max(h.start, end-window)
		}
		evs = append(evs, event{h.start, h.w}, event{end, -h.w})
	}
	// At equal times, ends before starts: a hand-over is not an overlap.
	slices.SortFunc(evs, func(a, b event) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.dw, b.dw))
	})
	var held int64
	for _, e := range evs {
		held += e.dw
		peak = max(peak, held)
		if held > capacity {
			violations = append(violations, violation{e.at, held})
		}
	}
	return violations, peak
}

func (v violation) String() string { return fmt.Sprintf("%d permits held at %d", v.held, v.at) }

func TestChecker_LIM3_FindsOverlapsBeyondCapacity(t *testing.T) {
	holds := []hold{
		{proc: 1, token: 1, w: 1, start: 0, end: 10},
		{proc: 2, token: 2, w: 1, start: 10, end: 20}, // hand-over at 10: fine
		{proc: 3, token: 3, w: 1, start: 15, end: 30},
		{proc: 1, token: 4, w: 1, start: 25, open: true}, // killed at 40
	}
	v, peak := overCapacity(holds, 2, 0, map[int]int64{1: 40}, 100)
	require.Empty(t, v)
	require.Equal(t, int64(2), peak)
	v, _ = overCapacity(holds, 1, 0, map[int]int64{1: 40}, 100)
	require.Len(t, v, 2, "15..20 and 25..30 hold two")
	v, _ = overCapacity(holds, 2, 0, nil, 100) // never killed: open until 100
	require.Empty(t, v)
	lost := []hold{
		{proc: 1, token: 1, w: 1, start: 0, end: 20, lost: true},
		{proc: 2, token: 2, w: 1, start: 15, end: 30},
	}
	v, _ = overCapacity(lost, 1, 0, nil, 100)
	require.Len(t, v, 1)
	v, _ = overCapacity(lost, 1, 5, nil, 100)
	require.Empty(t, v, "the overlap is inside the lease-expiry window")
}
