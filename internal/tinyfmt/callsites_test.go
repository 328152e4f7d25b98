package tinyfmt_test

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const self = "github.com/itiny/itiny/internal/tinyfmt"

// TestCallSites type-checks every package of the module that formats
// with tinyfmt and checks each call with a constant format, direct or
// through a wrapper that forwards its format and operands (ringlog's
// headerError, the agent's Logger.Printf), against the package
// comment's rules: the operands match the verbs in number, and each is
// of a type the verb formats without reflection. Where fmt would have
// formatted a named integer by reflection, tinyfmt would print
// %!d(BADTYPE): this test finds it first.
func TestCallSites(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the module")
	}
	pkgs, exports := listModule(t)
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok {
			return nil, os.ErrNotExist
		}
		return os.Open(f)
	})
	var checked []*checkedPkg
	for _, p := range pkgs {
		checked = append(checked, typeCheck(t, p, imp))
	}
	// Wrappers: functions that pass their own format parameter and
	// operands on to tinyfmt or to another wrapper, found to a fixpoint.
	wrappers := map[string]int{}
	for _, name := range []string{"Errorf", "Sprintf", "Fprintf", "Appendf"} {
		obj := mustLookup(t, checked, name)
		wrappers[obj] = formatIndex(name)
	}
	for changed := true; changed; {
		changed = false
		for _, p := range checked {
			for fn, idx := range p.forwarders(wrappers) {
				if _, ok := wrappers[fn]; !ok {
					wrappers[fn], changed = idx, true
				}
			}
		}
	}
	for _, p := range checked {
		p.interfaceWrappers(wrappers)
	}
	calls := 0
	for _, p := range checked {
		calls += p.checkCalls(t, wrappers)
	}
	if calls < 200 {
		t.Errorf("checked %d calls: the module makes more than 200; is the wrapper search broken?", calls)
	}
	t.Logf("%d calls checked in %d packages, through %d functions: %v", calls, len(checked), len(wrappers), wrappers)
}

type listedPkg struct {
	path, dir string
	files     []string // as go list selects them by build constraints
}

// listModule lists the module's packages that import tinyfmt, and the
// export data of every package they depend on.
func listModule(t *testing.T) ([]listedPkg, map[string]string) {
	cmd := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}\t{{.Dir}}\t{{join .Imports \" \"}}\t{{.Module}}\t{{join .GoFiles \" \"}}", "./...")
	cmd.Dir = "../.."
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	exports := map[string]string{}
	var pkgs []listedPkg
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		exports[f[0]] = f[1]
		if f[4] != "" && strings.Contains(" "+f[3]+" ", " "+self+" ") {
			pkgs = append(pkgs, listedPkg{f[0], f[2], strings.Fields(f[5])})
		}
	}
	if len(pkgs) < 5 {
		t.Fatalf("only %d packages use tinyfmt: %v", len(pkgs), pkgs)
	}
	return pkgs, exports
}

type checkedPkg struct {
	path  string
	fset  *token.FileSet
	files []*ast.File
	info  *types.Info
	pkg   *types.Package
}

func typeCheck(t *testing.T, p listedPkg, imp types.Importer) *checkedPkg {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range p.files {
		f, err := parser.ParseFile(fset, filepath.Join(p.dir, n), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: imp}
	pkg, err := conf.Check(p.path, fset, files, info)
	if err != nil {
		t.Fatalf("type-checking %s: %v", p.path, err)
	}
	return &checkedPkg{p.path, fset, files, info, pkg}
}

func mustLookup(t *testing.T, pkgs []*checkedPkg, name string) string {
	for _, p := range pkgs {
		for _, imp := range p.pkg.Imports() {
			if imp.Path() == self {
				if obj, ok := imp.Scope().Lookup(name).(*types.Func); ok {
					return obj.FullName()
				}
			}
		}
	}
	t.Fatalf("tinyfmt.%s not found", name)
	return ""
}

// formatIndex is the position of the format among tinyfmt's functions'
// parameters.
func formatIndex(name string) int {
	if name == "Errorf" || name == "Sprintf" {
		return 0
	}
	return 1
}

// callee returns the full name of the function or method a call calls.
func (p *checkedPkg) callee(call *ast.CallExpr) string {
	var id *ast.Ident
	switch fn := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = fn
	case *ast.SelectorExpr:
		id = fn.Sel
	default:
		return ""
	}
	if f, ok := p.info.Uses[id].(*types.Func); ok {
		return f.Origin().FullName()
	}
	return ""
}

// forwarders returns the functions of p that call a wrapper with their
// own string parameter as the format and their variadic one as the
// operands, with the position of that parameter.
func (p *checkedPkg) forwarders(wrappers map[string]int) map[string]int {
	found := map[string]int{}
	for _, f := range p.files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn := p.info.Defs[fd.Name].(*types.Func)
			sig := fn.Type().(*types.Signature)
			if !sig.Variadic() {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !call.Ellipsis.IsValid() {
					return true
				}
				idx, ok := wrappers[p.callee(call)]
				if !ok || idx >= len(call.Args) {
					return true
				}
				format := ast.Unparen(call.Args[idx])
				for { // format + "\n": the same verbs
					be, ok := format.(*ast.BinaryExpr)
					if !ok || be.Op != token.ADD {
						break
					}
					format = be.X
				}
				if id, ok := format.(*ast.Ident); ok {
					for i := 0; i < sig.Params().Len(); i++ {
						if p.info.Uses[id] == sig.Params().At(i) {
							found[fn.FullName()] = i
						}
					}
				}
				return true
			})
		}
	}
	return found
}

