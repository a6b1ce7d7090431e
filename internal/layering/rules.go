package layering

import (
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Violation is one import that breaks a rule.
type Violation struct {
	// Importer and Imported are import paths relative to the module ("agent", "adapters/httpapi").
	Importer, Imported string
	// Test says the import is in a _test.go file.
	Test bool
	Rule string
}

func (v Violation) String() string {
	where := ""
	if v.Test {
		where = " (in a test)"
	}
	return fmt.Sprintf("%s imports %s%s: %s", v.Importer, v.Imported, where, v.Rule)
}

// shells are the component shells' top directories.
var shells = []string{"agent", "manager", "monitor", "plugin"}

// wirers may import adapters besides cmd/ and test-support packages.
var wirers = []string{"cmd", "e2e", "bench", "sim", "hack", "internal"}

// top returns the first element of a module-relative path.
func top(rel string) string { t, _, _ := strings.Cut(rel, "/"); return t }

// testSupport reports whether a package only exists for tests (agenttest, dataplanetest, ...).
func testSupport(rel string) bool { return strings.HasSuffix(filepath.Base(rel), "test") }

// check returns the rules that an import of imported by importer breaks; stdlib tells whether the
// import is of the standard library, rel its module-relative path otherwise ("" outside the module).
func check(importer, imported string, stdlib, test bool) []string {
	var broken []string
	from, to := top(importer), top(imported)
	if from == "core" && !stdlib && to != "core" {
		broken = append(broken, "core imports only the standard library and core")
	}
	if imported == "" {
		return broken
	}
	if to == "cmd" {
		broken = append(broken, "nothing imports cmd/: put shared code in a package")
	}
	if !test && !testSupport(importer) {
		if slices.Contains(shells, from) && (to == "adapters" || to == "fakes") {
			broken = append(broken, "a shell reaches the world through its ports; only cmd/ wires adapters and fakes")
		}
		if from == "adapters" && to == "fakes" || from == "fakes" && to == "adapters" {
			broken = append(broken, "adapters and fakes are two implementations of the same ports and never import each other")
		}
		if to == "adapters" && from != "adapters" && !slices.Contains(shells, from) && !slices.Contains(wirers, from) && from != "fakes" && from != "core" {
			broken = append(broken, "only cmd/ (and tests, e2e, bench, sim, hack) wire adapters")
		}
	}
	return broken
}

// Check walks the module rooted at root (module path module) and returns every violation, sorted.
func Check(root, module string) ([]Violation, error) {
	ctx := build.Default
	var out []Violation
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
			return filepath.SkipDir
		}
		pkg, err := ctx.ImportDir(path, build.ImportComment)
		if err != nil {
			var none *build.NoGoError
			if errors.As(err, &none) {
				return nil
			}
			var multi *build.MultiplePackageError
			if errors.As(err, &multi) {
				return nil
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		add := func(imports []string, test bool) {
			for _, imp := range imports {
				stdlib := !strings.Contains(top(imp), ".")
				var impRel string
				if imp == module || strings.HasPrefix(imp, module+"/") {
					impRel = strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
					stdlib = false
				}
				for _, rule := range check(rel, impRel, stdlib, test) {
					shown := impRel
					if shown == "" {
						shown = imp
					}
					out = append(out, Violation{Importer: rel, Imported: shown, Test: test, Rule: rule})
				}
			}
		}
		add(pkg.Imports, false)
		add(pkg.TestImports, true)
		add(pkg.XTestImports, true)
		return nil
	})
	slices.SortFunc(out, func(a, b Violation) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(out), err
}

// ModuleRoot finds the directory of go.mod above dir and the module path it declares.
func ModuleRoot(dir string) (root, module string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for line := range strings.SplitSeq(string(b), "\n") {
				if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					return d, strings.TrimSpace(m), nil
				}
			}
			return "", "", fmt.Errorf("%s/go.mod has no module line", d)
		}
		if filepath.Dir(d) == d {
			return "", "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}
