package leashvet

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// ignorePrefix starts a suppression comment:
//
//	//leash:ignore LV1,LV4 the reason, in words
const ignorePrefix = "//leash:ignore"

var ruleList = regexp.MustCompile(`^LV[1-6](,LV[1-6])*$`)

type lineKey struct {
	file string
	line int
}

// ignore is one suppression comment.
type ignore struct {
	pos    token.Pos
	rules  map[string]bool
	reason string
}

// reporter reports one analyzer's findings: it drops those in generated
// files and those a suppression comment with a reason covers, and reports a
// suppression without a reason.
type reporter struct {
	pass      *analysis.Pass
	rule      string
	ignores   map[lineKey]*ignore
	generated map[string]bool
	tests     map[string]bool
}

func newReporter(pass *analysis.Pass, rule string) *reporter {
	r := &reporter{
		pass:      pass,
		rule:      rule,
		ignores:   map[lineKey]*ignore{},
		generated: map[string]bool{},
		tests:     map[string]bool{},
	}
	for _, f := range pass.Files {
		name := pass.Fset.File(f.FileStart).Name()
		// A file cgo translated is the user's code under cgo's "Code
		// generated" header: its positions map back to the original.
		cgo := pass.Fset.Position(f.Package).Filename != name
		r.generated[name] = ast.IsGenerated(f) && !cgo
		r.tests[name] = strings.HasSuffix(name, "_test.go")
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				r.directive(name, c)
			}
		}
	}
	return r
}

// directive records a suppression comment, and reports one that names this
// rule but gives no reason (LV1 also reports those that name no rule).
func (r *reporter) directive(file string, c *ast.Comment) {
	text, ok := strings.CutPrefix(c.Text, ignorePrefix)
	if !ok || (text != "" && text[0] != ' ' && text[0] != '\t') {
		return
	}
	// A further "//" ends the reason: what follows is another comment.
	text, _, _ = strings.Cut(text, "//")
	fields := strings.Fields(text)
	if len(fields) == 0 || !ruleList.MatchString(fields[0]) {
		if r.rule == "LV1" && !r.generated[file] {
			r.pass.Reportf(c.Pos(), "leash:ignore must name the rules it suppresses (LV1..LV6, comma-separated) and then give a reason")
		}
		return
	}
	ig := &ignore{pos: c.Pos(), rules: map[string]bool{}, reason: strings.Join(fields[1:], " ")}
	for _, rule := range strings.Split(fields[0], ",") {
		ig.rules[rule] = true
	}
	if !ig.rules[r.rule] {
		return
	}
	if ig.reason == "" {
		if !r.generated[file] {
			r.pass.Reportf(c.Pos(), "%s: leash:ignore without a reason suppresses nothing: say why this finding is wrong or accepted", r.rule)
		}
		return
	}
	line := r.pass.Fset.PositionFor(c.Pos(), false).Line
	r.ignores[lineKey{file, line}] = ig
	// A comment alone on its line covers the next line too.
	r.ignores[lineKey{file, line + 1}] = ig
}

// skip reports whether nothing at pos is reported: a generated file.
func (r *reporter) skip(pos token.Pos) bool {
	return r.generated[r.pass.Fset.File(pos).Name()]
}

// inTest reports whether pos is in a _test.go file.
func (r *reporter) inTest(pos token.Pos) bool {
	return r.tests[r.pass.Fset.File(pos).Name()]
}

// suppressed reports whether a suppression with a reason covers pos.
func (r *reporter) suppressed(pos token.Pos) bool {
	p := r.pass.Fset.PositionFor(pos, false)
	_, ok := r.ignores[lineKey{p.Filename, p.Line}]
	return ok
}

// report reports d, with the rule in front of its message, unless it is in a
// generated file or suppressed.
func (r *reporter) report(d analysis.Diagnostic) {
	if r.skip(d.Pos) || r.suppressed(d.Pos) {
		return
	}
	for _, fix := range d.SuggestedFixes {
		if !validEdits(fix.TextEdits) {
			// A bug in leashvet: keep the finding, never crash the driver.
			d.SuggestedFixes = nil
			d.Message += " (no automatic fix: leashvet planned overlapping edits; please report this)"
			break
		}
	}
	d.Category = r.rule
	d.Message = r.rule + ": " + d.Message
	r.pass.Report(d)
}

func (r *reporter) reportf(pos token.Pos, format string, args ...any) {
	r.report(analysis.Diagnostic{Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// validEdits reports whether no two edits overlap (the drivers panic on that).
func validEdits(edits []analysis.TextEdit) bool {
	sorted := slices.Clone(edits)
	slices.SortFunc(sorted, func(a, b analysis.TextEdit) int { return cmp.Compare(a.Pos, b.Pos) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Pos < sorted[i-1].End {
			return false
		}
	}
	for _, e := range edits {
		if e.End < e.Pos {
			return false
		}
	}
	return true
}

// safe runs an analyzer's run function and turns a panic (a bug in
// leashvet, or input it did not foresee) into an error for that package:
// leashvet never crashes the driver that runs it.
func safe(rule string, run func(*analysis.Pass) (any, error)) func(*analysis.Pass) (any, error) {
	return func(pass *analysis.Pass) (res any, err error) {
		defer func() {
			if v := recover(); v != nil {
				res, err = nil, fmt.Errorf("leashvet %s: internal error on package %s (please report): %v", rule, pass.Pkg.Path(), v)
			}
		}()
		return run(pass)
	}
}
