package leashvet

import (
	"fmt"
	"go/ast"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// LV5 reports deferred cleanup that runs with a context that may be cancelled.
var LV5 = &analysis.Analyzer{
	Name: "lv5",
	Doc: `LV5 cleanup with a cancellable context: a deferred cleanup given a context that may be done

A deferred cleanup (Rollback, Close, Release, Shutdown, Stop, Unlock, Delete,
Abort, Disconnect...) runs when the function returns, and that is often
because its context was cancelled: the cleanup then fails at once or does
half its work, and a transaction stays open or a lease is never released.
shield runs cleanup with the context's values but not its cancellation, and
with a bound of its own:

	defer tx.Rollback(ctx)  ->  defer shield.Do(ctx, 5*time.Second, tx.Rollback)

The fix applies to a deferred call whose only argument is the context and
whose function has the type func(context.Context) error. It preserves when
the receiver and the context are evaluated (at the defer statement, as a
method value) and that the cleanup's error is dropped as before; it adds the
protection from cancellation and a 5 s bound (change it to your cleanup's
budget). To keep the cleanup's error, use shield.Cleanup(ctx, d, &err,
tx.Rollback), which joins it into the named result err: the fix does not,
because a Rollback after a Commit returns an error that would then fail the
function. It declines for a cleanup inside a deferred function literal, with
more arguments than the context, or of another type, and when "shield" or
"time" would mean something else there.

Not reported: a context that is already detached: context.Background(),
TODO(), context.WithoutCancel(...), shield.Context(...), or a variable
defined from them (also through WithTimeout, WithDeadline, WithValue); a
variable named as a background context (bg, background, detached...); a
test's t.Context(), which is cancelled only after its deferred calls ran.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      safe("LV5", runLV5),
	// Ill-typed packages: report what can be found.
	RunDespiteErrors: true,
}

var detachedName = regexp.MustCompile(`^(bg|bgCtx|bgctx|background|backgroundCtx|detached|detachedCtx|noCancel|uncancel+ed)$`)

var cleanupNames = map[string]bool{
	"Rollback": true, "Close": true, "Release": true, "Shutdown": true, "Stop": true,
	"Unlock": true, "Cleanup": true, "Abort": true, "Disconnect": true, "Terminate": true,
	"Teardown": true, "Delete": true, "Remove": true, "Drop": true, "Unsubscribe": true,
	"Unregister": true, "Deregister": true, "Revoke": true, "Destroy": true, "Kill": true,
	"Detach": true, "Discard": true, "Unlink": true, "Free": true, "Unwatch": true,
}

func runLV5(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "LV5")
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	info := pass.TypesInfo
	src := newSource(pass)
	for cur := range ins.Root().Preorder((*ast.DeferStmt)(nil)) {
		ds := cur.Node().(*ast.DeferStmt)
		body := enclosingBody(cur)
		var calls []*ast.CallExpr
		if lit, ok := ast.Unparen(ds.Call.Fun).(*ast.FuncLit); ok {
			ast.Inspect(lit.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncLit:
					return false
				case *ast.CallExpr:
					calls = append(calls, n)
				}
				return true
			})
		} else {
			calls = append(calls, ds.Call)
		}
		for _, call := range calls {
			name := calleeName(call.Fun)
			if !cleanupNames[name] || strings.HasPrefix(funcKey(info, call), leashModule+"/") {
				continue // shield.Cleanup is the protection itself
			}
			var ctxArg ast.Expr
			for _, a := range call.Args {
				if isContext(info.TypeOf(a)) && !detached(info, body, a, 0) {
					ctxArg = a
					break
				}
			}
			if ctxArg == nil {
				continue
			}
			d := analysis.Diagnostic{
				Pos: call.Pos(), End: call.End(),
				Message: fmt.Sprintf("deferred %s runs with %s, which may already be cancelled when it runs: protect it with shield.Cleanup (or shield.Do)", name, src.node(ctxArg)),
			}
			if call == ds.Call {
				if fix, why := lv5Fix(pass, src, ds, ctxArg); fix != nil {
					d.SuggestedFixes = []analysis.SuggestedFix{*fix}
				} else {
					d.Message += " (no automatic fix: " + why + ")"
				}
			}
			r.report(d)
		}
	}
	return nil, nil
}

// detached reports whether e is a context without cancellation from the
// caller: Background, TODO, WithoutCancel, shield.Context, or one derived
// from them.
func detached(info *types.Info, body *ast.BlockStmt, e ast.Expr, depth int) bool {
	if depth > 8 {
		return false
	}
	switch e := ast.Unparen(e).(type) {
	case *ast.CallExpr:
		switch funcKey(info, e) {
		// t.Context() is cancelled only after the test's deferred calls ran.
		case "context.Background", "context.TODO", "context.WithoutCancel", shieldPkg + ".Context",
			"testing.common.Context":
			return true
		case "context.WithTimeout", "context.WithDeadline", "context.WithValue", "context.WithCancel",
			"context.WithTimeoutCause", "context.WithDeadlineCause", "context.WithCancelCause":
			return len(e.Args) > 0 && detached(info, body, e.Args[0], depth+1)
		}
	case *ast.Ident:
		obj := info.Uses[e]
		if obj == nil {
			return false
		}
		// A context its author named as a background one is taken at its
		// word (go-redis passes context.Background() down as bg).
		if detachedName.MatchString(obj.Name()) {
			return true
		}
		if body == nil {
			return false
		}
		var def ast.Expr
		ast.Inspect(body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && info.ObjectOf(id) == obj {
						switch {
						case len(n.Rhs) == len(n.Lhs):
							def = n.Rhs[i]
						case len(n.Rhs) == 1 && i == 0:
							def = n.Rhs[0]
						}
					}
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if info.Defs[id] == obj && i < len(n.Values) {
						def = n.Values[i]
					}
				}
			}
			return def == nil
		})
		return def != nil && detached(info, body, def, depth+1)
	}
	return false
}

// lv5Fix rewrites `defer x.M(ctx)` to `defer shield.Do(ctx, 5*time.Second, x.M)`.
func lv5Fix(pass *analysis.Pass, src *source, ds *ast.DeferStmt, ctxArg ast.Expr) (*analysis.SuggestedFix, string) {
	call := ds.Call
	if len(call.Args) != 1 {
		return nil, "the cleanup takes more than the context"
	}
	sig, ok := pass.TypesInfo.TypeOf(call.Fun).(*types.Signature)
	if !ok || sig.Params().Len() != 1 || sig.Results().Len() != 1 || !isError(sig.Results().At(0).Type()) || sig.Variadic() {
		return nil, "the cleanup is not a func(context.Context) error"
	}
	if _, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func); !ok && !simpleExpr(call.Fun) {
		return nil, "the cleanup is not a function or method value"
	}
	if !simpleExpr(call.Fun) {
		return nil, "the cleanup's receiver is not a plain variable"
	}
	file := fileOf(pass, ds.Pos())
	if file == nil || src.bytes(ds.Pos()) == nil {
		return nil, "the source file cannot be read"
	}
	im := newImports(pass, file)
	sh := im.name(shieldPkg, ds.Pos())
	tm := im.name("time", ds.Pos())
	if sh == "" || tm == "" {
		return nil, `"shield" or "time" means something else here`
	}
	text := fmt.Sprintf("%s.Do(%s, 5*%s.Second, %s)", sh, src.node(ctxArg), tm, src.node(call.Fun))
	edits := append([]analysis.TextEdit{{Pos: call.Pos(), End: call.End(), NewText: []byte(text)}}, im.edits...)
	return &analysis.SuggestedFix{Message: "Run the cleanup under shield.Do", TextEdits: edits}, ""
}

// simpleExpr reports whether e is an identifier or a chain of field
// selections on one (x, x.y.M): evaluating it has no side effects.
func simpleExpr(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return simpleExpr(e.X)
	}
	return false
}
