// Package detguard is the project's determinism guard: a static check that a
// simulation package never consults a source of nondeterminism that bypasses
// the seeded choice stream, so that a seed (or a recorded choice log) always
// replays the same run.
//
// [Check] parses and type-checks one package and reports four kinds of
// [Finding]:
//
//   - [RuleWallClock]: a use of a wall-clock or real-timer function of package
//     time (time.Now, time.Since, time.Until, time.Sleep, time.After,
//     time.AfterFunc, time.Tick, time.NewTimer, time.NewTicker), however the
//     package is imported (renamed or dot import included).
//   - [RuleGlobalRand]: any import of math/rand (v1), and any use of a
//     package-level function of math/rand/v2 other than the constructors
//     rand.New, rand.NewPCG, rand.NewChaCha8 and rand.NewZipf. Those functions
//     draw from a global, randomly seeded source.
//   - [RuleGoStatement]: a go statement, outside the files listed in
//     [Options.GoAllowedFiles]. Goroutines are scheduled by the Go runtime,
//     not by the simulation.
//   - [RuleMapRange]: a for-range over a map (or over maps.Keys, maps.Values
//     or maps.All of a map), whose order is randomised by the runtime, unless
//     the same function sorts afterwards (a call of sort.Strings, sort.Ints,
//     sort.Float64s, sort.Slice, sort.SliceStable, sort.Sort, sort.Stable,
//     slices.Sort, slices.SortFunc, slices.SortStableFunc, slices.Sorted,
//     slices.SortedFunc or slices.SortedStableFunc positioned after the range
//     statement), or the line above the for carries the directive
//     "//detguard:order-independent <reason>". A range that binds neither key
//     nor value ("for range m") only counts and is never reported. A call of
//     maps.Keys, maps.Values or maps.All consumed other than by a range
//     (slices.Collect(maps.Values(m)), an iterator passed to a function) is
//     reported under the same rule unless it is the direct argument of
//     slices.Sorted, SortedFunc or SortedStableFunc, the function sorts
//     afterwards, or the directive is on the line above.
//
// Type information comes from the gc export data that "go list -export"
// produces, so packages may import the standard library, third-party modules
// and other packages of their own module.
package detguard

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Rule names one determinism rule. Its value is the rule's name as printed in
// a [Finding].
type Rule string

// The rules that [Check] enforces.
const (
	// RuleWallClock reports reads of the wall clock and real timers.
	RuleWallClock Rule = "wall-clock"
	// RuleGlobalRand reports math/rand (v1) imports and uses of math/rand/v2's
	// global source.
	RuleGlobalRand Rule = "global-rand"
	// RuleGoStatement reports go statements.
	RuleGoStatement Rule = "go-statement"
	// RuleMapRange reports map iterations whose order can leak into behaviour.
	RuleMapRange Rule = "map-range"
)

// OrderIndependentDirective is the comment that exempts a map range from
// [RuleMapRange] when it is on the line immediately above the for statement.
// It must be followed by a space and a reason, for example:
//
//	//detguard:order-independent commutative sum of sizes
//	for _, sz := range sizes {
const OrderIndependentDirective = "//detguard:order-independent"

// ErrNoGoFiles is returned (wrapped) by [Check] when the directory holds no
// non-test .go files.
var ErrNoGoFiles = errors.New("no non-test Go files")

// Finding is one violation of a determinism rule.
type Finding struct {
	// File is the path of the offending file: the dir given to [Check]
	// joined with the file's base name.
	File string
	// Line is the 1-based line of the offending construct.
	Line int
	// Rule is the violated rule.
	Rule Rule
	// Message explains the violation and how to fix it.
	Message string
}

// String renders f as "file:line: rule: message".
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
}

// Options tune [Check].
type Options struct {
	// GoAllowedFiles lists file base names (e.g. "pool.go") in which go
	// statements are permitted.
	GoAllowedFiles []string
}

// Check parses and type-checks the Go package in dir (its non-test files, as
// selected by the build constraints of the current platform) and returns its
// determinism findings, sorted by file, then line. It runs "go list" once, in
// dir, to locate the export data of the package's dependencies.
//
// Check returns an error, and no findings, if dir holds no non-test Go files
// (wrapping [ErrNoGoFiles]), if "go list" fails, or if the package does not
// parse or type-check.
func Check(dir string, opts Options) ([]Finding, error) {
	pkg, err := load(dir)
	if err != nil {
		return nil, fmt.Errorf("detguard: %s: %w", dir, err)
	}
	c := &checker{
		fset:    pkg.fset,
		info:    pkg.info,
		pkg:     pkg.types,
		allowGo: opts.GoAllowedFiles,
	}
	for _, f := range pkg.files {
		c.checkFile(f)
	}
	slices.SortFunc(c.findings, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return c.findings, nil
}
