package packaging_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/pe"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/callguard/callguard/app/config"
)

// upgradeCode ties every version of callguard's MSI together: a new version
// replaces the installed one only while this never changes.
const upgradeCode = "{240E9E63-86DF-4943-A870-F652883ECE87}"

// The Windows build is the slow part of the run (minutes on a cold cache):
// it is made once, by `make msi` with a throwaway certificate, and every MSI
// test inspects that one build.
var windowsBuild built

// msiBuild holds the paths of the signed build.
type msiBuild struct {
	dir, msi, exe, caFile string
}

func buildMSI(t *testing.T) msiBuild {
	t.Helper()
	dir := windowsBuild.get(t, func(t *testing.T, dir string) {
		needCommands(t, "make", "go", "x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-windres",
			"dpkg-source", "apt-get", "wixl", "msibuild", "msiinfo", "osslsigncode", "openssl")
		pfx, passFile := makeSigningCertificate(t, dir)
		makeTarget(t, "msi", "DIST="+dir, "SIGN_PKCS12="+pfx, "SIGN_PASSWORD_FILE="+passFile)
	})
	return msiBuild{
		dir:    dir,
		msi:    filepath.Join(dir, "callguard-"+testPkgVersion+"-x64.msi"),
		exe:    filepath.Join(dir, "windows", "callguard.exe"),
		caFile: filepath.Join(dir, "ca.pem"),
	}
}

