package kit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// toyDefinition is a small system: a reader lists the files and reads
// each (taking references first in design "ref", none in "bare"); a
// purger deletes every file but the newest, honouring the references
// unless variant ignore-refs is on.
func toyDefinition() Definition {
	k := Kind{Name: "f", Dir: "/d", Prefix: "f-", Ext: ".f"}
	return Definition{
		Name: "toy", Summary: "a reader and a purger",
		Designs:       []model.Info{{Name: "ref", Summary: "reference before reading"}, {Name: "bare", Summary: "no references"}},
		DefaultDesign: "ref",
		Profiles:      []Profile{{Name: "many", Summary: "more files", Values: []Value{{Name: "files", Value: 6}}}},
		Variants:      []model.Info{{Name: "ignore-refs", Summary: "the purger ignores references"}},
		Settings:      []Setting{{Name: "files", Summary: "files at start", Default: 3, Min: 1, Max: 10}},
		Groups:        []string{"node"},
		Actors: func(Config) []Actor {
			return []Actor{
				{Name: "reader", Summary: "lists and reads", Ops: []model.Info{{Name: "read"}}, FS: true, Watched: true, Group: "node", Footprint: Declared()},
				{Name: "purger", Summary: "deletes old files", Ops: DeleterOps, FS: true, Daemon: true, Group: "node", Footprint: Declared()},
			}
		},
		Setup: func(w *World, cfg Config) error {
			if err := w.MkdirAll(k.Dir); err != nil {
				return err
			}
			n := uint64(cfg.Int("files"))
			for g := uint64(1); g <= n; g++ {
				if err := WriteFile(w.FS(), k.Path(g), []byte("x")); err != nil {
					return err
				}
			}
			refs := NewRefCounts(w, "refs")
			var honours, ignores []Protection
			if cfg.Variant("ignore-refs") {
				ignores = []Protection{refs}
			} else {
				honours = []Protection{refs}
			}
			d := NewDeleter(w, "purger", honours, ignores)
			w.Spawn("reader", func(a *sim.Actor) {
				files, err := List(w.FS(), k)
				if err != nil {
					panic(err)
				}
				if cfg.Design == "ref" {
					for _, f := range files {
						refs.Ref(f, "reader")
					}
				}
				for _, f := range files {
					if _, err := ReadFile(w.FS(), f); err == nil {
						w.Record(sim.ClassAction, "read", f, "ok")
					}
				}
				if cfg.Design == "ref" {
					for _, f := range files {
						refs.Unref(f, "reader")
					}
				}
			})
			w.Spawn("purger", func(a *sim.Actor) {
				for g := uint64(1); g < n; g++ {
					_, _ = d.Delete(k.Path(g), "superseded")
				}
			})
			return nil
		},
		Finish: func(w *World) { w.Summarize("files left: %d", len(w.FS().Paths())) },
	}
}

