package packaging_test

import (
	"os"
	"testing"
)

// TestWindowsInstallerBuilds makes the signed MSI that the TestMSI… tests
// inspect. It comes first in the package on purpose: the Windows
// cross-build is the longest step of the whole test run, and started first
// it overlaps the other packages' builds instead of trailing them.
func TestWindowsInstallerBuilds(t *testing.T) {
	b := buildMSI(t)
	for _, p := range []string{b.msi, b.exe} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("make msi did not leave %s: %v", p, err)
		}
	}
}
