package packaging_test

import (
	"bufio"
	"crypto/sha256"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/callguard/callguard/app/config"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// The Linux binary is built once (make deb builds it), then packaged twice.
var linuxBuild built

func buildLinux(t *testing.T) (dir, deb string) {
	t.Helper()
	dir = linuxBuild.get(t, func(t *testing.T, dir string) {
		needCommands(t, "make", "go", "gcc", "pkg-config", "dpkg-deb")
		makeTarget(t, "deb", "DIST="+dir)
	})
	return dir, filepath.Join(dir, "callguard_"+testPkgVersion+"_amd64.deb")
}

func TestDebControl(t *testing.T) {
	_, deb := buildLinux(t)
	for field, want := range map[string]string{
		"Package":      "callguard",
		"Version":      testPkgVersion,
		"Architecture": "amd64",
		"Section":      "net",
	} {
		if got := strings.TrimSpace(run(t, "", nil, "dpkg-deb", "--field", deb, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	info := run(t, "", nil, "dpkg-deb", "--info", deb)
	if !strings.Contains(info, "/etc/callguard/managed.json") {
		t.Errorf("the description does not tell IT where machine-wide settings go:\n%s", info)
	}
}

func TestDebContents(t *testing.T) {
	_, deb := buildLinux(t)
	entries := map[string]string{} // path → mode and owner
	for _, l := range strings.Split(run(t, "", nil, "dpkg-deb", "--contents", deb), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		entries[strings.TrimPrefix(f[len(f)-1], ".")] = f[0] + " " + f[1]
	}
	want := map[string]string{
		"/usr/bin/callguard":                                   "-rwxr-xr-x root/root",
		"/usr/share/applications/callguard.desktop":            "-rw-r--r-- root/root",
		"/usr/share/icons/hicolor/16x16/apps/callguard.png":    "-rw-r--r-- root/root",
		"/usr/share/icons/hicolor/256x256/apps/callguard.png":  "-rw-r--r-- root/root",
		"/usr/share/icons/hicolor/scalable/apps/callguard.svg": "-rw-r--r-- root/root",
		"/usr/share/doc/callguard/examples/managed.json":       "-rw-r--r-- root/root",
		"/usr/share/doc/callguard/deploy.md":                   "-rw-r--r-- root/root",
	}
	for p, mode := range want {
		if entries[p] != mode {
			t.Errorf("%s: %q, want %q", p, entries[p], mode)
		}
	}
	for p := range entries {
		if strings.HasPrefix(p, "/etc/") && p != "/etc/" {
			t.Errorf("%s: the package must not ship files in /etc (IT's managed.json would become a conffile)", p)
		}
	}
}

// What dpkg installs works: the binary runs, the desktop entry points at it
// and at icons of the sizes their directories claim, and the example
// managed.json is one the app accepts.
func TestDebInstallsAWorkingApp(t *testing.T) {
	_, deb := buildLinux(t)
	root := t.TempDir()
	run(t, "", nil, "dpkg-deb", "-x", deb, root)

	out := run(t, "", nil, filepath.Join(root, "usr", "bin", "callguard"), "--version")
	if strings.TrimSpace(out) != "callguard "+testVersion {
		t.Errorf("callguard --version = %q, want %q", out, "callguard "+testVersion)
	}

	entry := desktopEntry(t, filepath.Join(root, "usr", "share", "applications", "callguard.desktop"))
	if entry["Type"] != "Application" || entry["Name"] != "callguard" {
		t.Errorf("desktop entry %v", entry)
	}
	if _, err := os.Stat(filepath.Join(root, "usr", "bin", entry["Exec"])); err != nil {
		t.Errorf("desktop entry Exec=%s: %v", entry["Exec"], err)
	}
	icons, _ := filepath.Glob(filepath.Join(root, "usr", "share", "icons", "hicolor", "*x*", "apps", entry["Icon"]+".png"))
	if len(icons) < 6 {
		t.Errorf("desktop entry Icon=%s: %d PNG sizes in hicolor, want the usual ones", entry["Icon"], len(icons))
	}
	for _, p := range icons {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		size := filepath.Base(filepath.Dir(filepath.Dir(p))) // "48x48"
		if err != nil || strconv.Itoa(cfg.Width)+"x"+strconv.Itoa(cfg.Height) != size {
			t.Errorf("%s: %v, %dx%d", p, err, cfg.Width, cfg.Height)
		}
	}

	example := filepath.Join(root, "usr", "share", "doc", "callguard", "examples", "managed.json")
	m, err := config.ReadManagedFile(example)
	if err != nil {
		t.Fatalf("the example managed.json: %v", err)
	}
	officer := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(officer, []byte(`{"phone_system": {"extension": "2001"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(officer, m)
	if err != nil {
		t.Fatalf("the example managed.json does not load: %v", err)
	}
	if c.Server.URL == "" || c.PhoneSystem.Address == "" {
		t.Errorf("the example sets no server or phone system: %+v", c)
	}
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pol.Overlay(m.Policy); err != nil {
		t.Errorf("the example's policy does not apply: %v", err)
	}
}

// Every library the binary links comes from a package in Depends, and the
// libc6 bound covers the newest glibc symbol version it uses.
func TestDebDependsCoversEveryLinkedLibrary(t *testing.T) {
	dir, deb := buildLinux(t)
	needCommands(t, "readelf", "objdump", "dpkg-query", "ldconfig")
	bin := filepath.Join(dir, "linux", "callguard")
	depends := map[string]string{} // package → version constraint
	for _, d := range strings.Split(run(t, "", nil, "dpkg-deb", "--field", deb, "Depends"), ",") {
		d = strings.TrimSpace(d)
		name, constraint, _ := strings.Cut(d, " ")
		depends[name] = strings.Trim(constraint, "()")
	}
	ldcache := run(t, "", nil, "ldconfig", "-p")
	needed := regexp.MustCompile(`\(NEEDED\)\s+Shared library: \[([^\]]+)\]`).FindAllStringSubmatch(run(t, "", nil, "readelf", "-d", bin), -1)
	if len(needed) < 3 {
		t.Fatalf("readelf found %d needed libraries; the binary should link PortAudio, GL and X11", len(needed))
	}
	for _, n := range needed {
		lib := n[1]
		path := libraryPath(ldcache, lib)
		if path == "" {
			t.Errorf("%s: not in the linker cache", lib)
			continue
		}
		pkg := owningPackage(t, path)
		if _, ok := depends[pkg]; !ok {
			t.Errorf("%s comes from %s, which is not in Depends %v", lib, pkg, depends)
		}
	}
	var newest []int
	for _, v := range regexp.MustCompile(`GLIBC_(\d+)\.(\d+)`).FindAllStringSubmatch(run(t, "", nil, "objdump", "-T", bin), -1) {
		maj, _ := strconv.Atoi(v[1])
		minor, _ := strconv.Atoi(v[2])
		if newest == nil || maj > newest[0] || (maj == newest[0] && minor > newest[1]) {
			newest = []int{maj, minor}
		}
	}
	bound := regexp.MustCompile(`>= (\d+)\.(\d+)`).FindStringSubmatch(depends["libc6"])
	if newest == nil || bound == nil {
		t.Fatalf("libc6 bound %q, newest GLIBC symbol %v", depends["libc6"], newest)
	}
	bmaj, _ := strconv.Atoi(bound[1])
	bmin, _ := strconv.Atoi(bound[2])
	if bmaj < newest[0] || (bmaj == newest[0] && bmin < newest[1]) {
		t.Errorf("Depends libc6 (%s) is older than the GLIBC_%d.%d the binary uses", depends["libc6"], newest[0], newest[1])
	}
}

// fyne package -os linux makes the tarball fyne apps ship, from the same
// binary and FyneApp.toml.
func TestLinuxTarball(t *testing.T) {
	dir, _ := buildLinux(t)
	needCommands(t, "tar", "xz")
	toml := filepath.Join(repoRoot(t), "FyneApp.toml")
	before := sum(t, toml)
	makeTarget(t, "linux-tarball", "DIST="+dir)
	if sum(t, toml) != before {
		t.Error("make linux-tarball changed FyneApp.toml (fyne package counts Build up in the file it reads)")
	}
	tarball := filepath.Join(dir, "callguard-"+testPkgVersion+"-linux-amd64.tar.xz")
	id := fyneAppValue(t, "ID")
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(run(t, "", nil, "tar", "-tJf", tarball)), "\n") {
		names = append(names, strings.TrimSuffix(l, "/"))
	}
	sort.Strings(names)
	for _, want := range []string{
		"callguard/Makefile",
		"callguard/usr/local/bin/callguard",
		"callguard/usr/local/share/applications/" + id + ".desktop",
		"callguard/usr/local/share/pixmaps/" + id + ".png",
	} {
		if sort.SearchStrings(names, want) == len(names) || names[sort.SearchStrings(names, want)] != want {
			t.Errorf("the tarball lacks %s: %v", want, names)
		}
	}
	x := t.TempDir()
	run(t, "", nil, "tar", "-xJf", tarball, "-C", x)
	if sum(t, filepath.Join(x, "callguard", "usr", "local", "bin", "callguard")) != sum(t, filepath.Join(dir, "linux", "callguard")) {
		t.Error("the tarball's binary is not the one make linux built")
	}
	entry := desktopEntry(t, filepath.Join(x, "callguard", "usr", "local", "share", "applications", id+".desktop"))
	if entry["Name"] != fyneAppValue(t, "Name") || entry["Exec"] != "callguard" || entry["Icon"] != id || entry["GenericName"] != fyneAppValue(t, "GenericName") {
		t.Errorf("desktop entry %v does not carry FyneApp.toml's metadata", entry)
	}
	if sum(t, filepath.Join(x, "callguard", "usr", "local", "share", "pixmaps", id+".png")) != sum(t, filepath.Join(repoRoot(t), "assets", "icons", "callguard.png")) {
		t.Error("the tarball's icon is not assets/icons/callguard.png")
	}
}

func desktopEntry(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entry := map[string]string{}
	sc := bufio.NewScanner(f)
	section := ""
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "["):
			section = l
		case section == "[Desktop Entry]" && strings.Contains(l, "="):
			k, v, _ := strings.Cut(l, "=")
			entry[k] = v
		}
	}
	return entry
}

func libraryPath(ldcache, lib string) string {
	for _, l := range strings.Split(ldcache, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[0] == lib && strings.Contains(l, "x86-64") {
			return f[len(f)-1]
		}
	}
	return ""
}

// owningPackage names the Debian package that installed path, trying the
// path as the linker cache gives it and with symlinks resolved (usrmerge).
func owningPackage(t *testing.T, path string) string {
	t.Helper()
	candidates := []string{path}
	if r, err := filepath.EvalSymlinks(path); err == nil {
		candidates = append(candidates, r, strings.TrimPrefix(r, "/usr"))
	}
	for _, c := range candidates {
		if out, err := runErr("", nil, "dpkg-query", "-S", c); err == nil {
			pkg, _, _ := strings.Cut(strings.TrimSpace(out), ":")
			return pkg
		}
	}
	t.Errorf("no Debian package owns %s", path)
	return ""
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
