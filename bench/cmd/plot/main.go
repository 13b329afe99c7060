// Command plot draws the scaling curve of one benchmark family from raw
// `go test -bench` output: a metric (ns/task by default) against a size key
// (n= by default) on a log axis, one line per implementation (impl=), each
// point the median over every round in the input. It writes the curve as an
// SVG and the same medians as a markdown table, with leash's ratio to each
// other implementation. Standard library only; run.sh calls it:
//
//	go run ./cmd/plot -family FanOut -svg results/scaling.svg -md results/scaling.md raw.txt
package main

import (
	"bufio"
	"encoding/xml"
	"errors"
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
	family := flag.String("family", "FanOut", "benchmark family (the name after Benchmark)")
	key := flag.String("key", "n", "sub-benchmark key of the x axis, plotted on a log scale")
	metric := flag.String("metric", "ns/task", "unit of the y axis")
	svgOut := flag.String("svg", "", "write the SVG to this file")
	mdOut := flag.String("md", "", "write the markdown table to this file")
	note := flag.String("note", "", "a line under the title (say, the commit measured)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: plot [flags] raw-bench-output...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 || (*svgOut == "" && *mdOut == "") {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*family, *key, *metric, *note, *svgOut, *mdOut, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "plot:", err)
		os.Exit(1)
	}
}

func run(family, key, metric, note, svgOut, mdOut string, inputs []string) error {
	d := newData(family, key, metric)
	d.note = note
	for _, name := range inputs {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = d.read(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(d.samples) == 0 {
		return fmt.Errorf("no %s results of Benchmark%s with %s= and impl= in the input", metric, family, key)
	}
	write := func(name string, render func(io.Writer) error) error {
		if name == "" {
			return nil
		}
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		if err := render(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write(svgOut, d.svg); err != nil {
		return err
	}
	return write(mdOut, d.markdown)
}

// point is one implementation's samples at one size.
type point struct {
	x    float64 // the size
	impl string
}

// data holds the samples of one family's metric by size and implementation.
type data struct {
	family, key, metric string
	note                string // a line under the title, if any
	samples             map[point][]float64
}

func newData(family, key, metric string) *data {
	return &data{family: family, key: key, metric: metric, samples: map[point][]float64{}}
}

// read adds the samples of every line of r that is a result of the family
// with the metric: "BenchmarkFamily/.../key=N/.../impl=I-P  iters  v unit  v unit...".
func (d *data) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		parts := strings.Split(name, "/")
		if parts[0] != "Benchmark"+d.family {
			continue
		}
		var x float64
		var impl string
		haveX := false
		for _, p := range parts[1:] {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				continue
			}
			switch k {
			case d.key:
				f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
				if err != nil || f <= 0 {
					return fmt.Errorf("%s: %s=%s is not a positive number", fields[0], k, v)
				}
				x, haveX = f, true
			case "impl":
				impl = v
			}
		}
		if !haveX || impl == "" {
			continue
		}
		for i := 2; i+1 < len(fields); i += 2 {
			if fields[i+1] != d.metric {
				continue
			}
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return fmt.Errorf("%s: bad value %q", fields[0], fields[i])
			}
			pt := point{x, impl}
			d.samples[pt] = append(d.samples[pt], v)
		}
	}
	return sc.Err()
}

// implOrder puts the known implementations first, leash leading, then the
// others alphabetically.
var implOrder = []string{"leash", "errgroup", "conc", "floor"}

