package packaging_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
)

// The versions the tests build with: fixed, so that what the tables must
// say is known, and independent of the checkout's tags.
const (
	testVersion    = "1.2.3-test" // what `callguard --version` prints
	testPkgVersion = "1.2.3"      // what the installers carry
)

// repoRoot is the checkout the tests build from.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// needCommands stops the test unless every program is on $PATH: a skip
// locally, a failure in CI (testrig.Need).
func needCommands(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		testrig.NeedCommand(t, n)
	}
}

// run runs a program in dir and returns its standard output; it fails the
// test with the program's output when it fails.
func run(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// makeTarget runs `make target` at the repository root with the test's
// versions and vars, logging how long it took (the Windows build is the
// slow one of the test run).
func makeTarget(t testing.TB, target string, vars ...string) {
	t.Helper()
	start := time.Now()
	// Niced: the builds share two cores with the rest of the test run,
	// whose timing-sensitive tests should not starve.
	args := append([]string{"-n", "19", "make", "-s", "-C", repoRoot(t), target, "VERSION=" + testVersion, "PKG_VERSION=" + testPkgVersion}, vars...)
	out, err := runErr(repoRoot(t), nil, "nice", args...)
	if err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
	}
	t.Logf("make %s: %v", target, time.Since(start).Round(time.Second))
}

// TestMain removes the build directories when every test is done.
func TestMain(m *testing.M) {
	code := m.Run()
	buildDirsMu.Lock()
	for _, d := range buildDirs {
		os.RemoveAll(d)
	}
	buildDirsMu.Unlock()
	os.Exit(code)
}

var (
	buildDirsMu sync.Mutex
	buildDirs   []string
)

// built holds an artefact that several tests inspect, built once per run.
type built struct {
	once sync.Once
	dir  string
	err  string // the first build's failure, repeated to later tests
}

// get builds the artefact with build on first use, into a directory that
// outlives the test that built it (TestMain removes it), and returns that
// directory.
func (b *built) get(t *testing.T, build func(t *testing.T, dir string)) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "callguard-packaging-*")
		if err != nil {
			b.err = err.Error()
			return
		}
		buildDirsMu.Lock()
		buildDirs = append(buildDirs, dir)
		buildDirsMu.Unlock()
		ok := t.Run("build", func(t *testing.T) { build(t, dir) })
		if !ok {
			b.err = "the build failed (see the build subtest)"
			return
		}
		b.dir = dir
	})
	if b.err != "" {
		t.Fatal(b.err)
	}
	if b.dir == "" {
		t.SkipNow() // the build skipped: a tool is missing outside CI
	}
	return b.dir
}

// msiTable returns the rows of one table of an MSI as msiinfo exports it:
// tab-separated, after the three header lines (names, types, table name).
func msiTable(t testing.TB, msi, table string) [][]string {
	t.Helper()
	// msiinfo writes the binary columns of a table (the Icon table's icons)
	// as files beside it: export from a scratch directory.
	out := run(t, t.TempDir(), nil, "msiinfo", "export", msi, table)
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(out, "\r\n", "\n"), "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("msiinfo export %s: no header:\n%s", table, out)
	}
	var rows [][]string
	for _, l := range lines[3:] {
		rows = append(rows, strings.Split(l, "\t"))
	}
	return rows
}

// fyneAppValue reads one `Key = "value"` of FyneApp.toml.
func fyneAppValue(t testing.TB, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `\s*=\s*"([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("FyneApp.toml has no %s", key)
	}
	return string(m[1])
}
