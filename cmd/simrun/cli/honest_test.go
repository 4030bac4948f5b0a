package cli

// The CLI never reports success it did not earn: exit codes that mean the
// result, incomplete seeds apart from clean ones, outputs checked before
// the work, shard files whose every line is checksummed, strict .draws
// files, errors that name the right place, and the determinism check.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"github.com/stretchr/testify/require"
)

// writeFile writes a test input file into t's temporary directory.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

func TestReplayFileExitIsTheExpectation(t *testing.T) {
	// A buggy file whose failure shows: met, exit 0, even though the run
	// violated.
	r := mustExit(t, exitOK, "replay", corpusDir+"naive-default.seed")
	require.Contains(t, r.stdout, "outcome:    violation")
	require.Contains(t, r.stdout, "expectation: met")

	// A file whose expectation is not met: exit 1 whether or not anything
	// was observed.
	clean := writeFile(t, "clean.seed", "collector lease-retry\nseed 2\nexpect open-deleted-file\n")
	r = mustExit(t, exitViolation, "replay", clean)
	require.Contains(t, r.stdout, "outcome:    ok")
	require.Contains(t, r.stdout, "expectation: NOT MET: DRIFT")
	buggy := writeFile(t, "buggy.seed", "collector naive\nseed 1\nexpect none\n")
	r = mustExit(t, exitViolation, "replay", buggy)
	require.Contains(t, r.stdout, "expectation: NOT MET")

	// --json carries the expectation and its detail.
	var rep struct {
		Outcome     string `json:"outcome"`
		Expectation *struct {
			Met    bool   `json:"met"`
			Expect string `json:"expect"`
			Detail string `json:"detail"`
		} `json:"expectation"`
	}
	r = mustExit(t, exitViolation, "replay", clean, "--json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.NotNil(t, rep.Expectation)
	require.False(t, rep.Expectation.Met)
	require.Equal(t, "expect open-deleted-file", rep.Expectation.Expect)
	require.Contains(t, rep.Expectation.Detail, "DRIFT")
	r = mustExit(t, exitOK, "replay", corpusDir+"naive-default.seed", "--json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.True(t, rep.Expectation.Met)
	require.Equal(t, "violation", rep.Outcome)

	// A seed replay has no expectation member.
	r = mustExit(t, exitViolation, "replay", "--collector", "naive", "--seed", "1", "--json")
	require.NotContains(t, r.stdout, `"expectation"`)
}

func TestIncompleteSeedsAreNotClean(t *testing.T) {
	// Every seed stops after 10 steps: none is clean.
	r := mustExit(t, exitIncomplete, "run", "--collector", "lease-retry", "--seeds", "5", "--max-steps", "10")
	require.Contains(t, r.stdout, "WARNING: 5 seeds incomplete")
	require.Contains(t, r.stdout, "incomplete: collector lease-retry")
	require.Contains(t, r.stdout, "(5 run: 0 ok, 0 violating, 5 incomplete)")
	var rep struct {
		Outcome         string `json:"outcome"`
		IncompleteSeeds uint64 `json:"incomplete_seeds"`
		OKSeeds         uint64 `json:"ok_seeds"`
		FirstIncomplete *struct {
			Seed   uint64 `json:"seed"`
			Replay string `json:"replay"`
		} `json:"first_incomplete"`
	}
	r = mustExit(t, exitIncomplete, "run", "--collector", "lease-retry", "--seeds", "5", "--max-steps", "10", "--json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.Equal(t, "incomplete", rep.Outcome)
	require.EqualValues(t, 5, rep.IncompleteSeeds)
	require.Zero(t, rep.OKSeeds)
	require.EqualValues(t, 1, rep.FirstIncomplete.Seed)
	require.Contains(t, rep.FirstIncomplete.Replay, "--max-steps 10")

	// A violation outranks incomplete seeds.
	mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "20", "--max-steps", "320", "--keep-going")

	// Each --out line says so, and merge counts them apart.
	dir := t.TempDir()
	files := shardRuns(t, dir, 2, "run", "--collector", "lease-retry", "--seeds", "6", "--max-steps", "10", "--keep-going")
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.Contains(t, string(data), `"outcome":"incomplete"`)
	m := mustExit(t, exitIncomplete, "merge", files[0], files[1])
	require.Contains(t, m.stdout, "WARNING: 6 seeds incomplete")

	// replay of one seed: outcome incomplete, exit 3.
	r = mustExit(t, exitIncomplete, "replay", "--collector", "lease-retry", "--seed", "1", "--max-steps", "10")
	require.Contains(t, r.stdout, "outcome:    incomplete")

	// validate counts them in their own column and warns; it still exits
	// 0 (a measurement).
	v := mustExit(t, exitOK, "validate", "--collectors", "lease-retry", "--profiles", "default", "--seeds", "3", "--max-steps", "10")
	require.Regexp(t, `(?m)^lease-retry\s+default\s+3\s+0\s+3\s`, v.stdout)
	require.Contains(t, v.stdout, "WARNING: lease-retry × default: 3 seeds incomplete")
}

func TestOutputsAreCheckedBeforeTheWork(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "x.jsonl")
	require.NoError(t, os.WriteFile(existing, []byte("keep me\n"), 0o644))

	// run --out refuses an existing file without --force, before running.
	r := mustExit(t, exitUsage, "run", "--collector", "naive", "--seeds", "3", "--out", existing)
	require.Contains(t, r.stderr, "--out: "+existing+" already exists")
	require.Empty(t, r.stdout, "no seed may run before the output is known to be writable")
	data, _ := os.ReadFile(existing)
	require.Equal(t, "keep me\n", string(data))
	mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "3", "--out", existing, "--force")
	fi, err := os.Stat(existing)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	// A directory, and a missing directory, fail at once.
	r = mustExit(t, exitUsage, "run", "--collector", "naive", "--seeds", "3", "--out", dir)
	require.Contains(t, r.stderr, "is a directory")
	require.Empty(t, r.stdout)
	r = mustExit(t, exitUsage, "shrink", "--collector", "naive", "--seed", "1", "-o", filepath.Join(dir, "missing", "x.draws"))
	require.Contains(t, r.stderr, "does not exist")
	require.NotContains(t, r.stdout, "shrinking", "shrink must check -o before shrinking")
	r = mustExit(t, exitUsage, "timeline", "--collector", "naive", "--seed", "1", "-o", filepath.Join(dir, "missing", "x.svg"))
	require.Contains(t, r.stderr, "does not exist")

	// Files written by shrink are 0644 too, and nothing temporary is left.
	p := filepath.Join(dir, "s.draws")
	mustExit(t, exitOK, "shrink", "--collector", "naive", "--seed", "1", "--budget", "50", "-o", p)
	fi, err = os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), "."), "temporary file left behind: %s", e.Name())
	}
}

