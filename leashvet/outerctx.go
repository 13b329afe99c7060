package leashvet

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// LV3 reports task functions that ignore their own context.
var LV3 = &analysis.Analyzer{
	Name: "lv3",
	Doc: `LV3 outer context: a task function that ignores its own ctx

A task function (taskgroup's Go, GoNamed, TryGo, Spawn, SpawnNamed, Start,
Map and First; timeout.WaitFor and WaitForValue; errgroup's Go and TryGo)
is handed the context of its scope. A task that calls with a context it
captured from outside, or with context.Background() or context.TODO(), is not
cancelled when a sibling fails, the group stops or its timeout fires: it
becomes a straggler that Wait waits for.

	g := taskgroup.New(ctx)                 g := taskgroup.New(ctx)
	g.Go(func(gctx context.Context) error { g.Go(func(gctx context.Context) error {
		return fetch(ctx, u)             ->     return fetch(gctx, u)
	})                                      })

For errgroup, a task's own context is the one errgroup.WithContext returned
(g, gctx := errgroup.WithContext(ctx)): a task that uses ctx is reported.

The fix replaces the outer context (and Background/TODO calls) with the
task's parameter, naming the parameter when it is "_" or unnamed. It
preserves every value the task read from the outer context (the task's
context is derived from it) and adds only the cancellation of the scope. It
declines when the outer context is not the one the scope was created from
(the parameter would not carry its values or deadline), when the parameter's
name means something else where the fix writes it, or when the task's
parameters are unnamed and more than one.

Not reported: a context passed to context.WithoutCancel (deliberately
detached); the group's own context (g.Context(), or WithContext's); tasks of a
group created from context.Background() or TODO(), whose parameter carries no
cancellation from the caller (the group's creation is the thing to fix); a
group created with a zero errgroup.Group, whose tasks have no context.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      safe("LV3", runLV3),
	// Ill-typed packages: report what can be found.
	RunDespiteErrors: true,
}

func runLV3(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "LV3")
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo

	// Every task literal, so that a nested task is checked on its own.
	type task struct {
		cur  inspector.Cursor
		call *ast.CallExpr
		tc   taskCall
		lit  *ast.FuncLit
	}
	var tasks []task
	isTask := map[*ast.FuncLit]bool{}
	for cur := range ins.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		tc, ok := asTaskCall(info, call)
		if !ok {
			continue
		}
		for _, lit := range tc.fns {
			tasks = append(tasks, task{cur, call, tc, lit})
			isTask[lit] = true
		}
	}

	for _, t := range tasks {
		fnBody := enclosingBody(t.cur)
		own := ownContext(pass, t.tc, t.call, t.lit, fnBody)
		if own.skip {
			continue
		}
		// Outer contexts and Background/TODO calls the task uses.
		var uses []ast.Expr
		// Only what the task calls with counts: a call's arguments, and
		// outer.Done(). Storing the outer context somewhere is not a call.
		var args []ast.Node
		ast.Inspect(t.lit.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				return !isTask[n]
			case *ast.CallExpr:
				if isFunc(info, n, "context", "WithoutCancel") {
					return false
				}
				if isBackground(info, n) {
					uses = append(uses, n)
					return false
				}
				for _, a := range n.Args {
					args = append(args, a)
				}
				if isContextDone(info, n) {
					args = append(args, n.Fun.(*ast.SelectorExpr).X)
				}
			}
			return true
		})
		for _, a := range args {
			ast.Inspect(a, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncLit:
					return false
				case *ast.CallExpr:
					if isFunc(info, n, "context", "WithoutCancel") {
						return false
					}
				case *ast.Ident:
					v, ok := info.Uses[n].(*types.Var)
					if !ok || !isContext(v.Type()) || v.IsField() {
						return true
					}
					if v.Pos() >= t.lit.Pos() && v.Pos() < t.lit.End() {
						return true // declared in the task
					}
					if v == own.obj || own.groupCtx[v] {
						return true
					}
					uses = append(uses, n)
				}
				return true
			})
		}
		slices.SortFunc(uses, func(a, b ast.Expr) int { return cmp.Compare(a.Pos(), b.Pos()) })
		uses = slices.CompactFunc(uses, func(a, b ast.Expr) bool { return a == b })
		if len(uses) == 0 {
			continue
		}
		first := uses[0]
		what := "context.Background()"
		if id, ok := first.(*ast.Ident); ok {
			what = id.Name + ", captured from outside,"
		} else if isFunc(info, first.(*ast.CallExpr), "context", "TODO") {
			what = "context.TODO()"
		}
		d := analysis.Diagnostic{
			Pos:     first.Pos(),
			End:     first.End(),
			Message: fmt.Sprintf("task function calls with %s instead of its own context: it will not be cancelled when a sibling fails or its scope ends", what),
		}
		if fix, why := lv3Fix(pass, t.lit, own, uses); fix != nil {
			d.SuggestedFixes = []analysis.SuggestedFix{*fix}
		} else {
			d.Message += " (no automatic fix: " + why + ")"
		}
		r.report(d)
	}
	return nil, nil
}

// ownCtx is what a task function's own context is.
type ownCtx struct {
	skip     bool
	obj      types.Object          // the parameter, or errgroup's derived context
	param    *ast.Field            // the parameter's field, for a leash task
	nparams  int                   // how many parameters the task has
	parent   types.Object          // the context the scope was created from, when it is a variable
	groupCtx map[types.Object]bool // variables holding the group's own context
}

// ownContext finds a task's own context.
func ownContext(pass *analysis.Pass, tc taskCall, call *ast.CallExpr, lit *ast.FuncLit, fnBody *ast.BlockStmt) ownCtx {
	info := pass.TypesInfo
	own := ownCtx{groupCtx: map[types.Object]bool{}}
	params := lit.Type.Params.List
	errgroupTask := len(tc.key) > len(errgroupPkg) && tc.key[:len(errgroupPkg)] == errgroupPkg
	if !errgroupTask {
		if len(params) == 0 {
			own.skip = true
			return own
		}
		own.param = params[0]
		for _, f := range params {
			own.nparams += max(1, len(f.Names))
		}
		if len(params[0].Names) > 0 && params[0].Names[0].Name != "_" {
			own.obj = info.Defs[params[0].Names[0]]
		}
	}
	// The scope's parent: the call's first argument, or the group's creation.
	var parent ast.Expr
	if tc.group == nil {
		parent = call.Args[0]
	} else if gid, ok := ast.Unparen(tc.group).(*ast.Ident); ok && fnBody != nil {
		gObj := info.Uses[gid]
		ast.Inspect(fnBody, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Rhs) != 1 {
				return true
			}
			c, ok := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
			if !ok {
				return true
			}
			// x := g.Context(): the group's own context.
			if sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" && len(as.Lhs) == 1 {
				if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok && info.Uses[id] == gObj {
					own.groupCtx[info.ObjectOf(as.Lhs[0].(*ast.Ident))] = true
				}
			}
			if id, ok := as.Lhs[0].(*ast.Ident); !ok || info.ObjectOf(id) != gObj {
				return true
			}
			switch {
			case isFunc(info, c, taskgroupPkg, "New") && len(c.Args) > 0:
				parent = c.Args[0]
			case isFunc(info, c, errgroupPkg, "WithContext") && len(as.Lhs) == 2:
				parent = c.Args[0]
				if id, ok := as.Lhs[1].(*ast.Ident); ok && id.Name != "_" {
					own.obj = info.ObjectOf(id)
				}
			}
			return true
		})
		if errgroupTask && parent == nil {
			own.skip = true // a zero Group: its tasks have no context
			return own
		}
	} else if errgroupTask {
		own.skip = true
		return own
	}
	if parent != nil {
		if isBackground(info, parent) {
			own.skip = true
			return own
		}
		if id, ok := ast.Unparen(parent).(*ast.Ident); ok {
			own.parent = info.Uses[id]
		}
	}
	return own
}

// enclosingBody is the body of the function declaration that holds cur.
func enclosingBody(cur inspector.Cursor) *ast.BlockStmt {
	for c := range cur.Enclosing((*ast.FuncDecl)(nil)) {
		return c.Node().(*ast.FuncDecl).Body
	}
	for c := range cur.Enclosing((*ast.FuncLit)(nil)) {
		return c.Node().(*ast.FuncLit).Body
	}
	return nil
}

// lv3Fix replaces every outer context the task uses with its own.
func lv3Fix(pass *analysis.Pass, lit *ast.FuncLit, own ownCtx, uses []ast.Expr) (*analysis.SuggestedFix, string) {
	info := pass.TypesInfo
	var edits []analysis.TextEdit
	name := ""
	if own.obj != nil && own.obj.Name() != "_" {
		name = own.obj.Name()
	} else {
		if own.param == nil {
			return nil, "the group's context is discarded (_)"
		}
		if own.nparams > 1 && len(own.param.Names) == 0 {
			return nil, "the task's parameters are unnamed"
		}
		// Name the parameter after the outer context it replaces.
		for _, u := range uses {
			if id, ok := u.(*ast.Ident); ok {
				name = id.Name
				break
			}
		}
		if name == "" {
			name = "ctx"
		}
		if s := info.Scopes[lit.Type]; s != nil && s.Lookup(name) != nil {
			return nil, "the parameter's name is taken in the task"
		}
		if len(own.param.Names) == 0 {
			edits = append(edits, analysis.TextEdit{Pos: own.param.Type.Pos(), End: own.param.Type.Pos(), NewText: []byte(name + " ")})
		} else {
			id := own.param.Names[0]
			edits = append(edits, analysis.TextEdit{Pos: id.Pos(), End: id.End(), NewText: []byte(name)})
		}
	}
	for _, u := range uses {
		if id, ok := u.(*ast.Ident); ok {
			if info.Uses[id] != own.parent {
				return nil, fmt.Sprintf("%s is not the context the scope was created from", id.Name)
			}
			if id.Name == name && own.obj == nil {
				if !nameFree(pass, lit, name, u.Pos()) {
					return nil, fmt.Sprintf("%s means something else here", name)
				}
				continue // the renamed parameter now means it
			}
		}
		if own.obj != nil && !resolves(pass, name, u.Pos(), own.obj) {
			return nil, fmt.Sprintf("%s means something else here", name)
		}
		if own.obj == nil && !nameFree(pass, lit, name, u.Pos()) {
			return nil, fmt.Sprintf("%s means something else here", name)
		}
		edits = append(edits, analysis.TextEdit{Pos: u.Pos(), End: u.End(), NewText: []byte(name)})
	}
	return &analysis.SuggestedFix{
		Message:   fmt.Sprintf("Use the task's own context %s", name),
		TextEdits: edits,
	}, ""
}

// nameFree reports whether name, written at pos inside lit, would resolve to
// lit's own parameter once the parameter is so named: nothing declared
// between the parameter's scope and pos takes the name.
func nameFree(pass *analysis.Pass, lit *ast.FuncLit, name string, pos token.Pos) bool {
	fs := pass.TypesInfo.Scopes[lit.Type]
	for s := scopeAt(pass, pos); s != nil && s != fs; s = s.Parent() {
		if s.Lookup(name) != nil {
			return false
		}
	}
	return fs != nil
}
