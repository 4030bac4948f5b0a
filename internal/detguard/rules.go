package detguard

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// wallClockFuncs are the functions of package time that read the wall clock
// or depend on real time passing.
var wallClockFuncs = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true,
	"After": true, "AfterFunc": true, "Tick": true,
	"NewTimer": true, "NewTicker": true,
}

// randV2Constructors are the package-level functions of math/rand/v2 that do
// not touch the global source.
var randV2Constructors = map[string]bool{
	"New": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true,
}

// mapIterFuncs are functions, by package path, whose result iterates a map
// (or, for golang.org/x/exp/maps, lists its keys or values) in map order.
var mapIterFuncs = map[string]map[string]bool{
	"maps":                  {"Keys": true, "Values": true, "All": true},
	"golang.org/x/exp/maps": {"Keys": true, "Values": true},
}

// sortFuncs are functions, by package path, that impose an order; calling
// one after a map range (in the same function) is taken as evidence that the
// range merely collects what is then sorted.
var sortFuncs = map[string]map[string]bool{
	"sort": {
		"Strings": true, "Ints": true, "Float64s": true,
		"Slice": true, "SliceStable": true, "Sort": true, "Stable": true,
	},
	"slices": {
		"Sort": true, "SortFunc": true, "SortStableFunc": true,
		"Sorted": true, "SortedFunc": true, "SortedStableFunc": true,
	},
}

// checker applies the rules to the files of one type-checked package and
// accumulates findings.
type checker struct {
	fset     *token.FileSet
	info     *types.Info
	pkg      *types.Package
	allowGo  []string
	findings []Finding
}

// report records a finding at pos.
func (c *checker) report(pos token.Pos, rule Rule, format string, args ...any) {
	p := c.fset.Position(pos)
	c.findings = append(c.findings, Finding{
		File:    p.Filename,
		Line:    p.Line,
		Rule:    rule,
		Message: fmt.Sprintf(format, args...),
	})
}

// checkFile applies every rule to f.
func (c *checker) checkFile(f *ast.File) {
	filename := c.fset.Position(f.Package).Filename
	goAllowed := slices.Contains(c.allowGo, filepath.Base(filename))

	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == "math/rand" {
			c.report(imp.Pos(), RuleGlobalRand,
				`import of "math/rand" (v1), whose top-level functions share a global source; `+
					`draw from the simulation's Choice or a seeded rand.New(rand.NewPCG(...)) of math/rand/v2`)
		}
	}

	directives := orderDirectives(c.fset, f)
	ast.PreorderStack(f, nil, func(n ast.Node, stack []ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			c.checkIdent(n)
		case *ast.GoStmt:
			if !goAllowed {
				c.report(n.Go, RuleGoStatement,
					"go statement starts a goroutine scheduled by the Go runtime, not the simulation; "+
						"run concurrent activities as coroutines (iter.Pull)")
			}
		case *ast.RangeStmt:
			c.checkRange(n, stack, directives)
		case *ast.CallExpr:
			c.checkMapIterCall(n, stack, directives)
		}
		return true
	})
}

// checkMapIterCall reports a call of maps.Keys, maps.Values or maps.All
// (or x/exp/maps.Keys, .Values) whose result is consumed other than by a
// range statement (which checkRange judges) — slices.Collect(maps.Values(m)),
// or an iterator passed on — unless it is the direct argument of
// slices.Sorted, SortedFunc or SortedStableFunc, the same function sorts
// afterwards, or the line above carries the directive.
func (c *checker) checkMapIterCall(call *ast.CallExpr, stack []ast.Node, directives map[int]string) {
	fn := c.callee(call)
	if fn == nil || !mapIterFuncs[fn.Pkg().Path()][fn.Name()] {
		return
	}
	if len(stack) > 0 {
		switch parent := stack[len(stack)-1].(type) {
		case *ast.RangeStmt:
			if ast.Unparen(parent.X) == call {
				return // checkRange's business
			}
		case *ast.CallExpr:
			if pf := c.callee(parent); pf != nil && pf.Pkg().Path() == "slices" &&
				(pf.Name() == "Sorted" || pf.Name() == "SortedFunc" || pf.Name() == "SortedStableFunc") {
				return // collected in sorted order
			}
		}
	}
	if body := enclosingFuncBody(stack); body != nil && c.sortsAfter(body, call.End()) {
		return
	}
	line := c.fset.Position(call.Pos()).Line
	for _, l := range []int{line - 1, line} {
		if reason, ok := directives[l]; ok {
			if reason != "" {
				return
			}
			c.report(call.Pos(), RuleMapRange, "%s: %s needs a reason", types.ExprString(call), OrderIndependentDirective)
			return
		}
	}
	c.report(call.Pos(), RuleMapRange,
		"%s yields in the map's random order and is consumed unsorted; "+
			"wrap it in slices.Sorted, sort afterwards in this function, or put %q on the line above",
		types.ExprString(call), OrderIndependentDirective+" <reason>")
}

// checkIdent reports uses of forbidden package-level functions of time and
// math/rand/v2. Resolving the identifier through go/types catches renamed
// and dot imports and ignores methods and unrelated names.
func (c *checker) checkIdent(id *ast.Ident) {
	fn := packageFunc(c.info.Uses[id])
	if fn == nil {
		return
	}
	switch path, name := fn.Pkg().Path(), fn.Name(); {
	case path == "time" && wallClockFuncs[name]:
		c.report(id.Pos(), RuleWallClock,
			"time.%s depends on the wall clock; use the simulation's virtual clock", name)
	case path == "math/rand/v2" && !randV2Constructors[name]:
		c.report(id.Pos(), RuleGlobalRand,
			"rand.%s (math/rand/v2) draws from the global, randomly seeded source; "+
				"draw from the simulation's Choice or a seeded rand.New(rand.NewPCG(...))", name)
	}
}