func (d *data) impls() []string {
	seen := map[string]bool{}
	for p := range d.samples {
		seen[p.impl] = true
	}
	var out []string
	for _, im := range implOrder {
		if seen[im] {
			out = append(out, im)
			delete(seen, im)
		}
	}
	var rest []string
	for im := range seen {
		rest = append(rest, im)
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func (d *data) xs() []float64 {
	var xs []float64
	for p := range d.samples {
		if !slices.Contains(xs, p.x) {
			xs = append(xs, p.x)
		}
	}
	slices.Sort(xs)
	return xs
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// value is the median at (x, impl), and false when there is no sample.
func (d *data) value(x float64, impl string) (float64, bool) {
	s := d.samples[point{x, impl}]
	if len(s) == 0 {
		return 0, false
	}
	return median(s), true
}

func (d *data) rounds() int {
	n := 0
	for _, s := range d.samples {
		n = max(n, len(s))
	}
	return n
}

func formatX(x float64) string {
	switch {
	case x >= 1e6 && math.Mod(x, 1e6) == 0:
		return strconv.FormatFloat(x/1e6, 'f', -1, 64) + "M"
	case x >= 1e3 && math.Mod(x, 1e3) == 0:
		return strconv.FormatFloat(x/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

func formatV(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// markdown writes the medians, one row per size, one column per
// implementation, then leash's ratio to each other implementation.
func (d *data) markdown(w io.Writer) error {
	impls := d.impls()
	var b strings.Builder
	fmt.Fprintf(&b, "Benchmark%s: %s against %s, median of %d rounds; ratio = leash / peer.\n\n", d.family, d.metric, d.key, d.rounds())
	if d.note != "" {
		b.WriteString(d.note + "\n\n")
	}
	b.WriteString("| " + d.key + " |")
	for _, im := range impls {
		fmt.Fprintf(&b, " %s |", im)
	}
	others := slices.DeleteFunc(slices.Clone(impls), func(s string) bool { return s == "leash" })
	hasLeash := len(others) < len(impls)
	if hasLeash {
		for _, im := range others {
			fmt.Fprintf(&b, " leash/%s |", im)
		}
	}
	b.WriteString("\n|---:|")
	cols := len(impls)
	if hasLeash {
		cols += len(others)
	}
	b.WriteString(strings.Repeat("---:|", cols))
	b.WriteString("\n")
	for _, x := range d.xs() {
		fmt.Fprintf(&b, "| %s |", formatX(x))
		for _, im := range impls {
			if v, ok := d.value(x, im); ok {
				fmt.Fprintf(&b, " %s |", formatV(v))
			} else {
				b.WriteString(" |")
			}
		}
		if hasLeash {
			l, lok := d.value(x, "leash")
			for _, im := range others {
				if v, ok := d.value(x, im); ok && lok && v > 0 {
					fmt.Fprintf(&b, " %.2fx |", l/v)
				} else {
					b.WriteString(" |")
				}
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// The chart's geometry, in SVG user units.
const (
	width, height = 760, 460
	left, right   = 80, 150 // the legend sits in the right margin
	top, bottom   = 56, 60
)

var colours = map[string]string{
	"leash":    "#d62728",
	"errgroup": "#1f77b4",
	"conc":     "#2ca02c",
	"floor":    "#555555",
}

var spare = []string{"#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"}

// niceStep returns a round step (1, 2 or 5 times a power of ten) that cuts
// span into about n intervals.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// svg draws the medians: x on a log scale over whole decades, y linear from
// zero, a line with dots per implementation, axes, ticks, labels and a
// legend.
func (d *data) svg(w io.Writer) error {
	xs := d.xs()
	impls := d.impls()
	if len(xs) == 0 {
		return errors.New("nothing to draw")
	}
	lo := math.Floor(math.Log10(xs[0]))
	hi := math.Ceil(math.Log10(xs[len(xs)-1]))
	if hi == lo {
		hi = lo + 1
	}
	ymax := 0.0
	for _, x := range xs {
		for _, im := range impls {
			if v, ok := d.value(x, im); ok {
				ymax = max(ymax, v)
			}
		}
	}
	if ymax <= 0 {
		ymax = 1
	}
	step := niceStep(ymax, 6)
	ytop := math.Ceil(ymax*1.05/step) * step
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	px := func(x float64) float64 { return left + (math.Log10(x)-lo)/(hi-lo)*pw }
	py := func(v float64) float64 { return top + ph - v/ytop*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left,
		esc(fmt.Sprintf("Benchmark%s: %s against %s (median of %d rounds)", d.family, d.metric, d.key, d.rounds())))
	if d.note != "" {
		fmt.Fprintf(&b, `<text x="%d" y="40" fill="#555">%s</text>`+"\n", left, esc(d.note))
	}
	// Grid and ticks: y.
	for v := 0.0; v <= ytop+step/2; v += step {
		y := py(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>`+"\n", left, y, width-right, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y, formatV(v))
	}
	// Grid and ticks: x, every decade, with minor ticks at 2..9.
	for e := lo; e <= hi; e++ {
		x := px(math.Pow(10, e))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e5e5"/>`+"\n", x, top, x, height-bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, height-bottom+18, formatX(math.Pow(10, e)))
		if e < hi {
			for m := 2.0; m < 10; m++ {
				mx := px(m * math.Pow(10, e))
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888"/>`+"\n", mx, height-bottom, mx, height-bottom+3)
			}
		}
	}
	// Axes and their labels.
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, height-bottom, width-right, height-bottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, height-bottom)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", left+pw/2, height-16, esc(d.key+" (log scale)"))
	fmt.Fprintf(&b, `<text x="18" y="%.1f" text-anchor="middle" transform="rotate(-90 18 %.1f)">%s</text>`+"\n", top+ph/2, top+ph/2, esc(d.metric))
	// One line per implementation, and the legend.
	for i, im := range impls {
		c, ok := colours[im]
		if !ok {
			c = spare[i%len(spare)]
		}
		dash := ""
		if im == "floor" {
			dash = ` stroke-dasharray="6 4"`
		}
		sw := 2
		if im == "leash" {
			sw = 3
		}
		var pts []string
		var dots strings.Builder
		for _, x := range xs {
			if v, ok := d.value(x, im); ok {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(x), py(v)))
				fmt.Fprintf(&dots, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s</title></circle>`+"\n",
					px(x), py(v), c, esc(fmt.Sprintf("%s, %s=%s: %s %s", im, d.key, formatX(x), formatV(v), d.metric)))
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%d"%s points="%s"/>`+"\n", c, sw, dash, strings.Join(pts, " "))
		b.WriteString(dots.String())
		ly := top + 10 + 22*i
		lx := width - right + 16
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="%d"%s/>`+"\n", lx, ly, lx+28, ly, c, sw, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", lx+36, ly, esc(im))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
