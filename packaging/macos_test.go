package packaging_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/callguard/callguard/app/config"
)

// The bundle is laid out by the same script on Linux as on a Mac, around a
// placeholder binary; only signing and the DMG need macOS.
func TestMacAppBundleLayout(t *testing.T) {
	needCommands(t, "bash", "sed", "install")
	dir := t.TempDir()
	bin := filepath.Join(dir, "callguard-darwin")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho placeholder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(dir, "out", "macos", "callguard.app")
	makeTarget(t, "dmg-layout", "DIST="+filepath.Join(dir, "out"), "MACOS_BINARY="+bin)

	var files []string
	err := filepath.Walk(app, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(app, p)
		if !fi.IsDir() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	want := []string{"Contents/Info.plist", "Contents/MacOS/callguard", "Contents/PkgInfo", "Contents/Resources/callguard.icns"}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("bundle files %v, want %v", files, want)
	}
	if fi, err := os.Stat(filepath.Join(app, "Contents", "MacOS", "callguard")); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("Contents/MacOS/callguard is not executable: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(app, "Contents", "PkgInfo")); string(b) != "APPL????" {
		t.Errorf("PkgInfo = %q", b)
	}
	if sum(t, filepath.Join(app, "Contents", "Resources", "callguard.icns")) != sum(t, filepath.Join(repoRoot(t), "assets", "icons", "callguard.icns")) {
		t.Error("the bundle's icon is not assets/icons/callguard.icns")
	}

	raw, err := os.ReadFile(filepath.Join(app, "Contents", "Info.plist"))
	if err != nil {
		t.Fatal(err)
	}
	checkXMLPlist(t, "Info.plist", raw)
	var info map[string]any
	if format, err := plist.Unmarshal(raw, &info); err != nil || format != plist.XMLFormat {
		t.Fatalf("Info.plist: format %d, %v; want an XML plist", format, err)
	}
	for key, want := range map[string]any{
		"CFBundleIdentifier":            config.MacPreferencesDomain, // the domain MDM profiles target
		"CFBundleExecutable":            "callguard",
		"CFBundleIconFile":              "callguard.icns",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    testPkgVersion,
		"CFBundleVersion":               testPkgVersion,
		"CFBundleInfoDictionaryVersion": "6.0",
		"NSMicrophoneUsageDescription":  fyneAppValue(t, "MicrophoneUsage"),
		"NSHighResolutionCapable":       true,
	} {
		if info[key] != want {
			t.Errorf("Info.plist %s = %#v, want %#v", key, info[key], want)
		}
	}
	if config.MacPreferencesDomain != fyneAppValue(t, "ID") {
		t.Errorf("FyneApp.toml ID %q differs from the preferences domain %q the app reads", fyneAppValue(t, "ID"), config.MacPreferencesDomain)
	}
	if v, _ := info["CFBundleGetInfoString"].(string); !strings.Contains(v, testVersion) {
		t.Errorf("CFBundleGetInfoString %q does not carry the build's version %s", v, testVersion)
	}
	if _, err := os.Stat(filepath.Join(app, "Contents", "Resources", info["CFBundleIconFile"].(string))); err != nil {
		t.Errorf("CFBundleIconFile: %v", err)
	}
}

// The example MDM profile is a configuration profile whose managed
// preferences for dev.callguard.desktop carry every value the app reads,
// under the names it reads them by.
func TestMobileconfigCarriesEveryManagedValue(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "packaging", "macos", "callguard.mobileconfig"))
	if err != nil {
		t.Fatal(err)
	}
	checkXMLPlist(t, "callguard.mobileconfig", raw)
	var profile struct {
		PayloadType, PayloadIdentifier, PayloadUUID, PayloadScope string
		PayloadVersion                                            int
		PayloadContent                                            []struct {
			PayloadType, PayloadIdentifier, PayloadUUID string
			PayloadVersion                              int
			PayloadContent                              map[string]struct {
				Forced []struct {
					Settings map[string]any `plist:"mcx_preference_settings"`
				}
			}
		}
	}
	if _, err := plist.Unmarshal(raw, &profile); err != nil {
		t.Fatalf("callguard.mobileconfig: %v", err)
	}
	if profile.PayloadType != "Configuration" || profile.PayloadVersion != 1 || profile.PayloadScope != "System" {
		t.Errorf("profile type %q version %d scope %q, want a system-wide Configuration, version 1", profile.PayloadType, profile.PayloadVersion, profile.PayloadScope)
	}
	if len(profile.PayloadContent) != 1 {
		t.Fatalf("%d payloads, want one", len(profile.PayloadContent))
	}
	p := profile.PayloadContent[0]
	uuid := regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)
	if !uuid.MatchString(profile.PayloadUUID) || !uuid.MatchString(p.PayloadUUID) || p.PayloadUUID == profile.PayloadUUID {
		t.Errorf("PayloadUUIDs %q and %q must be distinct upper-case UUIDs", profile.PayloadUUID, p.PayloadUUID)
	}
	if p.PayloadType != "com.apple.ManagedClient.preferences" || !strings.HasPrefix(p.PayloadIdentifier, profile.PayloadIdentifier+".") {
		t.Errorf("payload %q (%s), want com.apple.ManagedClient.preferences under %s", p.PayloadType, p.PayloadIdentifier, profile.PayloadIdentifier)
	}
	domain, ok := p.PayloadContent[config.MacPreferencesDomain]
	if !ok || len(domain.Forced) != 1 {
		t.Fatalf("no Forced preferences for %s: %+v", config.MacPreferencesDomain, p.PayloadContent)
	}
	settings := domain.Forced[0].Settings
	var keys []string
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	names := config.ManagedValueNames()
	sort.Strings(names)
	if strings.Join(keys, " ") != strings.Join(names, " ") {
		t.Errorf("the profile sets %v, want every managed value %v", keys, names)
	}
	// What macOS writes to /Library/Managed Preferences is this dictionary;
	// the app's reader must accept it as a valid overlay.
	values, err := config.PreferenceValues(settings)
	if err != nil {
		t.Fatal(err)
	}
	m, err := config.ManagedFromValues("callguard.mobileconfig", values)
	if err != nil {
		t.Fatalf("the app would refuse the profile: %v", err)
	}
	officer := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(officer, []byte(`{"phone_system": {"extension": "2001"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(officer, m)
	if err != nil {
		t.Fatalf("the profile's settings do not load: %v", err)
	}
	if c.Server.URL != settings["ServerURL"] || c.PhoneSystem.Transport != settings["PhoneTransport"] {
		t.Errorf("loaded %+v from the profile %v", c, settings)
	}
}

// checkXMLPlist checks that b is well-formed XML with Apple's plist DOCTYPE,
// as plutil -lint would (plutil is not on Linux).
func checkXMLPlist(t *testing.T, name string, b []byte) {
	t.Helper()
	if !bytes.Contains(b, []byte(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`)) {
		t.Errorf("%s lacks the plist DOCTYPE", name)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
	}
}