// checkRange reports a range statement over a map or a map iterator unless
// it binds no variables, is followed by a sort in the same function, or is
// annotated with OrderIndependentDirective.
func (c *checker) checkRange(rs *ast.RangeStmt, stack []ast.Node, directives map[int]string) {
	what := c.mapRangeSubject(rs.X)
	if what == "" || (isBlank(rs.Key) && isBlank(rs.Value)) {
		return
	}
	if body := enclosingFuncBody(stack); body != nil && c.sortsAfter(body, rs.End()) {
		return
	}

	// The directive may sit above the for or, for a labelled statement,
	// above the label.
	lines := []int{c.fset.Position(rs.For).Line - 1}
	if len(stack) > 0 {
		if l, ok := stack[len(stack)-1].(*ast.LabeledStmt); ok {
			lines = append(lines, c.fset.Position(l.Pos()).Line-1)
		}
	}
	for _, line := range lines {
		reason, ok := directives[line]
		if !ok {
			continue
		}
		if reason != "" {
			return
		}
		c.report(rs.For, RuleMapRange,
			"%s: %s needs a reason (e.g. %q)", what, OrderIndependentDirective,
			OrderIndependentDirective+" commutative sum")
		return
	}
	c.report(rs.For, RuleMapRange,
		"%s has a random iteration order; sort afterwards in this function, "+
			"or put %q on the line above", what, OrderIndependentDirective+" <reason>")
}

// mapRangeSubject describes x if ranging over it visits a map in runtime
// order, and returns "" otherwise.
func (c *checker) mapRangeSubject(x ast.Expr) string {
	if isMap(c.info.TypeOf(x)) {
		return fmt.Sprintf("range over map %s (%s)", types.ExprString(x),
			types.TypeString(c.info.TypeOf(x), types.RelativeTo(c.pkg)))
	}
	if call, ok := ast.Unparen(x).(*ast.CallExpr); ok {
		if fn := c.callee(call); fn != nil && mapIterFuncs[fn.Pkg().Path()][fn.Name()] {
			return fmt.Sprintf("range over %s", types.ExprString(x))
		}
	}
	return ""
}

// sortsAfter reports whether body contains, after pos, a call of one of
// sortFuncs.
func (c *checker) sortsAfter(body *ast.BlockStmt, pos token.Pos) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if found {
			return false
		}
		if call, ok := n.(*ast.CallExpr); ok && call.Pos() >= pos {
			if fn := c.callee(call); fn != nil && sortFuncs[fn.Pkg().Path()][fn.Name()] {
				found = true
			}
		}
		return true
	})
	return found
}

// callee returns the package-level function that call calls directly, if
// any, looking through parentheses and explicit instantiation.
func (c *checker) callee(call *ast.CallExpr) *types.Func {
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return packageFunc(c.info.Uses[f])
	case *ast.SelectorExpr:
		return packageFunc(c.info.Uses[f.Sel])
	}
	return nil
}

// packageFunc returns obj if it is a package-level function (not a method)
// and nil otherwise.
func packageFunc(obj types.Object) *types.Func {
	fn, ok := obj.(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Signature().Recv() != nil {
		return nil
	}
	return fn
}

// isMap reports whether t is a map type, or a type parameter whose type set
// contains only map types.
func isMap(t types.Type) bool {
	if t == nil {
		return false
	}
	if tp, ok := types.Unalias(t).(*types.TypeParam); ok {
		iface, _ := tp.Constraint().Underlying().(*types.Interface)
		return iface != nil && onlyMaps(iface)
	}
	_, ok := t.Underlying().(*types.Map)
	return ok
}

// onlyMaps reports whether one of the elements of the constraint iface
// restricts its type set to map types; the type set being an intersection,
// one such element suffices.
func onlyMaps(iface *types.Interface) bool {
	for i := range iface.NumEmbeddeds() {
		switch e := iface.EmbeddedType(i).(type) {
		case *types.Union:
			all := e.Len() > 0
			for j := range e.Len() {
				if _, ok := e.Term(j).Type().Underlying().(*types.Map); !ok {
					all = false
				}
			}
			if all {
				return true
			}
		default:
			switch u := e.Underlying().(type) {
			case *types.Map:
				return true
			case *types.Interface:
				if onlyMaps(u) {
					return true
				}
			}
		}
	}
	return false
}

// enclosingFuncBody returns the body of the innermost function declaration
// or literal on stack.
func enclosingFuncBody(stack []ast.Node) *ast.BlockStmt {
	for _, n := range slices.Backward(stack) {
		switch n := n.(type) {
		case *ast.FuncDecl:
			return n.Body
		case *ast.FuncLit:
			return n.Body
		}
	}
	return nil
}

// isBlank reports whether e is absent or the blank identifier.
func isBlank(e ast.Expr) bool {
	if e == nil {
		return true
	}
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && id.Name == "_"
}

// orderDirectives maps each line of f holding an OrderIndependentDirective
// comment to the directive's reason ("" if none was given).
func orderDirectives(fset *token.FileSet, f *ast.File) map[int]string {
	m := make(map[int]string)
	for _, group := range f.Comments {
		for _, cm := range group.List {
			rest, ok := strings.CutPrefix(cm.Text, OrderIndependentDirective)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				continue
			}
			m[fset.Position(cm.Slash).Line] = strings.TrimSpace(rest)
		}
	}
	return m
}
