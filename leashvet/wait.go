package leashvet

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// LV4 reports waits that ignore the context of the function they are in.
var LV4 = &analysis.Analyzer{
	Name: "lv4",
	Doc: `LV4 uncancellable wait: a wait that ignores the function's context

Inside a function that has a context (a named context.Context parameter, its
own or that of a function it is nested in), time.Sleep and a bare
<-time.After keep waiting after the context is cancelled. Inside a task
function (a literal given to taskgroup, timeout or errgroup), so do a
channel receive outside a select and a select with neither a default, a
ctx.Done() case nor a stop channel. The function becomes a straggler its
group waits for.

Receives and selects are checked only in task functions: in other
functions, most bare receives in the corpus were hand-offs that another
goroutine completes (11 of 23 findings were false before this was narrowed).

	time.Sleep(backoff)             select {
	                            ->  case <-time.After(backoff):
	                                case <-ctx.Done():
	                                	return ctx.Err()
	                                }

The fix turns a statement that only waits (time.Sleep(d), <-time.After(d),
<-ch) into a select on the same wait and ctx.Done(). It preserves the wait
while the context is live (the same duration, the same receive) and returns
on cancellation: ctx.Err() for a function whose results are exactly one
error, a bare return for one with no results, and "err = ctx.Err(); return"
for one whose named results end in an error. It declines when the wait's
value is used (v := <-ch), for any other result list, and when the context's
name means something else at the wait.

Not reported: a receive from ctx.Done() itself; a receive from a channel
that a goroutine of the same function closes or sends to (a join with a
goroutine that has its own cancellation); a select with a default case, a
Done() case, a timer case or a case on a channel named like a stop signal
(done, stop, quit, closing, shutdown, exit, cancel); range over a channel
(the sender's close ends it); _test.go files; leash's own library packages.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      safe("LV4", runLV4),
	// Ill-typed packages: report what can be found.
	RunDespiteErrors: true,
}

var stopName = regexp.MustCompile(`(?i)(done|stop|quit|clos|shutdown|exit|cancel|term|kill|die|finish|return)`)

func runLV4(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "LV4")
	if leashLibrary(pass) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	src := newSource(pass)
	filter := []ast.Node{(*ast.CallExpr)(nil), (*ast.UnaryExpr)(nil), (*ast.SelectStmt)(nil)}
	for cur := range ins.Root().Preorder(filter...) {
		n := cur.Node()
		if r.inTest(n.Pos()) || r.skip(n.Pos()) {
			continue
		}
		var (
			msg  string
			stmt ast.Stmt // a statement that only waits: the fix replaces it
			wait string   // the select case that keeps the wait
		)
		switch n := n.(type) {
		case *ast.CallExpr:
			if !isFunc(info, n, "time", "Sleep") || len(n.Args) != 1 {
				continue
			}
			msg = "time.Sleep ignores the cancellation of %s: wait in a select with %s.Done()"
			sel, isSel := ast.Unparen(n.Fun).(*ast.SelectorExpr)
			if es, ok := cur.Parent().Node().(*ast.ExprStmt); ok && isSel {
				stmt, wait = es, "<-"+src.node(sel.X)+".After("+src.node(n.Args[0])+")"
			}
		case *ast.UnaryExpr:
			if n.Op != token.ARROW || inSelectCase(cur) {
				continue
			}
			x := ast.Unparen(n.X)
			if c, ok := x.(*ast.CallExpr); ok {
				if isContextDone(info, c) {
					continue
				}
				if isFunc(info, c, "time", "After") {
					msg = "a bare <-time.After ignores the cancellation of %s: wait in a select with %s.Done()"
				}
			}
			if msg == "" {
				if !inTask(info, cur) || joinsGoroutine(info, cur, x) || releases(info, src, cur, x) || doneChannel(info, cur, x) || drainsStoppedTimer(info, cur, x) {
					continue
				}
				msg = fmt.Sprintf("receive from %s", src.node(x)) + " blocks without watching %s: add a case <-%s.Done() in a select"
			}
			if es, ok := cur.Parent().Node().(*ast.ExprStmt); ok {
				stmt, wait = es, src.node(n)
			}
		case *ast.SelectStmt:
			if !inTask(info, cur) || selectWatches(info, n) {
				continue
			}
			msg = "select without a case for the cancellation of %s: add a case <-%s.Done()"
		}
		ctxObj := contextInScope(pass, cur)
		if ctxObj == nil {
			continue
		}
		d := analysis.Diagnostic{Pos: n.Pos(), End: n.End(), Message: fmt.Sprintf(msg, ctxObj.Name(), ctxObj.Name())}
		if stmt == nil && msg != "" && !strings.HasPrefix(msg, "select") {
			d.Message += " (no automatic fix: the wait's value is used)"
		}
		if stmt != nil && wait != "" {
			if fix, why := lv4Fix(pass, src, cur, stmt, wait, ctxObj); fix != nil {
				d.SuggestedFixes = []analysis.SuggestedFix{*fix}
			} else {
				d.Message += " (no automatic fix: " + why + ")"
			}
		}
		r.report(d)
	}
	return nil, nil
}

// inSelectCase reports whether the receive at cur is a select case's.
func inSelectCase(cur inspector.Cursor) bool {
	for c := cur.Parent(); c.Valid(); c = c.Parent() {
		switch n := c.Node().(type) {
		case *ast.CommClause:
			return n.Comm != nil && n.Comm.Pos() <= cur.Node().Pos() && cur.Node().End() <= n.Comm.End()
		case *ast.ExprStmt, *ast.AssignStmt, *ast.ParenExpr:
			continue
		}
		return false
	}
	return false
}

// isContextDone reports whether c is ctx.Done() on a context.Context.
func isContextDone(info *types.Info, c *ast.CallExpr) bool {
	sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Done" && isContext(info.TypeOf(sel.X))
}

// selectWatches reports whether a select can end other than by its data:
// a default, a Done() case, a timer, or a stop-like channel.
func selectWatches(info *types.Info, s *ast.SelectStmt) bool {
	for _, cc := range s.Body.List {
		cc := cc.(*ast.CommClause)
		if cc.Comm == nil {
			return true
		}
		var ch ast.Expr
		switch comm := cc.Comm.(type) {
		case *ast.ExprStmt:
			if u, ok := ast.Unparen(comm.X).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
				ch = u.X
			}
		case *ast.AssignStmt:
			if u, ok := ast.Unparen(comm.Rhs[0]).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
				ch = u.X
			}
		case *ast.SendStmt:
			ch = comm.Chan
		}
		if ch == nil {
			continue
		}
		ch = ast.Unparen(ch)
		if c, ok := ch.(*ast.CallExpr); ok {
			name := calleeName(c.Fun)
			if name == "Done" || isFunc(info, c, "time", "After") || isFunc(info, c, "time", "Tick") || stopName.MatchString(name) {
				return true
			}
			continue
		}
		if sel, ok := ch.(*ast.SelectorExpr); ok && sel.Sel.Name == "C" && (isNamed(info.TypeOf(sel.X), "time", "Timer") || isNamed(info.TypeOf(sel.X), "time", "Ticker")) {
			return true
		}
		if stopName.MatchString(calleeName(ch)) {
			return true
		}
	}
	return false
}

// joinsGoroutine reports whether ch is a local channel that a goroutine
// started in the same function closes or sends to: the receive joins it.
func joinsGoroutine(info *types.Info, cur inspector.Cursor, ch ast.Expr) bool {
	id, ok := ch.(*ast.Ident)
	if !ok {
		return false
	}
	obj := info.Uses[id]
	if obj == nil {
		return false
	}
	body := enclosingBody(cur)
	if body == nil {
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		g, ok := n.(*ast.GoStmt)
		if !ok || found {
			return !found
		}
		ast.Inspect(g.Call, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SendStmt:
				if x, ok := ast.Unparen(n.Chan).(*ast.Ident); ok && info.Uses[x] == obj {
					found = true
				}
			case *ast.CallExpr:
				if f, ok := ast.Unparen(n.Fun).(*ast.Ident); ok && f.Name == "close" && len(n.Args) == 1 {
					if x, ok := ast.Unparen(n.Args[0]).(*ast.Ident); ok && info.Uses[x] == obj {
						found = true
					}
				}
				for _, a := range n.Args { // handed to the goroutine
					if x, ok := ast.Unparen(a).(*ast.Ident); ok && info.Uses[x] == obj {
						found = true
					}
				}
			}
			return !found
		})
		return false
	})
	return found
}

// contextInScope is the named context.Context parameter of the function
// that holds cur, or of a function it is nested in, that is still visible
// at cur; nil when there is none.
func contextInScope(pass *analysis.Pass, cur inspector.Cursor) types.Object {
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		var ft *ast.FuncType
		switch f := c.Node().(type) {
		case *ast.FuncDecl:
			ft = f.Type
		case *ast.FuncLit:
			ft = f.Type
		}
		for _, field := range ft.Params.List {
			if !isContext(pass.TypesInfo.TypeOf(field.Type)) {
				continue
			}
			if len(field.Names) == 0 || field.Names[0].Name == "_" {
				return nil // the function has a context it chose to ignore
			}
			obj := pass.TypesInfo.Defs[field.Names[0]]
			if !resolves(pass, obj.Name(), cur.Node().Pos(), obj) {
				return nil
			}
			return obj
		}
		if _, ok := c.Node().(*ast.FuncDecl); ok {
			return nil
		}
	}
	return nil
}

// lv4Fix turns stmt, which only waits, into a select on the wait and ctx.Done().
func lv4Fix(pass *analysis.Pass, src *source, cur inspector.Cursor, stmt ast.Stmt, wait string, ctxObj types.Object) (*analysis.SuggestedFix, string) {
	var ft *ast.FuncType
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		switch f := c.Node().(type) {
		case *ast.FuncDecl:
			ft = f.Type
		case *ast.FuncLit:
			ft = f.Type
		}
		break
	}
	name := ctxObj.Name()
	ind := src.indent(stmt.Pos())
	var ret string
	switch res := ft.Results; {
	case res == nil || len(res.List) == 0:
		ret = "return"
	case len(res.List) == 1 && len(res.List[0].Names) <= 1 && isError(pass.TypesInfo.TypeOf(res.List[0].Type)) && len(res.List[0].Names) == 0:
		ret = "return " + name + ".Err()"
	default:
		last := res.List[len(res.List)-1]
		if len(last.Names) == 0 || !isError(pass.TypesInfo.TypeOf(last.Type)) {
			return nil, "the function returns more than an error"
		}
		e := last.Names[len(last.Names)-1]
		if e.Name == "_" || !resolves(pass, e.Name, stmt.Pos(), pass.TypesInfo.Defs[e]) {
			return nil, "the error result cannot be named here"
		}
		ret = e.Name + " = " + name + ".Err()\n" + ind + "\treturn"
	}
	if src.bytes(stmt.Pos()) == nil {
		return nil, "the source file cannot be read"
	}
	text := fmt.Sprintf("select {\n%scase %s:\n%scase <-%s.Done():\n%s\t%s\n%s}", ind, wait, ind, name, ind, ret, ind)
	return &analysis.SuggestedFix{
		Message:   fmt.Sprintf("Wait in a select with %s.Done()", name),
		TextEdits: []analysis.TextEdit{{Pos: stmt.Pos(), End: stmt.End(), NewText: []byte(text)}},
	}, ""
}

func isError(t types.Type) bool {
	return t != nil && types.Identical(t, types.Universe.Lookup("error").Type())
}

// releases reports whether the receive from ch gives back a slot of a
// channel used as a semaphore: it sits in a deferred call, or the same
// function sends to ch too (acquire), so the receive does not wait.
func releases(info *types.Info, src *source, cur inspector.Cursor, ch ast.Expr) bool {
	for c := range cur.Enclosing((*ast.DeferStmt)(nil), (*ast.FuncDecl)(nil)) {
		if _, ok := c.Node().(*ast.DeferStmt); ok {
			return true
		}
		break
	}
	body := enclosingBody(cur)
	if body == nil {
		return false
	}
	text := src.node(ch)
	sends := false
	ast.Inspect(body, func(n ast.Node) bool {
		if s, ok := n.(*ast.SendStmt); ok && text != "" && src.node(s.Chan) == text {
			sends = true
		}
		return !sends
	})
	return sends
}

// doneChannel reports whether ch is a variable that holds ctx.Done().
func doneChannel(info *types.Info, cur inspector.Cursor, ch ast.Expr) bool {
	id, ok := ch.(*ast.Ident)
	if !ok {
		return false
	}
	obj := info.Uses[id]
	body := enclosingBody(cur)
	if obj == nil || body == nil {
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
			for i, l := range as.Lhs {
				if lid, ok := l.(*ast.Ident); ok && info.ObjectOf(lid) == obj {
					if c, ok := ast.Unparen(as.Rhs[i]).(*ast.CallExpr); ok && isContextDone(info, c) {
						found = true
					}
				}
			}
		}
		return !found
	})
	return found
}

// drainsStoppedTimer reports whether the receive drains a timer's channel
// after Stop said it had fired: if !t.Stop() { <-t.C }. It does not wait.
func drainsStoppedTimer(info *types.Info, cur inspector.Cursor, ch ast.Expr) bool {
	sel, ok := ch.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "C" || !isNamed(info.TypeOf(sel.X), "time", "Timer") {
		return false
	}
	for c := range cur.Enclosing((*ast.IfStmt)(nil)) {
		stops := false
		ast.Inspect(c.Node().(*ast.IfStmt).Cond, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && (calleeName(call.Fun) == "Stop" || calleeName(call.Fun) == "Reset") {
				stops = true
			}
			return !stops
		})
		return stops
	}
	return false
}

// inTask reports whether cur is inside a task function: a function literal
// given to taskgroup, timeout or errgroup. Receives and selects are checked
// only there (a straggler there holds up Wait); elsewhere most bare receives
// are hand-offs another goroutine completes, and the corpus showed it.
func inTask(info *types.Info, cur inspector.Cursor) bool {
	for c := range cur.Enclosing((*ast.FuncLit)(nil), (*ast.FuncDecl)(nil)) {
		lit, ok := c.Node().(*ast.FuncLit)
		if !ok {
			return false
		}
		call, ok := c.Parent().Node().(*ast.CallExpr)
		if !ok {
			continue
		}
		if tc, ok := asTaskCall(info, call); ok && slices.Contains(tc.fns, lit) {
			return true
		}
	}
	return false
}