func TestNewSystemChecksTheDefinition(t *testing.T) {
	for name, change := range map[string]func(*Definition){
		"want a name":       func(d *Definition) { d.Name = "Toy" },
		"no summary":        func(d *Definition) { d.Summary = "" },
		"default design":    func(d *Definition) { d.DefaultDesign = "nope" },
		"Actors and Setup":  func(d *Definition) { d.Setup = nil },
		"outside 1..10":     func(d *Definition) { d.Settings[0].Default = 11 },
		"unknown setting":   func(d *Definition) { d.Profiles[0].Values[0].Name = "nope" },
		`"ref" given twice`: func(d *Definition) { d.Designs[1].Name = "ref" },
		"commands without":  func(d *Definition) { d.Commands = []model.Command{{Name: "x"}} },
	} {
		def := toyDefinition()
		change(&def)
		if _, err := NewSystem(def); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := NewSystem(toyDefinition()); err != nil {
		t.Fatal(err)
	}
}

func TestConfigSettingsVariantsAndJSON(t *testing.T) {
	sys := MustNewSystem(toyDefinition())
	mc, err := sys.NewConfig("bare", "many")
	if err != nil {
		t.Fatal(err)
	}
	if mc.(Config).Int("files") != 6 {
		t.Errorf("profile many: files = %d, want 6", mc.(Config).Int("files"))
	}
	if mc, err = mc.WithVariant("ignore-refs"); err != nil {
		t.Fatal(err)
	}
	if mc, err = mc.WithSetting("files", 11); err != nil {
		t.Fatal(err)
	}
	if err := mc.Validate(); err == nil || !strings.Contains(err.Error(), "config: files must be in 1..10") {
		t.Errorf("Validate = %v", err)
	}
	if _, err := mc.WithSetting("nope", 1); err == nil || !strings.Contains(err.Error(), `unknown field "nope" (want one of files)`) {
		t.Errorf("unknown setting: %v", err)
	}
	if _, err := mc.WithVariant("nope"); err == nil || !strings.Contains(err.Error(), "ignore-refs") {
		t.Errorf("unknown variant: %v", err)
	}
	data, err := json.Marshal(mc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := sys.DecodeConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	c := back.(Config)
	if c.Design != "bare" || c.Profile != "many" || !c.Variant("ignore-refs") || c.Int("files") != 11 {
		t.Errorf("round trip: %+v", c)
	}
	if _, err := sys.DecodeConfig([]byte(`{"system":"other"}`)); err == nil {
		t.Error("a configuration of another system was decoded")
	}
	if _, err := sys.NewConfig("ref", "nope"); err == nil {
		t.Error("unknown profile accepted")
	}
}

func runToy(t *testing.T, design string, variants ...string) model.Outcome {
	t.Helper()
	sys := MustNewSystem(toyDefinition())
	mc, err := sys.NewConfig(design, "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range variants {
		if mc, err = mc.WithVariant(v); err != nil {
			t.Fatal(err)
		}
	}
	out, err := sys.Run(mc, sim.NewPRNG(3), sim.Config{KeepTrace: true, StopOnViolation: true}, model.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestToySweep: over fixed seeds, the bare reader is caught, the
// referencing one never; the ignoring purger is caught by its own
// deletion.
func TestToySweep(t *testing.T) {
	sys := MustNewSystem(toyDefinition())
	count := func(design string, variants ...string) map[sim.Kind]int {
		mc, _ := sys.NewConfig(design, "default")
		for _, v := range variants {
			mc, _ = mc.WithVariant(v)
		}
		got := map[sim.Kind]int{}
		for seed := uint64(0); seed < 200; seed++ {
			out, err := sys.Run(mc, sim.NewPRNG(seed), sim.Config{StopOnViolation: true}, model.Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Result.Observations {
				got[o.Kind]++
			}
		}
		return got
	}
	if got := count("bare"); got[sim.KindOpenDeletedFile] == 0 {
		t.Errorf("bare: observed %v, want open-deleted-file on some seed", got)
	}
	if got := count("ref"); len(got) != 0 {
		t.Errorf("ref: observed %v, want nothing", got)
	}
	if got := count("ref", "ignore-refs"); got[sim.KindGCDeletedPinnedFile] == 0 {
		t.Errorf("ref with ignore-refs: observed %v, want gc-deleted-pinned-file on some seed", got)
	}
	out := runToy(t, "ref")
	if len(out.Summary) != 1 || !strings.HasPrefix(out.Summary[0], "files left: ") {
		t.Errorf("summary %v", out.Summary)
	}
}

func TestToyRunsTheSameTwice(t *testing.T) {
	a, b := runToy(t, "bare"), runToy(t, "bare")
	if a.Result.TraceHash != b.Result.TraceHash || a.Result.Steps != b.Result.Steps {
		t.Errorf("two runs differ: %x/%d and %x/%d", a.Result.TraceHash, a.Result.Steps, b.Result.TraceHash, b.Result.Steps)
	}
}

// TestToyScenario: a scripted interleaving through the generic director,
// with hang of the group.
func TestToyScenario(t *testing.T) {
	sys := MustNewSystem(toyDefinition())
	mc, _ := sys.NewConfig("bare", "default")
	sc := model.Scenario{Name: "toy", Config: mc, Seed: 1, Steps: []model.ScenarioStep{
		{Kind: model.StepRunUntil, Actor: "reader", Op: "list", N: 1, Text: "run reader until list"},
		{Kind: model.StepRunUntil, Actor: "purger", Op: OpDelete, N: 1, Text: "run purger until delete"},
		{Kind: model.StepHang, Node: "node", Duration: sim.Millisecond, Text: "hang node for 1ms"},
		{Kind: model.StepRunUntil, Actor: "reader", Op: "open", N: 1, Text: "run reader until open"},
	}, Expect: []model.Expectation{{Kind: sim.KindOpenDeletedFile, Actor: "reader", Path: "/d/f-000001.f"}}}
	out, err := model.RunScenario(sys, sc, sim.Config{StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Check(out.Result, out.Script); err != nil {
		t.Error(err)
	}
}

func TestSetupErrorsAndUndeclaredActors(t *testing.T) {
	def := toyDefinition()
	def.Setup = func(w *World, cfg Config) error {
		w.Spawn("stranger", func(*sim.Actor) {})
		return nil
	}
	sys := MustNewSystem(def)
	mc, _ := sys.NewConfig("ref", "default")
	if _, err := sys.Run(mc, sim.NewPRNG(1), sim.Config{}, model.Hooks{}); err == nil || !strings.Contains(err.Error(), `no such actor declared`) {
		t.Errorf("undeclared actor: %v", err)
	}
}
