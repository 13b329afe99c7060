package main

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is raw output of two rounds, with lines the plot must skip: another
// family, a result without the metric, headers.
const sample = `goos: linux
goarch: amd64
pkg: github.com/leash-go/leash/bench
BenchmarkFanOut/n=1/impl=leash-2     	  100	 1200 ns/op	 1200 ns/task	 416 B/op	 6 allocs/op
BenchmarkFanOut/n=1/impl=errgroup-2  	  100	 1000 ns/op	 1000 ns/task	 232 B/op	 6 allocs/op
BenchmarkFanOut/n=100/impl=leash-2   	  100	 40000 ns/op	 400 ns/task
BenchmarkFanOut/n=100/impl=errgroup-2	  100	 50000 ns/op	 500 ns/task
BenchmarkFanOut/n=100/impl=floor-2   	  100	 30000 ns/op	 300 ns/task
BenchmarkOneTask/impl=leash-2        	  100	 9999 ns/op
-test.shuffle 1
BenchmarkFanOut/n=1/impl=leash-2     	  100	 1400 ns/op	 1400 ns/task
BenchmarkFanOut/n=1/impl=errgroup-2  	  100	 1000 ns/op	 1000 ns/task
BenchmarkFanOut/n=100/impl=leash-2   	  100	 40000 ns/op	 400 ns/task
BenchmarkFanOut/n=100/impl=errgroup-2	  100	 50000 ns/op	 500 ns/task
BenchmarkFanOut/n=100/impl=floor-2   	  100	 30000 ns/op	 300 ns/task
BenchmarkLimit/limit=8/n=100/impl=leash-2	  100	 1 ns/op	 77 ns/task
PASS
`

func TestRender(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw.txt")
	if err := os.WriteFile(raw, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	svgPath, mdPath := filepath.Join(dir, "out.svg"), filepath.Join(dir, "out.md")
	if err := run("FanOut", "n", "ns/task", "commit abc", svgPath, mdPath, []string{raw}); err != nil {
		t.Fatal(err)
	}

	md, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	wantMD := "BenchmarkFanOut: ns/task against n, median of 2 rounds; ratio = leash / peer.\n\n" +
		"commit abc\n\n" +
		"| n | leash | errgroup | floor | leash/errgroup | leash/floor |\n" +
		"|---:|---:|---:|---:|---:|---:|\n" +
		"| 1 | 1300 | 1000 | | 1.30x | |\n" +
		"| 100 | 400 | 500 | 300 | 0.80x | 1.33x |\n"
	if string(md) != wantMD {
		t.Errorf("markdown:\n%s\nwant:\n%s", md, wantMD)
	}

	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, one polyline per implementation, with as many points
	// as it has sizes, and a legend entry for each.
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	points := map[string]int{}
	texts := map[string]bool{}
	var inText bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
			if tok.Name.Local == "polyline" {
				var stroke, pts string
				for _, a := range tok.Attr {
					switch a.Name.Local {
					case "stroke":
						stroke = a.Value
					case "points":
						pts = a.Value
					}
				}
				points[stroke] = len(strings.Fields(pts))
			}
		case xml.CharData:
			if inText {
				texts[strings.TrimSpace(string(tok))] = true
			}
		case xml.EndElement:
			inText = false
		}
	}
	want := map[string]int{colours["leash"]: 2, colours["errgroup"]: 2, colours["floor"]: 1}
	if len(points) != len(want) {
		t.Errorf("polylines %v, want %v", points, want)
	}
	for c, n := range want {
		if points[c] != n {
			t.Errorf("polyline %s has %d points, want %d", c, points[c], n)
		}
	}
	for _, s := range []string{"leash", "errgroup", "floor", "1", "100", "n (log scale)", "ns/task", "0", "commit abc"} {
		if !texts[s] {
			t.Errorf("no text %q in the SVG", s)
		}
	}
}

func TestNoData(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw.txt")
	if err := os.WriteFile(raw, []byte("PASS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run("FanOut", "n", "ns/task", "", "", filepath.Join(dir, "out.md"), []string{raw}); err == nil {
		t.Error("no error for an input without results")
	}
}
