package leashvet

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// LV2 reports errgroup groups and rewrites them to taskgroup.
var LV2 = &analysis.Analyzer{
	Name: "lv2",
	Doc: `LV2 errgroup: an errgroup.Group, rewritten to a taskgroup.Group

errgroup drops every error but the first, lets a panic in a task end the
process, and gives tasks no context of their own. taskgroup keeps every error
with its task, brings panics home to Wait, and hands each task its context.
LV2 reports every errgroup.Group that is created (errgroup.WithContext, a zero
Group variable, new or a composite literal, a struct field), and rewrites the
local ones:

	g, ctx := errgroup.WithContext(ctx)      g := taskgroup.New(ctx, taskgroup.WithLimit(4))
	g.SetLimit(4)                         -> ctx := g.Context()
	g.Go(func() error {                      g.Go(func(ctx context.Context) error {
		return fetch(ctx, u)                     return fetch(ctx, u)
	})                                       })
	return g.Wait()                          return g.Wait()

	var g errgroup.Group                  -> g := taskgroup.New(context.Background(), taskgroup.CollectAll())

The fix preserves: which tasks run and what they see (a task that used the
group's context now gets that same context as its parameter; one that used
another context keeps it, under a parameter named "_"), the limit, that Wait
waits for every task, and that every error Wait returned before still
matches errors.Is and errors.As on what it returns now. A zero Group (and new
or a literal) becomes a group of context.Background() with CollectAll,
because a zero errgroup.Group runs every task whatever fails. It changes,
as the point of the rewrite: Wait returns a *taskgroup.Error listing every
failure (not only the first, and not ==-comparable to it); a panic in a task
is re-raised by Wait instead of crashing the process; and after the first
failure of a WithContext group, a task not yet started does not start (TG7),
where errgroup would start it with a cancelled context.

It declines (the finding stays, without a fix, and says why) when the group
is not a local variable defined by the statement that creates it (a struct
field, a package variable, an assignment with =), when the group is used as
a value (passed, returned, stored, its address taken), when SetLimit is not
the statement right after the creation or its limit is not a constant >= 1
(or -1), when a task is not a function literal (its receiver or value would
be evaluated later than before), or when "taskgroup" or "context" would mean
something else where the fix writes them.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      safe("LV2", runLV2),
	// Ill-typed packages: report what can be found.
	RunDespiteErrors: true,
}

const lv2Message = "errgroup.Group: use a taskgroup.Group, which keeps every error with its task, brings panics home to Wait and gives each task its context"

func runLV2(pass *analysis.Pass) (any, error) {
	r := newReporter(pass, "LV2")
	if strings.TrimSuffix(pass.Pkg.Path(), "_test") == errgroupPkg {
		return nil, nil // errgroup itself, and its own tests
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	src := newSource(pass)
	info := pass.TypesInfo
	filter := []ast.Node{(*ast.CallExpr)(nil), (*ast.CompositeLit)(nil), (*ast.ValueSpec)(nil), (*ast.Field)(nil)}
	for cur := range ins.Root().Preorder(filter...) {
		var (
			pos   token.Pos
			fixer func() (*analysis.SuggestedFix, string)
		)
		switch n := cur.Node().(type) {
		case *ast.CallExpr:
			switch {
			case isFunc(info, n, errgroupPkg, "WithContext"):
				pos = n.Pos()
				if as, ok := cur.Parent().Node().(*ast.AssignStmt); ok && len(as.Lhs) == 2 && len(as.Rhs) == 1 && as.Tok == token.DEFINE {
					fixer = func() (*analysis.SuggestedFix, string) {
						return lv2Fix(pass, ins, src, as, as.Lhs[0], as.Lhs[1], n.Args[0])
					}
				}
			case isBuiltinNew(info, n) && len(n.Args) == 1 && isNamed(info.TypeOf(n.Args[0]), errgroupPkg, "Group"):
				pos = n.Pos()
				fixer = zeroFixer(pass, ins, src, cur)
			default:
				continue
			}
		case *ast.CompositeLit:
			if !isNamed(info.TypeOf(n), errgroupPkg, "Group") {
				continue
			}
			pos = n.Pos()
			c := cur
			if u, ok := c.Parent().Node().(*ast.UnaryExpr); ok && u.Op == token.AND {
				c = c.Parent()
			}
			fixer = zeroFixer(pass, ins, src, c)
		case *ast.ValueSpec:
			if n.Type == nil || len(n.Values) > 0 || !isErrgroupValue(info.TypeOf(n.Type)) {
				continue
			}
			pos = n.Pos()
			gd, _ := cur.Parent().Node().(*ast.GenDecl)
			if ds, ok := cur.Parent().Parent().Node().(*ast.DeclStmt); ok && len(n.Names) == 1 && gd != nil && len(gd.Specs) == 1 {
				fixer = func() (*analysis.SuggestedFix, string) {
					return lv2Fix(pass, ins, src, ds, n.Names[0], nil, nil)
				}
			}
		case *ast.Field:
			if _, ok := cur.Parent().Node().(*ast.FieldList); !ok {
				continue
			}
			if _, ok := cur.Parent().Parent().Node().(*ast.StructType); !ok || !isErrgroupValue(info.TypeOf(n.Type)) {
				continue
			}
			pos = n.Pos()
		}
		d := analysis.Diagnostic{Pos: pos, Message: lv2Message}
		why := "the group is not a local variable defined where it is created"
		if fixer != nil {
			var fix *analysis.SuggestedFix
			fix, why = fixer()
			if fix != nil {
				d.SuggestedFixes = []analysis.SuggestedFix{*fix}
			}
		}
		if d.SuggestedFixes == nil {
			d.Message += " (no automatic fix: " + why + ")"
		}
		r.report(d)
	}
	return nil, nil
}

func isErrgroupValue(t types.Type) bool {
	if _, ok := types.Unalias(t).(*types.Pointer); ok {
		return false
	}
	return isNamed(t, errgroupPkg, "Group")
}

func isBuiltinNew(info *types.Info, call *ast.CallExpr) bool {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := info.Uses[id].(*types.Builtin)
	return ok && b.Name() == "new"
}

// zeroFixer fixes `g := new(errgroup.Group)`, `g := &errgroup.Group{}` and
// `g := errgroup.Group{}`, where cur is the right-hand side.
func zeroFixer(pass *analysis.Pass, ins *inspector.Inspector, src *source, cur inspector.Cursor) func() (*analysis.SuggestedFix, string) {
	as, ok := cur.Parent().Node().(*ast.AssignStmt)
	if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 || as.Tok != token.DEFINE {
		return nil
	}
	return func() (*analysis.SuggestedFix, string) {
		return lv2Fix(pass, ins, src, as, as.Lhs[0], nil, nil)
	}
}

// lv2Fix rewrites the group created by stmt and named by gExpr. ctxExpr is
// the context variable WithContext defined (nil for a zero Group) and parent
// the context it was given (nil for a zero Group).
func lv2Fix(pass *analysis.Pass, ins *inspector.Inspector, src *source, stmt ast.Stmt, gExpr, ctxExpr, parent ast.Expr) (*analysis.SuggestedFix, string) {
	info := pass.TypesInfo
	gID, ok := gExpr.(*ast.Ident)
	if !ok || gID.Name == "_" {
		return nil, "the group is not assigned to a variable"
	}
	gObj, _ := info.Defs[gID].(*types.Var)
	if gObj == nil {
		return nil, "the group variable is declared elsewhere (an assignment with =)"
	}
	// The block that holds stmt, and what follows it.
	stmtCur, ok := ins.Root().FindNode(stmt)
	if !ok {
		return nil, "internal: statement not found"
	}
	block, ok := stmtCur.Parent().Node().(*ast.BlockStmt)
	if !ok {
		return nil, "the group is created outside a plain block"
	}
	var next ast.Stmt
	for i, s := range block.List {
		if s == stmt && i+1 < len(block.List) {
			next = block.List[i+1]
		}
	}
	fnCur := stmtCur
	for c := range stmtCur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		fnCur = c
		break
	}
	file := fileOf(pass, stmt.Pos())
	if file == nil || src.bytes(stmt.Pos()) == nil {
		return nil, "the source file cannot be read"
	}

	var ctxObj types.Object // the group's context variable, if WithContext defined one
	if id, ok := ctxExpr.(*ast.Ident); ok && id.Name != "_" {
		ctxObj = info.ObjectOf(id)
	}

	var (
		edits     []analysis.TextEdit
		limit     string
		setLimit  ast.Stmt
		tasks     []*ast.FuncLit
		namePos   = []token.Pos{stmt.Pos()}
		errgroups = 0 // references to the errgroup package this fix removes
	)
	for c := range fnCur.Preorder((*ast.Ident)(nil)) {
		id := c.Node().(*ast.Ident)
		if info.Uses[id] != gObj {
			continue
		}
		sel, ok := c.Parent().Node().(*ast.SelectorExpr)
		if !ok || sel.X != id {
			return nil, fmt.Sprintf("%s is used as a value", gID.Name)
		}
		call, ok := c.Parent().Parent().Node().(*ast.CallExpr)
		if !ok || call.Fun != sel {
			return nil, fmt.Sprintf("a method of %s is used as a value", gID.Name)
		}
		switch sel.Sel.Name {
		case "Wait":
		case "Go", "TryGo":
			lit, ok := ast.Unparen(call.Args[0]).(*ast.FuncLit)
			if !ok {
				return nil, "a task is not a function literal"
			}
			tasks = append(tasks, lit)
			namePos = append(namePos, lit.Pos())
		case "SetLimit":
			es, ok := c.Parent().Parent().Parent().Node().(*ast.ExprStmt)
			if !ok || es != next || setLimit != nil {
				return nil, "SetLimit is not the statement right after the group's creation"
			}
			tv := info.Types[call.Args[0]]
			if tv.Value == nil || tv.Value.Kind() != constant.Int {
				return nil, "the limit is not a constant"
			}
			n, _ := constant.Int64Val(tv.Value)
			switch {
			case n >= 1:
				limit = src.node(call.Args[0])
			case n == -1:
			default:
				return nil, "a limit of 0 blocks every task; taskgroup has no such limit"
			}
			setLimit = es
		default:
			return nil, fmt.Sprintf("%s.%s has no taskgroup counterpart", gID.Name, sel.Sel.Name)
		}
	}

	im := newImports(pass, file)
	tg := im.name(taskgroupPkg, namePos...)
	cx := im.name("context", namePos...)
	if tg == "" || cx == "" {
		return nil, `"taskgroup" or "context" means something else here`
	}

	// The creation.
	opts := ""
	if parent == nil {
		opts = ", " + tg + ".CollectAll()"
	}
	if limit != "" {
		opts += ", " + tg + ".WithLimit(" + limit + ")"
	}
	parentText := cx + ".Background()"
	if parent != nil {
		parentText = src.node(parent)
	}
	repl := fmt.Sprintf("%s := %s.New(%s%s)", gID.Name, tg, parentText, opts)
	edits = append(edits, analysis.TextEdit{Pos: stmt.Pos(), End: stmt.End(), NewText: []byte(repl)})
	// The group's context variable, where anything but a rewritten task
	// (whose parameter now takes its name) still uses it.
	names := map[*ast.FuncLit]string{}
	for _, lit := range tasks {
		names[lit] = taskParamName(pass, lit, ctxObj)
	}
	if ctxObj != nil && usedOutside(info, fnCur.Node(), ctxObj, stmt, names) {
		tok := "="
		if info.Defs[ctxExpr.(*ast.Ident)] != nil {
			tok = ":="
		}
		eol := endOfLine(pass, src, stmt.End())
		edits = append(edits, analysis.TextEdit{Pos: eol, End: eol, NewText: []byte(fmt.Sprintf("\n%s%s %s %s.Context()", src.indent(stmt.Pos()), ctxObj.Name(), tok, gID.Name))})
	}
	errgroups++
	if setLimit != nil {
		edits = append(edits, deleteLine(pass, src, setLimit))
	}

	// The tasks: func() error -> func(ctx context.Context) error.
	for _, lit := range tasks {
		name := names[lit]
		params := lit.Type.Params
		edits = append(edits, analysis.TextEdit{
			Pos:     params.Opening,
			End:     params.Closing + 1,
			NewText: []byte("(" + name + " " + cx + ".Context)"),
		})
	}

	// Drop the errgroup import when nothing else in the file uses it.
	adds := im.edits
	if del, whole, ok := dropImport(pass, src, file, errgroupPkg, errgroups); ok {
		// When the declaration deleted held the only import, the new ones
		// take its place.
		if whole && len(adds) > 0 && del.Pos <= adds[0].Pos && adds[0].Pos <= del.End {
			del.NewText = []byte(importBlock(im.paths))
			adds = nil
		}
		edits = append(edits, del)
	}
	edits = append(edits, adds...)
	return &analysis.SuggestedFix{
		Message:   "Rewrite the errgroup.Group to a taskgroup.Group",
		TextEdits: edits,
	}, ""
}

// taskParamName names the context parameter a rewritten task gets: the
// group's own context variable when the task uses it (the parameter is that
// same context), else "ctx" when that shadows nothing the task uses, else
// "_".
func taskParamName(pass *analysis.Pass, lit *ast.FuncLit, groupCtx types.Object) string {
	free := map[string]types.Object{}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if obj := pass.TypesInfo.Uses[id]; obj != nil && (obj.Pos() < lit.Pos() || obj.Pos() >= lit.End()) {
				free[id.Name] = obj
			}
		}
		return true
	})
	declared := func(name string) bool {
		s := pass.TypesInfo.Scopes[lit.Type]
		return s != nil && s.Lookup(name) != nil
	}
	if groupCtx != nil {
		if obj, ok := free[groupCtx.Name()]; ok && obj == groupCtx && !declared(groupCtx.Name()) {
			return groupCtx.Name()
		}
	}
	if _, ok := free["ctx"]; !ok && !declared("ctx") {
		return "ctx"
	}
	return "_"
}

// deleteLine deletes n, with its line when it stands alone on it.
func deleteLine(pass *analysis.Pass, src *source, n ast.Node) analysis.TextEdit {
	return deleteRange(pass, src, n.Pos(), n.End())
}

// deleteRange deletes pos..end, with its line when it stands alone on it.
func deleteRange(pass *analysis.Pass, src *source, pos, end token.Pos) analysis.TextEdit {
	f := pass.Fset.File(pos)
	start := f.LineStart(f.Line(pos))
	b := src.bytes(pos)
	if strings.TrimSpace(src.text(start, pos)) == "" {
		off := f.Offset(end)
		for off < len(b) && (b[off] == ' ' || b[off] == '\t') {
			off++
		}
		if off < len(b) && b[off] == '\n' {
			return analysis.TextEdit{Pos: start, End: f.Pos(off + 1)}
		}
	}
	return analysis.TextEdit{Pos: pos, End: end}
}

// dropImport is the edit that deletes the import of pkgPath from file, when
// the file refers to the package exactly removed times (all of them gone with
// the fix).
func dropImport(pass *analysis.Pass, src *source, file *ast.File, pkgPath string, removed int) (edit analysis.TextEdit, whole, ok bool) {
	refs := 0
	ast.Inspect(file, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if pn, ok := pass.TypesInfo.Uses[id].(*types.PkgName); ok && pn.Imported().Path() == pkgPath {
				refs++
			}
		}
		return true
	})
	if refs != removed {
		return analysis.TextEdit{}, false, false
	}
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		for _, spec := range gd.Specs {
			is := spec.(*ast.ImportSpec)
			if p, _ := strconv.Unquote(is.Path.Value); p != pkgPath {
				continue
			}
			if !gd.Lparen.IsValid() || len(gd.Specs) == 1 {
				return deleteLine(pass, src, gd), true, true
			}
			return deleteLine(pass, src, is), false, true
		}
	}
	return analysis.TextEdit{}, false, false
}

// usedOutside reports whether obj is used after stmt in fn other than inside
// a task literal whose parameter now has obj's name.
func usedOutside(info *types.Info, fn ast.Node, obj types.Object, stmt ast.Stmt, names map[*ast.FuncLit]string) bool {
	used := false
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			if name, ok := names[n]; ok && name == obj.Name() {
				return false
			}
		case *ast.Ident:
			if info.Uses[n] == obj && n.Pos() >= stmt.End() {
				used = true
			}
		}
		return !used
	})
	return used
}

// endOfLine is the position of the newline that ends the line pos is on.
func endOfLine(pass *analysis.Pass, src *source, pos token.Pos) token.Pos {
	f := pass.Fset.File(pos)
	b := src.bytes(pos)
	off := f.Offset(pos)
	for off < len(b) && b[off] != '\n' {
		off++
	}
	return f.Pos(off)
}
