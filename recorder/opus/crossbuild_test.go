package opus_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/internal/testrig"
)

// recorder/opus cross-builds for 64-bit Windows with mingw-w64 against the
// static libopus of packaging/windows/build-opus.sh, and libopus is linked
// into the program: no DLL of it is imported, and its code is there. The
// program is testdata/winlink, not the whole app, to keep this quick.
func TestCrossBuildsForWindows(t *testing.T) {
	t.Parallel()
	testrig.NeedCommand(t, "x86_64-w64-mingw32-gcc")
	objdump := testrig.NeedCommand(t, "x86_64-w64-mingw32-objdump")
	testrig.NeedCommand(t, "dpkg-source")
	start := time.Now()
	script, err := filepath.Abs("../../packaging/windows/build-opus.sh")
	if err != nil {
		t.Fatal(err)
	}
	prefix := strings.TrimSpace(string(run(t, ".", nil, script)))
	t.Logf("libopus for Windows in %s (%v)", prefix, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	exe := filepath.Join(t.TempDir(), "winlink.exe")
	run(t, ".", []string{
		"CGO_ENABLED=1", "GOOS=windows", "GOARCH=amd64", "CC=x86_64-w64-mingw32-gcc",
		// _LIBDIR, not _PATH: pkg-config must not fall back on the Linux opus.pc.
		"PKG_CONFIG_LIBDIR=" + filepath.Join(prefix, "lib", "pkgconfig"),
	}, "nice", "go", "build", "-trimpath", "-o", exe, "./testdata/winlink")
	t.Logf("cross-built in %v", time.Since(start).Round(time.Millisecond))

	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("MZ")) {
		t.Fatal("the build is not a Windows executable")
	}
	headers := string(run(t, ".", nil, objdump, "-p", exe))
	if !strings.Contains(headers, "pei-x86-64") {
		t.Fatalf("not a 64-bit PE file:\n%.500s", headers)
	}
	dlls := regexp.MustCompile(`DLL Name: (\S+)`).FindAllStringSubmatch(headers, -1)
	if len(dlls) == 0 {
		t.Fatal("objdump lists no imported DLL at all")
	}
	for _, d := range dlls {
		if strings.Contains(strings.ToLower(d[1]), "opus") {
			t.Errorf("the program imports %s: libopus must be linked in statically", d[1])
		}
	}
	if !regexp.MustCompile(`libopus \d+\.\d+`).Match(b) {
		t.Error("libopus's version string is not in the program: it was not linked")
	}
	// opus_encode's code is there: its symbol is in the (unstripped) table.
	if syms := string(run(t, ".", nil, objdump, "-t", exe)); !strings.Contains(syms, "opus_encode") {
		t.Error("no opus_encode in the program's symbols")
	}
}

// run runs a program in dir with extra environment and returns its output;
// it fails the test with the program's errors when it fails.
func run(t testing.TB, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}
