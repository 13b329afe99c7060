package leashvet

import (
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// source gives the text of nodes as written, for fixes that keep the
// author's code (and comments) around the part they rewrite.
type source struct {
	pass  *analysis.Pass
	files map[string][]byte
}

func newSource(pass *analysis.Pass) *source {
	return &source{pass: pass, files: map[string][]byte{}}
}

func (s *source) bytes(pos token.Pos) []byte {
	f := s.pass.Fset.File(pos)
	if f == nil {
		return nil
	}
	b, ok := s.files[f.Name()]
	if !ok {
		var err error
		read := s.pass.ReadFile
		if read == nil {
			return nil
		}
		b, err = read(f.Name())
		if err != nil || len(b) != f.Size() {
			b = nil
		}
		s.files[f.Name()] = b
	}
	return b
}

// text is the source text from pos to end, or "" when it cannot be read.
func (s *source) text(pos, end token.Pos) string {
	b := s.bytes(pos)
	if b == nil {
		return ""
	}
	f := s.pass.Fset.File(pos)
	return string(b[f.Offset(pos):f.Offset(end)])
}

// node is n's source text.
func (s *source) node(n ast.Node) string { return s.text(n.Pos(), n.End()) }

// indent is the white space that starts the line pos is on.
func (s *source) indent(pos token.Pos) string {
	b := s.bytes(pos)
	if b == nil {
		return ""
	}
	f := s.pass.Fset.File(pos)
	start := f.Offset(f.LineStart(f.Line(pos)))
	end := start
	for end < len(b) && (b[end] == ' ' || b[end] == '\t') {
		end++
	}
	return string(b[start:end])
}

// fileOf is the file of the package that holds pos.
func fileOf(pass *analysis.Pass, pos token.Pos) *ast.File {
	for _, f := range pass.Files {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return f
		}
	}
	return nil
}

// imports plans the imports a fix needs in one file.
type imports struct {
	pass  *analysis.Pass
	file  *ast.File
	edits []analysis.TextEdit
	added map[string]bool
	paths []string // in the order added
}

func newImports(pass *analysis.Pass, file *ast.File) *imports {
	return &imports{pass: pass, file: file, added: map[string]bool{}}
}

// name returns the name under which the file refers to the package at
// path, adding an import if it has none. It returns "" when that name does
// not mean the package at every position in uses (a local variable named
// "context", say): the fix must then decline.
func (im *imports) name(pkgPath string, uses ...token.Pos) string {
	name := ""
	for _, spec := range im.file.Imports {
		p, err := strconv.Unquote(spec.Path.Value)
		if err != nil || p != pkgPath {
			continue
		}
		switch {
		case spec.Name == nil:
			if pn, ok := im.pass.TypesInfo.Implicits[spec].(*types.PkgName); ok {
				name = pn.Name()
			}
		case spec.Name.Name != "_" && spec.Name.Name != ".":
			name = spec.Name.Name
		}
		if name != "" {
			break
		}
	}
	fresh := name == ""
	if fresh {
		name = path.Base(pkgPath)
	}
	for _, pos := range uses {
		_, obj := scopeAt(im.pass, pos).LookupParent(name, pos)
		if fresh && obj != nil {
			return ""
		}
		if pn, ok := obj.(*types.PkgName); !fresh && (!ok || pn.Imported().Path() != pkgPath) {
			return ""
		}
	}
	if fresh && !im.added[pkgPath] {
		im.added[pkgPath] = true
		im.paths = append(im.paths, pkgPath)
		im.edits = append(im.edits, addImport(im.file, pkgPath))
	}
	return name
}

// addImport is the edit that imports pkgPath into file: a standard
// package at the top of the first import block, any other at its end.
func addImport(file *ast.File, pkgPath string) analysis.TextEdit {
	q := strconv.Quote(pkgPath)
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		if gd.Lparen.IsValid() {
			if isStd(pkgPath) {
				return analysis.TextEdit{Pos: gd.Lparen + 1, End: gd.Lparen + 1, NewText: []byte("\n\t" + q)}
			}
			for _, spec := range gd.Specs {
				if p, err := strconv.Unquote(spec.(*ast.ImportSpec).Path.Value); err == nil && !isStd(p) {
					return analysis.TextEdit{Pos: gd.Rparen, End: gd.Rparen, NewText: []byte("\t" + q + "\n")}
				}
			}
			// The first non-standard import starts a group of its own.
			return analysis.TextEdit{Pos: gd.Rparen, End: gd.Rparen, NewText: []byte("\n\t" + q + "\n")}
		}
		return analysis.TextEdit{Pos: gd.End(), End: gd.End(), NewText: []byte("\nimport " + q)}
	}
	return analysis.TextEdit{Pos: file.Name.End(), End: file.Name.End(), NewText: []byte("\n\nimport " + q)}
}

// isStd reports whether pkgPath is a standard package's (no dot in its
// first element).
func isStd(pkgPath string) bool {
	first, _, _ := strings.Cut(pkgPath, "/")
	return !strings.Contains(first, ".")
}

// importBlock is an import declaration of paths, standard ones first.
func importBlock(paths []string) string {
	var std, other []string
	for _, p := range paths {
		if isStd(p) {
			std = append(std, strconv.Quote(p))
		} else {
			other = append(other, strconv.Quote(p))
		}
	}
	if len(std)+len(other) == 1 {
		return "import " + strings.Join(append(std, other...), "") + "\n"
	}
	b := "import (\n"
	for _, p := range std {
		b += "\t" + p + "\n"
	}
	if len(std) > 0 && len(other) > 0 {
		b += "\n"
	}
	for _, p := range other {
		b += "\t" + p + "\n"
	}
	return b + ")\n"
}

// resolves reports whether name, written at pos, would mean obj.
func resolves(pass *analysis.Pass, name string, pos token.Pos, obj types.Object) bool {
	_, o := scopeAt(pass, pos).LookupParent(name, pos)
	return o == obj
}

// scopeAt is the innermost scope that holds pos.
func scopeAt(pass *analysis.Pass, pos token.Pos) *types.Scope {
	if s := pass.Pkg.Scope().Innermost(pos); s != nil {
		return s
	}
	return pass.Pkg.Scope()
}