// makeSigningCertificate makes a throwaway CA and a code-signing certificate
// it issued, as IT's would be, and returns the certificate as a PKCS#12 file
// with its password in a file. ca.pem in dir is the CA, to verify against.
func makeSigningCertificate(t *testing.T, dir string) (pfx, passFile string) {
	t.Helper()
	newKey := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	caKey, leafKey := newKey(), newKey()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "callguard test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "callguard test code signing", Organization: []string{"callguard"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, blocks ...*pem.Block) string {
		p := filepath.Join(dir, name)
		var b []byte
		for _, bl := range blocks {
			b = append(b, pem.EncodeToMemory(bl)...)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	leafFile := write("signing.pem", &pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	keyFile := write("signing.key", &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	passFile = filepath.Join(dir, "signing.pass")
	if err := os.WriteFile(passFile, []byte(hex.EncodeToString(secret)), 0o600); err != nil {
		t.Fatal(err)
	}
	pfx = filepath.Join(dir, "signing.pfx")
	run(t, dir, nil, "openssl", "pkcs12", "-export", "-inkey", keyFile, "-in", leafFile,
		"-certfile", caFile, "-out", pfx, "-passout", "file:"+passFile)
	return pfx, passFile
}

// msiProperty is the MSI property IT sets for a managed value:
// ServerURL → SERVER_URL, LocalAPIPort → LOCAL_API_PORT.
func msiProperty(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	return b.String()
}

func TestMSIProductAndUpgrade(t *testing.T) {
	b := buildMSI(t)
	props := map[string]string{}
	for _, r := range msiTable(t, b.msi, "Property") {
		props[r[0]] = r[1]
	}
	for k, want := range map[string]string{
		"ProductName":    "callguard",
		"ProductVersion": testPkgVersion,
		"Manufacturer":   "callguard",
		"UpgradeCode":    upgradeCode,
		"ALLUSERS":       "1", // per machine
		"ARPPRODUCTICON": "callguard.ico",
	} {
		if props[k] != want {
			t.Errorf("Property %s = %q, want %q", k, props[k], want)
		}
	}
	sum := run(t, "", nil, "msiinfo", "suminfo", b.msi)
	if !strings.Contains(sum, "Template: x64;1033") {
		t.Errorf("summary information does not mark a 64-bit package:\n%s", sum)
	}

	// Major upgrade: older versions of the same UpgradeCode are found and
	// removed; a newer one installed stops the install.
	var older, newer bool
	for _, r := range msiTable(t, b.msi, "Upgrade") {
		if r[0] != upgradeCode {
			t.Errorf("Upgrade row for another product: %v", r)
			continue
		}
		attrs, _ := strconv.Atoi(r[4])
		switch {
		case r[1] == "" && r[2] == testPkgVersion && r[6] == "WIX_UPGRADE_DETECTED" && attrs&0x2 == 0: // msidbUpgradeAttributesOnlyDetect unset
			older = true
		case r[1] == testPkgVersion && r[6] == "WIX_DOWNGRADE_DETECTED":
			newer = true
		}
	}
	if !older || !newer {
		t.Errorf("Upgrade table does not find older (%v) and newer (%v) versions: %v", older, newer, msiTable(t, b.msi, "Upgrade"))
	}
	var blocksDowngrade bool
	for _, r := range msiTable(t, b.msi, "LaunchCondition") {
		blocksDowngrade = blocksDowngrade || r[0] == "NOT WIX_DOWNGRADE_DETECTED"
	}
	if !blocksDowngrade {
		t.Error("no launch condition stops an older MSI installing over a newer version")
	}
	seq := sequence(t, b.msi, "InstallExecuteSequence")
	if s, ok := seq["RemoveExistingProducts"]; !ok || s.n > seq["InstallInitialize"].n {
		t.Errorf("RemoveExistingProducts is not scheduled before InstallInitialize: %+v", s)
	}
}

func TestMSIInstallsTheSignedAppForEveryone(t *testing.T) {
	b := buildMSI(t)
	dirs := map[string][2]string{} // id → parent, name
	for _, r := range msiTable(t, b.msi, "Directory") {
		dirs[r[0]] = [2]string{r[1], r[2]}
	}
	if d := dirs["INSTALLDIR"]; d[0] != "ProgramFiles64Folder" || d[1] != "callguard" {
		t.Errorf("INSTALLDIR = %v, want callguard under ProgramFiles64Folder", d)
	}
	files := msiTable(t, b.msi, "File")
	if len(files) != 1 || files[0][2] != "callguard.exe" {
		t.Fatalf("File table = %v, want callguard.exe alone", files)
	}
	// The exe inside the MSI is the one the build signed.
	out := t.TempDir()
	run(t, "", nil, "msiextract", "-C", out, b.msi)
	inside := filepath.Join(out, "callguard", "callguard.exe")
	fi, err := os.Stat(inside)
	if err != nil {
		t.Fatalf("msiextract: %v", err)
	}
	if strconv.FormatInt(fi.Size(), 10) != files[0][3] {
		t.Errorf("File table says %s bytes, the extracted exe has %d", files[0][3], fi.Size())
	}
	verifySignature(t, inside, b.caFile)

	f, err := pe.Open(inside)
	if err != nil {
		t.Fatalf("callguard.exe: %v", err)
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || !ok {
		t.Fatalf("callguard.exe is not a 64-bit x86 PE (machine %#x)", f.Machine)
	}
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		t.Errorf("callguard.exe subsystem %d, want the GUI (no console window)", oh.Subsystem)
	}
	syms, err := f.ImportedSymbols() // "symbol:DLL"
	if err != nil {
		t.Fatal(err)
	}
	dlls := map[string]bool{}
	for _, s := range syms {
		if _, dll, ok := strings.Cut(s, ":"); ok {
			dlls[strings.ToUpper(dll)] = true
		}
	}
	var libs []string
	for d := range dlls {
		libs = append(libs, d)
	}
	sort.Strings(libs)
	joined := strings.Join(libs, " ")
	for _, want := range []string{"WINMM.DLL", "OPENGL32.DLL"} { // PortAudio's WMME host; fyne's GL
		if !strings.Contains(joined, want) {
			t.Errorf("callguard.exe does not import %s (imports %s): PortAudio or fyne missing", want, joined)
		}
	}
	if strings.Contains(joined, "LIBPORTAUDIO") || strings.Contains(joined, "OPUS") || strings.Contains(joined, "LIBGCC") || strings.Contains(joined, "LIBWINPTHREAD") {
		t.Errorf("callguard.exe needs DLLs the MSI does not ship: %s", joined)
	}
	// libopus is linked in: its version string is in the program (the
	// recordings are Opus, encoded by it).
	exe, err := os.ReadFile(inside)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`libopus \d+\.\d+`).Match(exe) {
		t.Error("callguard.exe holds no libopus version string: libopus was not linked in")
	}
	if oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE].Size == 0 {
		t.Error("callguard.exe has no resources (icon, version, manifest)")
	}
}

func TestMSIStartMenuShortcutAndAutostart(t *testing.T) {
	b := buildMSI(t)
	sc := msiTable(t, b.msi, "Shortcut")
	if len(sc) != 1 {
		t.Fatalf("Shortcut table = %v, want one", sc)
	}
	// Shortcut, Directory_, Name, Component_, Target, Arguments, Description, Hotkey, Icon_, IconIndex, ShowCmd, WkDir
	if s := sc[0]; s[1] != "ProgramMenuFolder" || s[2] != "callguard" || s[4] != "[INSTALLDIR]callguard.exe" || s[8] != "callguard.ico" || s[11] != "INSTALLDIR" {
		t.Errorf("Start-menu shortcut = %v", s)
	}
	icons := msiTable(t, b.msi, "Icon")
	if len(icons) != 1 || icons[0][0] != "callguard.ico" {
		t.Errorf("Icon table = %v", icons)
	}

	features := map[string]string{}
	for _, r := range msiTable(t, b.msi, "Feature") {
		features[r[0]] = r[5] // Level
	}
	if features["Complete"] != "1" || features["Autostart"] != "1000" {
		t.Errorf("features %v: want Complete always (1) and Autostart only when chosen (1000)", features)
	}
	var run bool
	for _, r := range registryRows(t, b.msi) {
		if r.key == `SOFTWARE\Microsoft\Windows\CurrentVersion\Run` && r.name == "callguard" {
			run = r.value == `"[INSTALLDIR]callguard.exe"` && r.root == "2" && featureOf(t, b.msi, r.component) == "Autostart"
		}
	}
	if !run {
		t.Error(`no HKLM Run value "callguard" = "[INSTALLDIR]callguard.exe" in the Autostart feature`)
	}
	seq := sequence(t, b.msi, "InstallExecuteSequence")
	if s := seq["SelectAutostart"]; s.n == 0 || s.n > seq["CostInitialize"].n || s.cond != `AUTOSTART = "1"` {
		t.Errorf(`AUTOSTART=1 does not select the Autostart feature before costing: %+v`, s)
	}
	ca := customActions(t, b.msi)
	if a := ca["SelectAutostart"]; a.source != "INSTALLLEVEL" || a.target != "1000" {
		t.Errorf("SelectAutostart = %+v, want INSTALLLEVEL=1000", a)
	}
}

// Every managed value the app reads on Windows has a public property that
// the MSI writes to HKLM\SOFTWARE\callguard, keeps on upgrade, and passes to
// the elevated install.
func TestMSIWritesEveryPublicPropertyWhereTheAppReadsIt(t *testing.T) {
	b := buildMSI(t)
	props := map[string]string{}
	for _, r := range msiTable(t, b.msi, "Property") {
		props[r[0]] = r[1]
	}
	secure := strings.Split(props["SecureCustomProperties"], ";")
	regs := registryRows(t, b.msi)
	locators := map[string][]string{}
	for _, r := range msiTable(t, b.msi, "RegLocator") {
		locators[r[0]] = r
	}
	appSearch := map[string]string{}
	for _, r := range msiTable(t, b.msi, "AppSearch") {
		appSearch[r[0]] = r[1]
	}
	seq := sequence(t, b.msi, "InstallExecuteSequence")
	uiSeq := sequence(t, b.msi, "InstallUISequence")
	ca := customActions(t, b.msi)

	for _, name := range config.ManagedValueNames() {
		prop := msiProperty(name)
		t.Run(prop, func(t *testing.T) {
			var written bool
			for _, r := range regs {
				if r.name == name && r.key == config.WindowsInstallerKey && r.root == "2" && r.value == "["+prop+"]" {
					written = featureOf(t, b.msi, r.component) == "Complete"
				}
			}
			if !written {
				t.Errorf(`no Registry row writes [%s] to HKLM\%s\%s in the Complete feature`, prop, config.WindowsInstallerKey, name)
			}
			if !contains(secure, prop) {
				t.Errorf("%s is not in SecureCustomProperties %v", prop, secure)
			}
			// Kept on upgrade: found in the registry by AppSearch...
			loc := locators[appSearch[prop]]
			if loc == nil || loc[1] != "2" || loc[2] != config.WindowsInstallerKey || loc[3] != name || loc[4] != "18" {
				t.Errorf("AppSearch of %s: RegLocator %v, want HKLM (2), %s, %s, raw 64-bit (18)", prop, loc, config.WindowsInstallerKey, name)
			}
			// ...unless the command line gives it: saved before the search, put back after.
			for _, s := range []map[string]step{seq, uiSeq} {
				save, restore := s["Save"+name], s["Restore"+name]
				if save.n == 0 || save.n >= s["AppSearch"].n {
					t.Errorf("Save%s (%d) does not run before AppSearch (%d)", name, save.n, s["AppSearch"].n)
				}
				if restore.n <= s["AppSearch"].n || restore.n >= s["LaunchConditions"].n || restore.cond != "CMDLINE_"+prop {
					t.Errorf("Restore%s = %+v, want after AppSearch (%d), before LaunchConditions, if CMDLINE_%s", name, restore, s["AppSearch"].n, prop)
				}
			}
			if a := ca["Save"+name]; a.source != "CMDLINE_"+prop || a.target != "["+prop+"]" {
				t.Errorf("Save%s = %+v", name, a)
			}
			if a := ca["Restore"+name]; a.source != prop || a.target != "[CMDLINE_"+prop+"]" {
				t.Errorf("Restore%s = %+v", name, a)
			}
		})
	}
	for _, r := range regs {
		if strings.EqualFold(r.key, config.WindowsPolicyKey) {
			t.Errorf("the MSI writes the group-policy key (%s\\%s): an uninstall would remove IT's GPO values", r.key, r.name)
		}
	}
	if !contains(secure, "AUTOSTART") {
		t.Errorf("AUTOSTART is not in SecureCustomProperties %v", secure)
	}
}

func TestMSIComponentsAre64Bit(t *testing.T) {
	b := buildMSI(t)
	for _, r := range msiTable(t, b.msi, "Component") {
		attrs, err := strconv.Atoi(r[3])
		if err != nil || attrs&256 == 0 { // msidbComponentAttributes64bit
			t.Errorf("component %s (attributes %s) is not 64-bit: its registry values would land in WOW6432Node", r[0], r[3])
		}
	}
}

func TestMSIAndExeSignaturesVerify(t *testing.T) {
	b := buildMSI(t)
	verifySignature(t, b.msi, b.caFile)
	verifySignature(t, b.exe, b.caFile)

	// The check can fail: a changed byte breaks the signature.
	data, err := os.ReadFile(b.msi)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.msi")
	i := len(data) / 2
	data[i] ^= 0xFF
	if err := os.WriteFile(tampered, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runErr("", nil, "osslsigncode", "verify", "-CAfile", b.caFile, "-in", tampered); err == nil {
		t.Errorf("osslsigncode verify accepts a tampered MSI:\n%s", out)
	}
	// Nor does a signature verify against a CA that did not issue it.
	other := filepath.Join(t.TempDir(), "other")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	makeSigningCertificate(t, other)
	if out, err := runErr("", nil, "osslsigncode", "verify", "-CAfile", filepath.Join(other, "ca.pem"), "-in", b.msi); err == nil {
		t.Errorf("osslsigncode verify accepts the MSI against an unrelated CA:\n%s", out)
	}
}

func TestMSIWithoutACertificateIsUnsignedAndSaysSo(t *testing.T) {
	b := buildMSI(t)
	out := filepath.Join(t.TempDir(), "unsigned.msi")
	env := []string{"SIGN_PKCS12=", "SIGN_CERT=", "SIGN_KEY=", "SIGN_PASSWORD_FILE="}
	// The exe the signed build made is signed already; an unsigned build
	// starts from a copy without its signature.
	plain := filepath.Join(t.TempDir(), "callguard.exe")
	run(t, "", nil, "osslsigncode", "remove-signature", "-in", b.exe, "-out", plain)
	log, err := runErr(repoRoot(t), env, "bash", "-c", `packaging/windows/build-msi.sh "$0" `+testPkgVersion+` "$1" 2>&1`, plain, out)
	if err != nil {
		t.Fatalf("build-msi.sh without a certificate: %v\n%s", err, log)
	}
	if !strings.Contains(log, "callguard.msi is NOT signed") {
		t.Errorf("an unsigned build does not say so:\n%s", log)
	}
	if res, err := runErr("", nil, "osslsigncode", "verify", "-in", out); err == nil {
		t.Errorf("osslsigncode verify passes an MSI built without a certificate:\n%s", res)
	}
}

func verifySignature(t *testing.T, file, caFile string) {
	t.Helper()
	out := run(t, "", nil, "osslsigncode", "verify", "-CAfile", caFile, "-in", file)
	if !strings.Contains(out, "Signature verification: ok") || !strings.Contains(out, "CN=callguard test code signing") {
		t.Errorf("osslsigncode verify %s:\n%s", filepath.Base(file), out)
	}
}

type regRow struct{ id, root, key, name, value, component string }

func registryRows(t *testing.T, msi string) []regRow {
	t.Helper()
	var rows []regRow
	for _, r := range msiTable(t, msi, "Registry") {
		rows = append(rows, regRow{r[0], r[1], r[2], r[3], r[4], r[5]})
	}
	return rows
}

// featureOf returns the feature a component belongs to.
func featureOf(t *testing.T, msi, component string) string {
	t.Helper()
	for _, r := range msiTable(t, msi, "FeatureComponents") {
		if r[1] == component {
			return r[0]
		}
	}
	return ""
}

type step struct {
	n    int
	cond string
}

func sequence(t *testing.T, msi, table string) map[string]step {
	t.Helper()
	s := map[string]step{}
	for _, r := range msiTable(t, msi, table) {
		n, err := strconv.Atoi(r[2])
		if err != nil {
			t.Fatalf("%s: sequence %q of %s", table, r[2], r[0])
		}
		s[r[0]] = step{n, r[1]}
	}
	return s
}

type customAction struct{ typ, source, target string }

func customActions(t *testing.T, msi string) map[string]customAction {
	t.Helper()
	m := map[string]customAction{}
	for _, r := range msiTable(t, msi, "CustomAction") {
		m[r[0]] = customAction{r[1], r[2], r[3]}
	}
	return m
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
