package leashvet_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leash-go/leash/leashvet"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"
)

// analyzeAll runs every analyzer over the testdata package pkg, in GOPATH
// mode as analysistest does, and returns the findings' messages by rule.
func analyzeAll(t *testing.T, pkg string, env ...string) map[string][]string {
	t.Helper()
	dir := analysistest.TestData()
	cfg := &packages.Config{
		Mode: packages.LoadAllSyntax,
		Dir:  dir,
		Env:  append(append(os.Environ(), "GOPATH="+dir, "GO111MODULE=off", "GOWORK=off", "GOFLAGS="), env...),
	}
	pkgs, err := packages.Load(cfg, pkg)
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	graph, err := checker.Analyze(leashvet.Analyzers, pkgs, nil)
	require.NoError(t, err)
	got := map[string][]string{}
	for act := range graph.All() {
		if !act.IsRoot {
			continue
		}
		require.NoError(t, act.Err, "%s must not fail", act.Analyzer.Name)
		for _, d := range act.Diagnostics {
			got[d.Category] = append(got[d.Category], d.Message)
		}
	}
	return got
}

func requireFinding(t *testing.T, got map[string][]string, rule, part string) {
	t.Helper()
	for _, m := range got[rule] {
		if strings.Contains(m, part) {
			return
		}
	}
	require.Failf(t, "finding missing", "no %s finding containing %q in %v", rule, part, got)
}

func TestLV1_LV6_IllTypedPackageReportsWhatItCan(t *testing.T) {
	got := analyzeAll(t, "illtyped")
	requireFinding(t, got, "LV1", "fire-and-forget")
	requireFinding(t, got, "LV4", "time.Sleep ignores")
}

func TestLV1_LV6_Generics(t *testing.T) {
	got := analyzeAll(t, "generics")
	requireFinding(t, got, "LV3", "task function calls with ctx")
	requireFinding(t, got, "LV4", "time.Sleep")
	requireFinding(t, got, "LV4", "receive from p.ch")
	requireFinding(t, got, "LV6", "group g is given tasks")
}

func TestLV1_LV6_Cgo(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no C compiler: cgo cannot be loaded")
	}
	got := analyzeAll(t, "cgo", "CGO_ENABLED=1")
	requireFinding(t, got, "LV1", "fire-and-forget")
	requireFinding(t, got, "LV4", "time.Sleep")
}

// Every fix's result compiles: the golden files, put in place of their
// sources, build against the stubs.
func TestLV2_LV5_FixedCodeCompiles(t *testing.T) {
	src := filepath.Join(analysistest.TestData(), "src")
	root := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(root, "src"), os.DirFS(src)))
	var pkgs []string
	goldens, err := filepath.Glob(filepath.Join(root, "src", "lv*", "*.go.golden"))
	require.NoError(t, err)
	require.NotEmpty(t, goldens)
	seen := map[string]bool{}
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(strings.TrimSuffix(g, ".golden"), b, 0o644))
		p := filepath.Base(filepath.Dir(g))
		if !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	cmd := exec.Command("go", append([]string{"vet"}, pkgs...)...)
	cmd.Dir = filepath.Join(root, "src")
	cmd.Env = append(os.Environ(), "GOPATH="+root, "GO111MODULE=off", "GOWORK=off", "GOFLAGS=", "GOCACHE="+goCache(t))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "fixed code does not build:\n%s", out)
}

func goCache(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}
