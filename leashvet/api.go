package leashvet

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// Import paths leashvet matches by name: it never imports them.
const (
	leashModule  = "github.com/leash-go/leash"
	taskgroupPkg = leashModule + "/taskgroup"
	timeoutPkg   = leashModule + "/timeout"
	shieldPkg    = leashModule + "/shield"
	servicePkg   = leashModule + "/service"
	errgroupPkg  = "golang.org/x/sync/errgroup"
)

// taskFuncs lists the calls that run a function as a task, keyed by
// "pkgpath.Name" for functions and "pkgpath.Type.Name" for methods. The value
// says which argument is the group the task joins (-1: none; the call is its
// own scope). Every function-literal argument whose first parameter is a
// context.Context is a task function: so a new leash call needs one line
// here, whatever its shape.
var taskFuncs = map[string]int{
	taskgroupPkg + ".Group.Go":      -2, // -2: the receiver
	taskgroupPkg + ".Group.GoNamed": -2,
	taskgroupPkg + ".Group.TryGo":   -2,
	taskgroupPkg + ".Spawn":         0,
	taskgroupPkg + ".SpawnNamed":    0,
	taskgroupPkg + ".Start":         0,
	taskgroupPkg + ".Map":           -1,
	taskgroupPkg + ".First":         -1,
	timeoutPkg + ".WaitFor":         -1,
	timeoutPkg + ".WaitForValue":    -1,
	servicePkg + ".Run":             -1,
	errgroupPkg + ".Group.Go":       -2,
	errgroupPkg + ".Group.TryGo":    -2,
}

// groupMethods are the methods of a group that keep it local: a group used
// only through them (and the task functions above) has not escaped.
var groupMethods = map[string]bool{
	"Go": true, "GoNamed": true, "TryGo": true, "Wait": true,
	"Context": true, "Stop": true, "SetLimit": true,
}

// funcKey names the function or method a call invokes as taskFuncs keys
// it, or "" for a call of something else (a func value, a builtin).
func funcKey(info *types.Info, call *ast.CallExpr) string {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil {
		return ""
	}
	sig := fn.Type().(*types.Signature)
	if recv := sig.Recv(); recv != nil {
		t := recv.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		n, ok := types.Unalias(t).(*types.Named)
		if !ok {
			return ""
		}
		return fn.Pkg().Path() + "." + n.Obj().Name() + "." + fn.Name()
	}
	return fn.Pkg().Path() + "." + fn.Name()
}

// isFunc reports whether call invokes pkg.name (a package-level function).
func isFunc(info *types.Info, call *ast.CallExpr, pkg, name string) bool {
	return funcKey(info, call) == pkg+"."+name
}

// taskCall describes a call that runs task functions.
type taskCall struct {
	key   string
	group ast.Expr // the group the tasks join; nil when the call is its own scope
	fns   []*ast.FuncLit
	args  []ast.Expr // every argument that is a task function, literal or not
}

// asTaskCall reports whether call runs task functions, and which.
func asTaskCall(info *types.Info, call *ast.CallExpr) (taskCall, bool) {
	key := funcKey(info, call)
	gi, ok := taskFuncs[key]
	if !ok {
		return taskCall{}, false
	}
	tc := taskCall{key: key}
	switch {
	case gi == -2:
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
			tc.group = sel.X
		}
	case gi >= 0 && gi < len(call.Args):
		tc.group = call.Args[gi]
	}
	errgroupCall := strings.HasPrefix(key, errgroupPkg+".")
	for _, a := range call.Args {
		t, ok := info.TypeOf(a).(*types.Signature)
		if !ok {
			continue
		}
		if !errgroupCall && (t.Params().Len() == 0 || !isContext(t.Params().At(0).Type())) {
			continue
		}
		tc.args = append(tc.args, a)
		if lit, ok := ast.Unparen(a).(*ast.FuncLit); ok {
			tc.fns = append(tc.fns, lit)
		}
	}
	return tc, true
}

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

// isNamed reports whether t (or what it points to) is the named type pkg.name.
func isNamed(t types.Type, pkg, name string) bool {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

// isGroupType reports whether t is a taskgroup.Group or an errgroup.Group
// (or a pointer to one).
func isGroupType(t types.Type) bool {
	return isNamed(t, taskgroupPkg, "Group") || isNamed(t, errgroupPkg, "Group")
}

// isBackground reports whether e is context.Background() or context.TODO().
func isBackground(info *types.Info, e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	return ok && (isFunc(info, call, "context", "Background") || isFunc(info, call, "context", "TODO"))
}

// leashLibrary reports whether the package is one of leash's own library
// packages (not its examples, not leashvet): they implement the primitives
// LV1 and LV4 point to.
func leashLibrary(pass *analysis.Pass) bool {
	p := strings.TrimSuffix(pass.Pkg.Path(), "_test")
	if p != leashModule && !strings.HasPrefix(p, leashModule+"/") {
		return false
	}
	rest := strings.TrimPrefix(p, leashModule)
	return !strings.HasPrefix(rest, "/examples") && !strings.HasPrefix(rest, "/leashvet")
}