func TestReadOnlyDirectoryFailsEarly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only directories")
	}
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o555))
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	r := mustExit(t, exitUsage, "shrink", "--collector", "naive", "--seed", "1", "-o", filepath.Join(dir, "x.draws"))
	require.Contains(t, r.stderr, "cannot write in")
	require.NotContains(t, r.stdout, "shrinking")
}

// tamper returns a copy of a shard file with line i (0-based) replaced by
// edit(line).
func tamper(t *testing.T, path string, edit func(lines []string) []string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	require.NoError(t, os.WriteFile(out, []byte(strings.Join(edit(lines), "\n")+"\n"), 0o644))
	return out
}

func TestMergeVerifiesIntegrity(t *testing.T) {
	dir := t.TempDir()
	files := shardRuns(t, dir, 2, "run", "--collector", "naive", "--seeds", "20", "--keep-going")
	mustExit(t, exitViolation, "merge", files[0], files[1])

	// An edited outcome (a violating seed turned ok) is caught on its line.
	lines := strings.Split(strings.TrimSpace(mustRead(t, files[0])), "\n")
	victim := -1
	for i, l := range lines {
		if strings.Contains(l, `"outcome":"violation"`) {
			victim = i
			break
		}
	}
	require.Positive(t, victim, "shard 0 has no violating seed to tamper with")
	edited := tamper(t, files[0], func(ls []string) []string {
		ls[victim] = strings.Replace(ls[victim], `"outcome":"violation"`, `"outcome":"ok"`, 1)
		return ls
	})
	r := mustExit(t, exitUsage, "merge", edited, files[1])
	require.Contains(t, r.stderr, edited+":"+strconv.Itoa(victim+1)+": checksum mismatch")

	// An edited trace hash, likewise.
	edited = tamper(t, files[0], func(ls []string) []string {
		i := strings.Index(ls[2], `"trace_hash":"`) + len(`"trace_hash":"`)
		b := []byte(ls[2])
		b[i] ^= 1
		ls[2] = string(b)
		return ls
	})
	r = mustExit(t, exitUsage, "merge", edited, files[1])
	require.Contains(t, r.stderr, edited+":3: checksum mismatch")

	// Two seed lines swapped: each line is intact, the sequence is not.
	swapped := tamper(t, files[0], func(ls []string) []string {
		ls[1], ls[2] = ls[2], ls[1]
		return ls
	})
	r = mustExit(t, exitUsage, "merge", swapped, files[1])
	require.Contains(t, r.stderr, swapped+":2:")

	// A line without its checksum.
	bare := tamper(t, files[0], func(ls []string) []string {
		ls[1] = ls[1][:strings.LastIndex(ls[1], `,"sum":"`)] + "}"
		return ls
	})
	r = mustExit(t, exitUsage, "merge", bare, files[1])
	require.Contains(t, r.stderr, bare+":2: the line does not end with its checksum")
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestMergeNamesTheDifferingField(t *testing.T) {
	a := shardRuns(t, t.TempDir(), 2, "run", "--collector", "naive", "--seeds", "10", "--keep-going")
	b := shardRuns(t, t.TempDir(), 2, "run", "--collector", "naive", "--seeds", "10", "--keep-going", "--profile", "faults")
	r := mustExit(t, exitUsage, "merge", a[0], b[1])
	require.Contains(t, r.stderr, `another sweep than`)
	require.Contains(t, r.stderr, `profile "default" vs "faults"`)
	require.NotContains(t, r.stderr, "{", "the error names fields, not Go structs")
}

func TestDrawsFilesAreValidatedFully(t *testing.T) {
	p := filepath.Join(t.TempDir(), "good.draws")
	mustExit(t, exitOK, "shrink", "--collector", "naive", "--seed", "1", "--budget", "50", "-o", p)
	good := mustRead(t, p)
	mustExit(t, exitOK, "replay", p)
	variant := func(edit func(m map[string]any)) string {
		m := map[string]any{}
		require.NoError(t, json.Unmarshal([]byte(good), &m))
		edit(m)
		data, err := json.MarshalIndent(m, "", "  ")
		require.NoError(t, err)
		return writeFile(t, "bad.draws", string(data))
	}
	for _, c := range []struct {
		name, path, want string
	}{
		{"unknown kind", variant(func(m map[string]any) { m["expect"] = "open-deleted" }), `expect "open-deleted" is not a violation kind`},
		{"n=0", variant(func(m map[string]any) { m["draws"] = []any{map[string]any{"n": 0, "v": 0}} }), "draws[0] = {n: 0, v: 0}"},
		{"v>=n", variant(func(m map[string]any) { m["draws"] = []any{map[string]any{"n": 3, "v": 3}} }), "draws[0] = {n: 3, v: 3}: want n >= 1 and 0 <= v < n"},
		{"empty draws", variant(func(m map[string]any) { m["draws"] = []any{} }), "draws is empty"},
		{"missing draws", variant(func(m map[string]any) { delete(m, "draws") }), `missing member "draws"`},
		{"bad hash", variant(func(m map[string]any) { m["trace_hash"] = "xyz" }), "trace_hash"},
		{"trailing JSON", writeFile(t, "trail.draws", good+"{}\n"), "trailing data after the JSON object"},
		{"not JSON", writeFile(t, "junk.draws", "{\n  \"format\": \n"), "not JSON"},
	} {
		r := mustExit(t, exitUsage, "replay", c.path)
		require.Contains(t, r.stderr, c.want, c.name)
		require.Contains(t, r.stderr, c.path, c.name)
	}
}

func TestFlagErrorsSpeakTheCLIForm(t *testing.T) {
	r := mustExit(t, exitUsage, "run", "--keep-going=maybe")
	require.Contains(t, r.stderr, `--keep-going: "maybe" is not valid: want true or false`)
	require.NotContains(t, r.stderr, "strconv")
	r = mustExit(t, exitUsage, "bench", "--limit", "soon")
	require.NotContains(t, r.stderr, "time: invalid")

	// --save-dir's errors name the flag once.
	file := writeFile(t, "f", "x")
	r = mustExit(t, exitUsage, "run", "--collector", "naive", "--seeds", "3", "--save-dir", file)
	require.Equal(t, 1, strings.Count(r.stderr, "--save-dir"), r.stderr)
}

func TestCheckDeterminism(t *testing.T) {
	r := mustExit(t, exitOK, "run", "--collector", "lease-retry", "--seeds", "6", "--check-determinism")
	require.Contains(t, r.stdout, "6 re-run for determinism")
	r = mustExit(t, exitOK, "run", "--collector", "lease-retry", "--seeds", "6", "--check-determinism=3", "--json")
	require.Contains(t, r.stdout, `"determinism_checked": 2`)
	mustExit(t, exitUsage, "run", "--check-determinism=-1")

	// A model that behaves differently every other time it runs (a hidden
	// dependency on process state) is caught, with both hashes and the
	// first diverging event.
	calls := 0
	plain := modelRun
	modelRun = func(sys model.System, mc model.Config, choice sim.Choice, sc sim.Config) (model.Outcome, error) {
		calls++
		cfg := mc.(tikv.Config)
		if calls%2 == 0 {
			cfg.MaxPuts++
		}
		return sys.Run(cfg, choice, sc, model.Hooks{})
	}
	t.Cleanup(func() { modelRun = plain })
	r = mustExit(t, exitViolation, "run", "--collector", "lease-retry", "--seeds", "1", "--seed", "3", "--check-determinism", "--json")
	var rep struct {
		Violation struct {
			Kind   string `json:"kind"`
			Detail string `json:"detail"`
		} `json:"violation"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.Equal(t, "nondeterminism", rep.Violation.Kind)
	require.Regexp(t, `seed 3 gave trace hash [0-9a-f]{16}, then [0-9a-f]{16} in a fresh scheduler`, rep.Violation.Detail)
	require.Contains(t, rep.Violation.Detail, "first diverging event #")

	// validate counts it as a kind of its cell.
	calls = 0
	v := mustExit(t, exitOK, "validate", "--collectors", "lease-retry", "--profiles", "default", "--seeds", "1", "--check-determinism", "--format", "json")
	require.Contains(t, v.stdout, `"nondeterminism":1`)
}

func TestLongInputIsClipped(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	for _, args := range [][]string{
		{"run", "--seed", long},
		{"validate", "--format", long},
		{"validate", "--collectors", long},
		{"run", "--strategy", long},
		{"run", "--shard", long},
		{"run", "--" + long},
		{"run", "--keep-going=" + long},
		{"replay", long + ".txt"},
		{"collectors", long},
	} {
		r := mustExit(t, exitUsage, args...)
		name := strings.Join(args, " ")[:30]
		require.Less(t, len(r.stderr), 1000, "%s...: the error echoes the whole input", name)
		require.Contains(t, r.stderr, "bytes)", "%s...: the clipped echo says how long the input was", name)
	}
}
