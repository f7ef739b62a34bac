package testrig

import (
	"os/exec"
	"strings"
	"testing"
)

// Deps returns the import paths pkg links (`go list -deps`, run in the test's
// package directory), so a test can hold the layout's import rules: which
// program may link which package.
func Deps(t testing.TB, pkg string) []string {
	t.Helper()
	goTool := NeedCommand(t, "go")
	out, err := exec.Command(goTool, "list", "-deps", pkg).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
