package seeds

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseScenario: the parser never panics, and every error it returns
// is a *ParseError that names the file and a line inside it (or one past
// its end, for what is missing).
func FuzzParseScenario(f *testing.F) {
	paths, _ := filepath.Glob("*.scenario")
	seedFiles, _ := filepath.Glob("*.seed")
	for _, p := range append(paths, seedFiles...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("run snap-gen until open 0x10\nsplit 1 at 4\nexpect none\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"fuzz.scenario", "fuzz.seed"} {
			file, err := Parse(name, data)
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("%s: error %v is not a *ParseError", name, err)
				}
				lines := strings.Count(string(data), "\n") + 1
				if pe.File != name || pe.Line < 0 || pe.Line > lines || !strings.HasPrefix(err.Error(), name+":") {
					t.Fatalf("%s: error %q names line %d of %d", name, err, pe.Line, lines)
				}
				continue
			}
			if file.Scenario.Config.Validate() != nil {
				t.Fatalf("%s: parsed an invalid configuration", name)
			}
			if len(file.Scenario.Expect) == 0 && !file.Scenario.ExpectNone && len(file.Scenario.ExpectNot) == 0 {
				t.Fatalf("%s: parsed without an expectation", name)
			}
		}
	})
}
