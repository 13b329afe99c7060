package leashvet

import (
	"go/ast"
	"go/types"
	"regexp"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// LV1 reports ad-hoc goroutines.
var LV1 = &analysis.Analyzer{
	Name: "lv1",
	Doc: `LV1 ad-hoc go: a bare go statement or a sync.WaitGroup fan-out outside leash

A goroutine started with a bare go statement has no owner: nothing waits for
it, its error has no way home, its panic ends the process, and nothing cancels
it. LV1 says which leash form owns it:

	wg.Add(1); go func() { defer wg.Done(); ... }()  -> taskgroup.New(ctx) and g.Go, or taskgroup.Map
	go inside a loop                                 -> taskgroup.New(ctx) and g.Go per item, or taskgroup.Map
	go func() { for { select { ... } } }()           -> a named task of the program's group (service.Run, g.GoNamed)
	go func() { ch <- compute() }()                  -> taskgroup.Spawn (a typed result with its error)
	any other go statement                           -> a taskgroup.Group whose Wait someone calls; timeout.Call for a blocking call without a context

LV1 is advice and offers no fix: moving a goroutine under a group changes
where its error and its cancellation go, which only the author can decide.

Not reported: a go statement directly in func main or init of package main
(outside a loop), which starts the program's own runner and lives as long as
the process; _test.go files (tests start goroutines on purpose; goleak checks
them); generated files; leash's own library packages, which implement the
groups LV1 points to.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      safe("LV1", runLV1),
	// Ill-typed packages: report what can be found.
	RunDespiteErrors: true,
}

var serviceName = regexp.MustCompile(`(?i)^(serve|listenandserve.*|run|loop|.*loop|watch.*|consume.*|poll.*|listen.*)$`)

const (
	adviceWaitGroup = "sync.WaitGroup fan-out: a taskgroup.Group owns these goroutines (g := taskgroup.New(ctx); g.Go per item; return g.Wait()), or taskgroup.Map over a slice: errors and panics come home and a failure cancels the siblings"
	adviceLoop      = "go statement in a loop: a fan-out that a taskgroup.Group owns (g := taskgroup.New(ctx); g.Go per item; return g.Wait()), or taskgroup.Map"
	adviceService   = "long-lived goroutine with no owner: run it as a named task of the program's group (service.Run, g.GoNamed) so that shutdown cancels it and waits for it"
	adviceResult    = "goroutine that hands a result back on a channel: taskgroup.Spawn returns it typed, with its error and its panic"
	adviceOther     = "fire-and-forget goroutine with no owner: give it one (a taskgroup.Group whose Wait someone calls; timeout.Call for a blocking call without a context)"
)

func runLV1(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "LV1")
	if leashLibrary(pass) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	filter := []ast.Node{(*ast.GoStmt)(nil), (*ast.CallExpr)(nil)}
	ins.WithStack(filter, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push || r.inTest(n.Pos()) {
			return true
		}
		switch n := n.(type) {
		case *ast.CallExpr:
			if funcKey(pass.TypesInfo, n) == "sync.WaitGroup.Go" {
				r.reportf(n.Pos(), "%s", adviceWaitGroup)
			}
		case *ast.GoStmt:
			if inMainRunner(pass, stack) {
				return true
			}
			r.reportf(n.Pos(), "%s", classifyGo(pass.TypesInfo, n, stack))
		}
		return true
	})
	return nil, nil
}

// inMainRunner reports whether the go statement on top of stack sits directly
// in func main or func init of package main, outside any loop.
func inMainRunner(pass *analysis.Pass, stack []ast.Node) bool {
	if pass.Pkg.Name() != "main" {
		return false
	}
	for i := len(stack) - 2; i >= 0; i-- {
		switch n := stack[i].(type) {
		case *ast.ForStmt, *ast.RangeStmt, *ast.FuncLit:
			return false
		case *ast.FuncDecl:
			return n.Recv == nil && (n.Name.Name == "main" || n.Name.Name == "init")
		}
	}
	return false
}

// classifyGo says which leash form owns the goroutine g starts.
func classifyGo(info *types.Info, g *ast.GoStmt, stack []ast.Node) string {
	lit, _ := ast.Unparen(g.Call.Fun).(*ast.FuncLit)
	// A *sync.WaitGroup handed to the goroutine, or Done called in it.
	for _, a := range g.Call.Args {
		if isNamed(info.TypeOf(a), "sync", "WaitGroup") {
			return adviceWaitGroup
		}
	}
	if lit != nil {
		wg := false
		ast.Inspect(lit.Body, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && funcKey(info, c) == "sync.WaitGroup.Done" {
				wg = true
			}
			return !wg
		})
		if wg {
			return adviceWaitGroup
		}
	}
	for i := len(stack) - 2; i >= 0; i-- {
		if _, ok := stack[i].(*ast.FuncDecl); ok {
			break
		}
		if _, ok := stack[i].(*ast.FuncLit); ok {
			break
		}
		switch stack[i].(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			return adviceLoop
		}
	}
	if lit == nil {
		if name := calleeName(g.Call.Fun); serviceName.MatchString(name) {
			return adviceService
		}
		return adviceOther
	}
	for _, s := range lit.Body.List {
		switch s := s.(type) {
		case *ast.ForStmt:
			if s.Cond == nil {
				return adviceService
			}
		case *ast.RangeStmt:
			if _, ok := types.Unalias(info.TypeOf(s.X)).Underlying().(*types.Chan); ok {
				return adviceService
			}
		}
	}
	if len(lit.Body.List) == 1 {
		if es, ok := lit.Body.List[0].(*ast.ExprStmt); ok {
			if c, ok := ast.Unparen(es.X).(*ast.CallExpr); ok && serviceName.MatchString(calleeName(c.Fun)) {
				return adviceService
			}
		}
	}
	sends := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.SendStmt:
			sends = true
		}
		return !sends
	})
	if sends {
		return adviceResult
	}
	return adviceOther
}

// calleeName is the name a call's function expression ends in.
func calleeName(fun ast.Expr) string {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	case *ast.IndexExpr:
		return calleeName(f.X)
	case *ast.IndexListExpr:
		return calleeName(f.X)
	}
	return ""
}
