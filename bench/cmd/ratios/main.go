// Command ratios reads raw `go test -bench` output of several rounds and
// prints, for every benchmark row and every peer implementation, leash's time
// as a ratio to the peer's, paired by round: in each round both ran one after
// the other in the same process, so the ratio of the two cancels what the
// machine did to the whole round (another process, a quiet spell), which
// benchstat's unpaired test counts as noise. For each row it gives the median
// of the per-round ratios, their range, in how many rounds leash was faster,
// the exact two-sided p-value of the Wilcoxon signed-rank test on the log
// ratios, and both sides' allocs/op. Standard library only; run.sh calls it:
//
//	go run ./cmd/ratios -order FanOut,OneTask,Limit raw.txt > ratios.md
//
// Rounds are the "# round N" lines run.sh writes; without them, the k-th
// result of a benchmark belongs to round k.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	order := flag.String("order", "", "comma-separated families, in the order of the table (the others follow, alphabetically)")
	base := flag.String("impl", "leash", "the implementation whose ratios to the others are given")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: ratios [-order Fam,Fam...] [-impl leash] raw-bench-output...")
		os.Exit(2)
	}
	rs := newResults()
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ratios:", err)
			os.Exit(1)
		}
		err = rs.read(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "ratios: %s: %v\n", name, err)
			os.Exit(1)
		}
	}
	var fams []string
	if *order != "" {
		fams = strings.Split(*order, ",")
	}
	if err := rs.table(os.Stdout, *base, fams); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

// sample is one result line: ns/op and allocs/op (NaN when not reported).
type sample struct {
	ns, allocs float64
}

// key is a benchmark row (its name without the impl= element and the
// GOMAXPROCS suffix) and an implementation.
type key struct {
	row, impl string
}

type results struct {
	round   int         // the round of the lines being read, from "# round N"; 0 before any
	counts  map[key]int // results seen per key, for input without round lines
	samples map[key]map[int]sample
	rows    []string // in the order first seen
}

func newResults() *results {
	return &results{counts: map[key]int{}, samples: map[key]map[int]sample{}}
}

func (rs *results) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# round "); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				if n, err := strconv.Atoi(strings.TrimSuffix(f[0], ",")); err == nil {
					rs.round = n
				}
			}
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		var impl string
		var rowParts []string
		for _, p := range strings.Split(name, "/") {
			if v, ok := strings.CutPrefix(p, "impl="); ok {
				impl = v
			} else {
				rowParts = append(rowParts, p)
			}
		}
		if impl == "" {
			continue
		}
		s := sample{ns: math.NaN(), allocs: math.NaN()}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				s.ns = v
			case "allocs/op":
				s.allocs = v
			}
		}
		if math.IsNaN(s.ns) {
			continue
		}
		k := key{strings.Join(rowParts, "/"), impl}
		rs.counts[k]++
		round := rs.round
		if round == 0 {
			round = rs.counts[k]
		}
		if rs.samples[k] == nil {
			rs.samples[k] = map[int]sample{}
			if !slices.Contains(rs.rows, k.row) {
				rs.rows = append(rs.rows, k.row)
			}
		}
		rs.samples[k][round] = s
	}
	return sc.Err()
}

// peers are the other implementations of row, in a fixed order.
func (rs *results) peers(row, base string) []string {
	var out []string
	for k := range rs.samples {
		if k.row == row && k.impl != base {
			out = append(out, k.impl)
		}
	}
	rank := func(s string) int {
		if i := slices.Index([]string{"errgroup", "conc", "floor"}, s); i >= 0 {
			return i
		}
		return 3
	}
	slices.SortFunc(out, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return out
}

// sortedRows orders the rows by the families given, then alphabetically,
// with the numbers in a row's name compared as numbers.
func (rs *results) sortedRows(fams []string) []string {
	rows := slices.Clone(rs.rows)
	famRank := func(row string) int {
		fam, _, _ := strings.Cut(row, "/")
		if i := slices.Index(fams, fam); i >= 0 {
			return i
		}
		return len(fams)
	}
	slices.SortStableFunc(rows, func(a, b string) int {
		if d := famRank(a) - famRank(b); d != 0 {
			return d
		}
		return naturalCompare(a, b)
	})
	return rows
}

// naturalCompare compares strings with runs of digits compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return na - nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func (rs *results) table(w io.Writer, base string, fams []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "| benchmark | peer | %s/peer, median of rounds | range | %s faster | p (signed-rank) | allocs/op %s | allocs/op peer |\n", base, base, base)
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|\n")
	n := 0
	for _, row := range rs.sortedRows(fams) {
		mine := rs.samples[key{row, base}]
		if mine == nil {
			continue
		}
		for _, peer := range rs.peers(row, base) {
			theirs := rs.samples[key{row, peer}]
			var ratios, ma, pa []float64
			for round, s := range mine {
				if t, ok := theirs[round]; ok && t.ns > 0 {
					ratios = append(ratios, s.ns/t.ns)
					ma = append(ma, s.allocs)
					pa = append(pa, t.allocs)
				}
			}
			if len(ratios) == 0 {
				continue
			}
			faster := 0
			for _, r := range ratios {
				if r < 1 {
					faster++
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %.2fx | %.2f-%.2f | %d of %d | %s | %s | %s |\n",
				row, peer, median(ratios), slices.Min(ratios), slices.Max(ratios), faster, len(ratios),
				formatP(signedRankP(ratios)), formatAllocs(median(ma)), formatAllocs(median(pa)))
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("no benchmark has both impl=%s and another implementation in the same round", base)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func formatP(p float64) string {
	if math.IsNaN(p) {
		return "-"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

func formatAllocs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 10_000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// signedRankP is the two-sided p-value of the Wilcoxon signed-rank test that
// the log ratios are centred on 0 (no difference), exact by enumerating the
// 2^n signs for n <= 20, by the normal approximation beyond. Ratios of
// exactly 1 are left out; ties share their mean rank.
func signedRankP(ratios []float64) float64 {
	var d []float64
	for _, r := range ratios {
		if l := math.Log(r); l != 0 && !math.IsNaN(l) && !math.IsInf(l, 0) {
			d = append(d, l)
		}
	}
	n := len(d)
	if n == 0 {
		return math.NaN()
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		x, y := math.Abs(d[a]), math.Abs(d[b])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	rank := make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && math.Abs(d[idx[j+1]]) == math.Abs(d[idx[i]]) {
			j++
		}
		for k := i; k <= j; k++ {
			rank[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	wPlus, total := 0.0, 0.0
	for i, x := range d {
		total += rank[i]
		if x > 0 {
			wPlus += rank[i]
		}
	}
	mean := total / 2
	dev := math.Abs(wPlus - mean)
	if n <= 20 {
		// Count the sign assignments at least as far from the mean.
		extreme := 0
		for mask := 0; mask < 1<<n; mask++ {
			w := 0.0
			for i := range n {
				if mask&(1<<i) != 0 {
					w += rank[i]
				}
			}
			if math.Abs(w-mean) >= dev-1e-9 {
				extreme++
			}
		}
		return float64(extreme) / float64(int(1)<<n)
	}
	sd := math.Sqrt(float64(n*(n+1)*(2*n+1)) / 24)
	z := (dev - 0.5) / sd
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}
