package detguard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// loadedPackage is a parsed and type-checked package.
type loadedPackage struct {
	fset  *token.FileSet
	files []*ast.File
	types *types.Package
	info  *types.Info
}

// listedPackage holds the fields of "go list -json" output that load uses.
type listedPackage struct {
	ImportPath string
	Dir        string
	Export     string
	GoFiles    []string
	CgoFiles   []string
	ImportMap  map[string]string
	DepOnly    bool
	Error      *struct{ Err string }
}

// listFields is the -json field selection matching listedPackage.
const listFields = "ImportPath,Dir,Export,GoFiles,CgoFiles,ImportMap,DepOnly,Error"

// load parses the non-test files of the package in dir and type-checks them
// against the gc export data of its dependencies.
func load(dir string) (*loadedPackage, error) {
	if err := hasNonTestGoFiles(dir); err != nil {
		return nil, err
	}
	target, exports, err := goList(dir)
	if err != nil {
		return nil, err
	}

	fset := token.NewFileSet()
	names := append(append([]string(nil), target.GoFiles...), target.CgoFiles...)
	files := make([]*ast.File, 0, len(names))
	var parseErrs []error
	for _, name := range names {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			parseErrs = append(parseErrs, err)
			continue
		}
		files = append(files, f)
	}
	if len(parseErrs) > 0 {
		return nil, errors.Join(parseErrs...)
	}

	info := &types.Info{
		Types: make(map[ast.Expr]types.TypeAndValue),
		Defs:  make(map[*ast.Ident]types.Object),
		Uses:  make(map[*ast.Ident]types.Object),
	}
	var typeErrs []error
	conf := types.Config{
		Importer: &exportImporter{
			gc: importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
				file, ok := exports[path]
				if !ok || file == "" {
					return nil, fmt.Errorf("no export data for %q in go list output", path)
				}
				return os.Open(file)
			}),
			importMap: target.ImportMap,
		},
		Sizes:       types.SizesFor("gc", runtime.GOARCH),
		FakeImportC: len(target.CgoFiles) > 0,
		Error: func(err error) {
			if len(typeErrs) < 10 {
				typeErrs = append(typeErrs, err)
			}
		},
	}
	tpkg, _ := conf.Check(target.ImportPath, fset, files, info)
	if len(typeErrs) > 0 {
		return nil, fmt.Errorf("type-checking %s: %w", target.ImportPath, errors.Join(typeErrs...))
	}
	return &loadedPackage{fset: fset, files: files, types: tpkg, info: info}, nil
}

// hasNonTestGoFiles reports ErrNoGoFiles unless dir contains a .go file that
// is not a _test.go file.
func hasNonTestGoFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			return nil
		}
	}
	return ErrNoGoFiles
}

// goList runs "go list -export -deps -json" on the package in dir (from dir,
// so the go command finds the enclosing module itself) and returns the
// package together with the export data file of every package in its
// dependency graph, keyed by canonical import path.
func goList(dir string) (*listedPackage, map[string]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command("go", "list", "-export", "-deps", "-json="+listFields, ".")
	cmd.Dir = abs
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("go list -export -deps: %v\n%s", err, strings.TrimSpace(stderr.String()))
	}

	var target *listedPackage
	exports := make(map[string]string)
	dec := json.NewDecoder(&stdout)
	for {
		p := new(listedPackage)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("decoding go list output: %w", err)
		}
		if p.Error != nil {
			return nil, nil, fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
		if !p.DepOnly {
			target = p
		}
	}
	if target == nil {
		return nil, nil, fmt.Errorf("go list reported no package for %s", abs)
	}
	return target, exports, nil
}

// exportImporter imports packages from gc export data. It maps import paths
// as written in the checked package's source to canonical import paths (the
// go list ImportMap: vendoring and the like) before looking them up, which
// the gc importer with a custom lookup expects callers to do.
type exportImporter struct {
	gc        types.Importer
	importMap map[string]string
}

// Import implements types.Importer.
func (imp *exportImporter) Import(path string) (*types.Package, error) {
	if canonical, ok := imp.importMap[path]; ok {
		path = canonical
	}
	return imp.gc.Import(path)
}
