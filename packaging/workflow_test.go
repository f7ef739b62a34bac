package packaging_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The release workflow cannot run here; what can be checked is that it is a
// workflow GitHub accepts in shape, that it builds the DMG on macOS and the
// MSI on Linux with the tools it installs, and that every make target it
// calls exists.
func TestReleaseWorkflow(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Name string         `yaml:"name"`
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			RunsOn    string         `yaml:"runs-on"`
			Container string         `yaml:"container"`
			Strategy  map[string]any `yaml:"strategy"`
			Needs     []string       `yaml:"needs"`
			Steps     []struct {
				Name string            `yaml:"name"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]any    `yaml:"with"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	if wf.Name == "" || wf.On["push"] == nil || len(wf.Jobs) == 0 {
		t.Fatalf("release.yml has no name, push trigger or jobs: %+v", wf)
	}
	makeCall := regexp.MustCompile(`(?m)^\s*make ((?:[a-z][a-z0-9-]*[ \t]*)+)$`)
	var dmgOnMac, msiOnLinux bool
	targets := map[string]bool{}
	for id, job := range wf.Jobs {
		if job.RunsOn == "" || len(job.Steps) == 0 {
			t.Errorf("job %s has no runs-on or no steps", id)
		}
		for _, n := range job.Needs {
			if _, ok := wf.Jobs[n]; !ok {
				t.Errorf("job %s needs %s, which does not exist", id, n)
			}
		}
		var script string
		for i, s := range job.Steps {
			if (s.Uses == "") == (s.Run == "") {
				t.Errorf("job %s step %d (%s) must have exactly one of uses and run", id, i, s.Name)
			}
			if s.Uses != "" && !regexp.MustCompile(`^[\w.-]+/[\w.-]+@v\d+$`).MatchString(s.Uses) {
				t.Errorf("job %s step %d uses %q: want owner/action@vN", id, i, s.Uses)
			}
			script += s.Run + "\n"
		}
		for _, m := range makeCall.FindAllStringSubmatch(script, -1) {
			for _, target := range strings.Fields(m[1]) {
				targets[target] = true
			}
		}
		onMac := strings.Contains(job.RunsOn, "macos") ||
			strings.Contains(job.RunsOn, "matrix.runner") && strings.Contains(string(raw), "runner: macos")
		if onMac && strings.Contains(script, "make dmg") {
			dmgOnMac = true
			// The recorder links libopus (recorder/opus) and PortAudio.
			for _, pkg := range []string{"portaudio", "opus"} {
				if !regexp.MustCompile(`brew install [^\n]*\b` + pkg + `\b`).MatchString(script) {
					t.Errorf("job %s makes the DMG without brew installing %s", id, pkg)
				}
			}
		}
		if job.Container != "" || strings.Contains(job.RunsOn, "ubuntu") {
			if strings.Contains(script, "make msi") {
				for _, pkg := range []string{"wixl", "msitools", "osslsigncode", "gcc-mingw-w64-x86-64"} {
					if !strings.Contains(script, pkg) {
						t.Errorf("job %s runs make msi without installing %s", id, pkg)
					}
				}
				msiOnLinux = true
			}
		}
	}
	if !dmgOnMac {
		t.Error("no job builds the DMG (make dmg) on a macOS runner")
	}
	if !msiOnLinux {
		t.Error("no job builds the MSI (make msi) on Linux")
	}
	for target := range targets {
		if out, err := runErr(repoRoot(t), nil, "make", "-n", "-C", repoRoot(t), target, "MACOS_BINARY=x"); err != nil {
			t.Errorf("release.yml runs make %s, which the Makefile does not have: %v\n%s", target, err, out)
		}
	}
}

func TestPackageVersionIsNumeric(t *testing.T) {
	needCommands(t, "git", "bash")
	v := strings.TrimSpace(run(t, repoRoot(t), nil, "packaging/version.sh"))
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("packaging/version.sh = %q, want X.Y.Z (the MSI's ProductVersion)", v)
	}
	base := fyneAppValue(t, "Version")
	if tag, err := runErr(repoRoot(t), nil, "git", "describe", "--tags", "--exact-match"); err != nil {
		majorMinor := base[:strings.LastIndex(base, ".")]
		if !strings.HasPrefix(v, majorMinor+".") {
			t.Errorf("untagged version %s does not start with FyneApp.toml's %s", v, majorMinor)
		}
	} else {
		t.Logf("HEAD is tagged %s", strings.TrimSpace(tag))
	}
}
