package leashvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
)

// LV6 reports groups that a path to return leaves unwaited.
var LV6 = &analysis.Analyzer{
	Name: "lv6",
	Doc: `LV6 group never waited: a group given tasks with a path to return that skips Wait

A taskgroup.Group (or errgroup.Group) that has been given tasks must be
waited for on every path out of the function that created it: otherwise its
tasks outlive the function (TG1 no longer holds), their errors are dropped,
and an early return leaves them running against a context nobody cancels.

	g := taskgroup.New(ctx)
	g.Go(fetchA)
	if err := validate(req); err != nil {
		return err            // LV6: g's tasks are still running
	}
	return g.Wait()

Move the early return before the first task, or Stop and Wait on it
(defer g.Wait() covers every path). LV6 offers no fix: where the wait
belongs is the author's decision.

Not reported: a group used as a value (returned, passed, stored: someone else
may wait), a group whose Wait is deferred or called from a function literal,
and paths that end in a panic or another call that does not return.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      safe("LV6", runLV6),
	// Ill-typed packages: report what can be found.
	RunDespiteErrors: true,
}

var startMethods = map[string]bool{"Go": true, "GoNamed": true, "TryGo": true}

func runLV6(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "LV6")
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	for cur := range ins.Root().Preorder((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		var (
			body  *ast.BlockStmt
			graph *cfg.CFG
		)
		switch f := cur.Node().(type) {
		case *ast.FuncDecl:
			body = f.Body
		case *ast.FuncLit:
			body = f.Body
		}
		if body == nil {
			continue
		}
		groups := createdGroups(info, body)
		if len(groups) == 0 {
			continue
		}
		graph = cfg.New(body, func(call *ast.CallExpr) bool { return mayReturn(info, call) })
		// Groups created in this function (not in a nested literal).
		for _, g := range groups {
			if !localGroup(info, body, g.obj) {
				continue
			}
			if ret, ok := unwaitedPath(info, graph, g.obj); ok {
				where := "the end of the function"
				if ret.IsValid() && ret != body.Rbrace {
					where = fmt.Sprintf("the return at line %d", pass.Fset.Position(ret).Line)
				}
				r.reportf(g.pos, "group %s is given tasks, but %s skips %s.Wait(): its tasks outlive the function and their errors are lost", g.obj.Name(), where, g.obj.Name())
			}
		}
	}
	return nil, nil
}

type created struct {
	obj types.Object
	pos token.Pos
}

// createdGroups lists the group variables body defines, outside nested
// function literals.
func createdGroups(info *types.Info, body *ast.BlockStmt) []created {
	var out []created
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE || len(n.Rhs) != 1 {
				return true
			}
			if id, ok := n.Lhs[0].(*ast.Ident); ok && info.Defs[id] != nil && isGroupType(info.TypeOf(id)) {
				out = append(out, created{info.Defs[id], n.Pos()})
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				if info.Defs[id] != nil && isGroupType(info.TypeOf(id)) {
					if _, ptr := types.Unalias(info.TypeOf(id)).(*types.Pointer); ptr && len(n.Values) == 0 {
						continue // a nil pointer, assigned later
					}
					out = append(out, created{info.Defs[id], n.Pos()})
				}
			}
		}
		return true
	})
	return out
}

// localGroup reports whether g is used only through its methods and the
// task functions, and is not waited for from a defer or a function literal.
func localGroup(info *types.Info, body *ast.BlockStmt, g types.Object) bool {
	ok := true
	var stack []ast.Node
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		id, isID := n.(*ast.Ident)
		if !isID || info.Uses[id] != g || !ok {
			return ok
		}
		parent := stack[len(stack)-2]
		if sel, isSel := parent.(*ast.SelectorExpr); isSel && sel.X == id && groupMethods[sel.Sel.Name] {
			if sel.Sel.Name == "Wait" {
				for _, s := range stack {
					switch s.(type) {
					case *ast.DeferStmt, *ast.FuncLit:
						ok = false // waited for by a defer or a closure
					}
				}
			}
			return true
		}
		if call, isCall := parent.(*ast.CallExpr); isCall && len(call.Args) > 0 && call.Args[0] == id {
			if tc, isTask := asTaskCall(info, call); isTask && tc.group == id {
				return true
			}
		}
		ok = false
		return false
	})
	return ok
}

// unwaitedPath finds a path from a node that starts a task on g to a return
// (or the end of the function) without a node that waits for g. It returns
// the return's position (NoPos for the end of the function).
func unwaitedPath(info *types.Info, graph *cfg.CFG, g types.Object) (token.Pos, bool) {
	starts := func(n ast.Node) bool { return nodeCalls(info, n, g, true) }
	waits := func(n ast.Node) bool { return nodeCalls(info, n, g, false) }
	seen := map[*cfg.Block]bool{}
	var walk func(b *cfg.Block, from int) (token.Pos, bool)
	walk = func(b *cfg.Block, from int) (token.Pos, bool) {
		for _, n := range b.Nodes[from:] {
			if waits(n) {
				return token.NoPos, false
			}
		}
		if len(b.Succs) == 0 {
			if !b.Live || b.Kind == cfg.KindSelectAfterCase {
				// Dead code, or the fall-through after a select's last
				// case: a select without a default leaves by a case only.
				return token.NoPos, false
			}
			if len(b.Nodes) > 0 {
				if ret, ok := b.Nodes[len(b.Nodes)-1].(*ast.ReturnStmt); ok {
					return ret.Pos(), true
				}
			}
			// The end of the function, unless a call that does not return
			// (panic, os.Exit, log.Fatal) ends the block.
			return token.NoPos, !endsUnreachable(graph, b)
		}
		for _, s := range b.Succs {
			if seen[s] {
				continue
			}
			seen[s] = true
			if pos, ok := walk(s, 0); ok {
				return pos, true
			}
		}
		return token.NoPos, false
	}
	for _, b := range graph.Blocks {
		for i, n := range b.Nodes {
			if starts(n) {
				if pos, ok := walk(b, i+1); ok {
					return pos, true
				}
			}
		}
	}
	return token.NoPos, false
}

// endsUnreachable reports whether block b ends in a call that does not
// return: the builder then starts an unreachable block for what follows.
func endsUnreachable(graph *cfg.CFG, b *cfg.Block) bool {
	if len(b.Nodes) == 0 {
		return false
	}
	es, ok := b.Nodes[len(b.Nodes)-1].(*ast.ExprStmt)
	if !ok {
		return false
	}
	for _, o := range graph.Blocks {
		if o.Kind == cfg.KindUnreachable && o.Stmt == es {
			return true
		}
	}
	return false
}

// nodeCalls reports whether n (outside nested function literals) starts a
// task on g (start) or waits for g (!start).
func nodeCalls(info *types.Info, n ast.Node, g types.Object, start bool) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
				if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok && info.Uses[id] == g {
					if start && startMethods[sel.Sel.Name] || !start && sel.Sel.Name == "Wait" {
						found = true
					}
				}
			}
			if start {
				if tc, ok := asTaskCall(info, n); ok {
					if id, ok := ast.Unparen(tc.group).(*ast.Ident); ok && tc.group != nil && info.Uses[id] == g {
						found = true
					}
				}
			}
		}
		return true
	})
	return found
}

// mayReturn reports whether a call may return: not panic, os.Exit,
// runtime.Goexit, log.Fatal*, log.Panic* or a testing Fatal/FailNow/Skip.
// (ctrlflow's facts would know more, but do not exist for ill-typed
// packages, where LV6 still runs.)
func mayReturn(info *types.Info, call *ast.CallExpr) bool {
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if b, ok := info.Uses[id].(*types.Builtin); ok && b.Name() == "panic" {
			return false
		}
	}
	switch key := funcKey(info, call); key {
	case "os.Exit", "runtime.Goexit", "log.Fatal", "log.Fatalf", "log.Fatalln", "log.Panic", "log.Panicf", "log.Panicln",
		"log.Logger.Fatal", "log.Logger.Fatalf", "log.Logger.Fatalln", "log.Logger.Panic", "log.Logger.Panicf", "log.Logger.Panicln",
		"testing.common.Fatal", "testing.common.Fatalf", "testing.common.FailNow", "testing.common.Skip", "testing.common.Skipf", "testing.common.SkipNow":
		return false
	}
	return true
}