// interfaceWrappers adds the methods of p's interfaces that a wrapper
// implements (the agent's Logger.Printf, which LineLogger implements).
func (p *checkedPkg) interfaceWrappers(wrappers map[string]int) {
	scope := p.pkg.Scope()
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		iface, ok := tn.Type().Underlying().(*types.Interface)
		if !ok {
			continue
		}
		for i := 0; i < iface.NumMethods(); i++ {
			m := iface.Method(i)
			for _, impl := range scope.Names() {
				it, ok := scope.Lookup(impl).(*types.TypeName)
				if !ok || types.IsInterface(it.Type()) || !types.Implements(it.Type(), iface) {
					continue
				}
				obj, _, _ := types.LookupFieldOrMethod(it.Type(), true, p.pkg, m.Name())
				if f, ok := obj.(*types.Func); ok {
					if idx, ok := wrappers[f.FullName()]; ok {
						wrappers[m.FullName()] = idx
					}
				}
			}
		}
	}
}

// checkCalls checks p's calls of wrappers with constant formats, and of
// Fprintln and Println, and returns how many it checked.
func (p *checkedPkg) checkCalls(t *testing.T, wrappers map[string]int) int {
	n := 0
	for _, f := range p.files {
		ast.Inspect(f, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := p.callee(call)
			if name == self+".Fprintln" || name == self+".Println" {
				args := call.Args
				if name == self+".Fprintln" {
					args = args[1:]
				}
				for _, a := range args {
					p.checkOperand(t, a, 'v')
				}
				n++
				return true
			}
			idx, ok := wrappers[name]
			if !ok || idx >= len(call.Args) || call.Ellipsis.IsValid() {
				return true
			}
			tv := p.info.Types[call.Args[idx]]
			if tv.Value == nil || tv.Value.Kind() != constant.String {
				t.Errorf("%s: %s: the format is not a constant", p.fset.Position(call.Pos()), name)
				return true
			}
			verbs := verbsOf(constant.StringVal(tv.Value))
			args := call.Args[idx+1:]
			if len(verbs) != len(args) {
				t.Errorf("%s: %s: %d verbs, %d operands", p.fset.Position(call.Pos()), name, len(verbs), len(args))
				return true
			}
			for i, a := range args {
				p.checkOperand(t, a, verbs[i])
			}
			n++
			return true
		})
	}
	return n
}

// verbsOf returns the verbs of format that take an operand.
func verbsOf(format string) []byte {
	var verbs []byte
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0123456789.", format[i]) >= 0 {
			i++
		}
		if i < len(format) && format[i] != '%' {
			verbs = append(verbs, format[i])
		}
	}
	return verbs
}

// checkOperand reports an operand whose type the verb cannot format.
func (p *checkedPkg) checkOperand(t *testing.T, arg ast.Expr, verb byte) {
	typ := p.info.Types[arg].Type
	if !formats(typ, verb) {
		t.Errorf("%s: %%%c of %s (%s): tinyfmt would print %%!%c(BADTYPE); convert it or give the type a String method",
			p.fset.Position(arg.Pos()), verb, types.ExprString(arg), typ, verb)
	}
}

// formats mirrors the package comment's rules, as supported does.
func formats(typ types.Type, verb byte) bool {
	if b, ok := typ.(*types.Basic); ok && b.Kind() == types.UntypedNil {
		return verb == 'v'
	}
	if hasMethod(typ, "Error") || hasMethod(typ, "String") {
		return strings.IndexByte("vsqxXw", verb) >= 0 && (verb != 'w' || hasMethod(typ, "Error"))
	}
	in := func(verbs string) bool { return strings.IndexByte(verbs, verb) >= 0 }
	switch typ := types.Unalias(typ).(type) {
	case *types.Basic:
		switch info := typ.Info(); {
		case typ.Kind() == types.Bool:
			return in("vt")
		case typ.Kind() == types.String:
			return in("vsqxX")
		case info&types.IsInteger != 0:
			return in("vdxXo")
		case info&types.IsFloat != 0:
			return in("vfeFgEG")
		}
	case *types.Slice:
		if e, ok := typ.Elem().(*types.Basic); ok {
			switch e.Kind() {
			case types.Byte:
				return in("sqxX")
			case types.String:
				return in("v")
			}
		}
	}
	return false
}

func hasMethod(typ types.Type, name string) bool {
	obj, _, _ := types.LookupFieldOrMethod(typ, false, nil, name)
	f, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	sig := f.Type().(*types.Signature)
	return sig.Params().Len() == 0 && sig.Results().Len() == 1 && types.Identical(sig.Results().At(0).Type(), types.Typ[types.String])
}
