package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callguard/callguard/app/config"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsRunManualWithTheEmbeddedServer(t *testing.T) {
	c, err := config.Load(filepath.Join(t.TempDir(), "missing.json"), config.Managed{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.PhoneSystem.Manual() || !c.Server.Embedded() {
		t.Fatalf("defaults: manual=%v embedded=%v, want both", c.PhoneSystem.Manual(), c.Server.Embedded())
	}
	if c.LocalAPI.Addr() != "127.0.0.1:7465" {
		t.Fatalf("local API at %q, want 127.0.0.1:7465", c.LocalAPI.Addr())
	}
}

func TestManagedSettingsWinOverTheOfficers(t *testing.T) {
	dir := t.TempDir()
	user := write(t, dir, "settings.json", `{"server": {"url": "https://officer-choice.example"}, "audio": {"officer_device": "Headset"}}`)
	managedPath := write(t, dir, "managed.json", `{
		"settings": {"server": {"url": "https://callguard.council.example"}, "phone_system": {"address": "pbx.council.example:5061", "transport": "tls", "extension": "2001"}},
		"policy": {"allowed_origins": ["https://crm.council.example"]}
	}`)
	m, err := config.ReadManagedFile(managedPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(user, m)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.URL != "https://callguard.council.example" {
		t.Errorf("server URL %q: IT's managed value must win", c.Server.URL)
	}
	if c.Audio.OfficerDevice != "Headset" {
		t.Errorf("officer's own device choice lost: %q", c.Audio.OfficerDevice)
	}
	if c.PhoneSystem.Transport != "tls" || c.PhoneSystem.Manual() {
		t.Errorf("phone system %+v not applied", c.PhoneSystem)
	}
	if !strings.Contains(string(m.Policy), "crm.council.example") {
		t.Errorf("managed policy overlay lost: %s", m.Policy)
	}
}

func TestSettingsFilesRefuseSecrets(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "settings.json", `{"phone_system": {"address": "pbx:5060", "extension": "1", "password": "hunter2"}}`)
	_, err := config.Load(p, config.Managed{})
	if !errors.Is(err, config.ErrSecretInFile) {
		t.Fatalf("Load = %v, want ErrSecretInFile", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatal("the error message repeats the secret")
	}
}

func TestInvalidSettingsAreExplained(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "settings.json", `{
		"phone_system": {"address": "pbx.example", "transport": "carrier-pigeon"},
		"server": {"url": "http://callguard.example"},
		"local_api": {"port": 70000}
	}`)
	_, err := config.Load(p, config.Managed{})
	if err == nil {
		t.Fatal("invalid settings accepted")
	}
	for _, want := range []string{"must be host:port", "carrier-pigeon", "must use https", "out of range"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	// IT presets the phone system machine-wide; the officer's extension
	// comes later, and until then calls are manual, not an error.
	preset := write(t, dir, "preset.json", `{"phone_system": {"address": "pbx.example:5060", "transport": "udp"}}`)
	c, err := config.Load(preset, config.Managed{})
	if err != nil {
		t.Fatalf("phone system without an extension: %v", err)
	}
	if !c.PhoneSystem.Manual() || !c.PhoneSystem.NeedsExtension() {
		t.Errorf("phone system %+v: want manual calls until the extension is set", c.PhoneSystem)
	}
	q := write(t, dir, "typo.json", `{"servr": {}}`)
	if _, err := config.Load(q, config.Managed{}); err == nil || !strings.Contains(err.Error(), "servr") {
		t.Errorf("typo not reported: %v", err)
	}
}

func TestSaveIsAtomicAndRoundTrips(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "settings.json")
	c := config.Default()
	c.Audio.CallerDevice = "Monitor of Built-in Audio"
	if err := config.Save(p, c); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(p, config.Managed{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Audio.CallerDevice != c.Audio.CallerDevice {
		t.Fatalf("round trip lost the caller device: %+v", got.Audio)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temporary files left beside the settings: %v", entries)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestLocalAPIIsLoopbackOnlyAndCanBeTurnedOff(t *testing.T) {
	if a := (config.LocalAPI{Port: 9000}).Addr(); a != "127.0.0.1:9000" {
		t.Errorf("Addr = %q", a)
	}
	if a := (config.LocalAPI{Port: -1}).Addr(); a != "" {
		t.Errorf("Addr with the API off = %q", a)
	}
}

// Saving from the settings window keeps IT's values out of the officer's
// file: they come from the managed settings at every start, and one IT
// withdraws must not linger. The officer's own value under a managed key
// survives, for when IT withdraws it.
func TestSaveOwnLeavesManagedValuesOut(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "settings.json", `{"phone_system": {"address": "old-pbx.example:5060", "transport": "udp", "extension": "1001"}}`)
	managed := config.Managed{Source: "test", Settings: json.RawMessage(`{
		"server": {"url": "https://callguard.example.org"},
		"phone_system": {"address": "pbx.example.org:5061", "transport": "tls"}
	}`)}
	c, err := config.Load(path, managed)
	if err != nil {
		t.Fatal(err)
	}
	c.Agent.Name = "Olive"
	c.PhoneSystem.Extension = "2002"
	if err := config.SaveOwn(path, c, managed); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "callguard.example.org") || strings.Contains(string(b), "pbx.example.org") {
		t.Errorf("the officer's file holds IT's values:\n%s", b)
	}
	again, err := config.Load(path, managed)
	if err != nil {
		t.Fatal(err)
	}
	if again != c {
		t.Errorf("reloaded with the managed settings:\n%+v\nwant\n%+v", again, c)
	}
	withdrawn, err := config.Load(path, config.Managed{})
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default().PhoneSystem
	want.Address, want.Transport, want.Extension = "old-pbx.example:5060", "udp", "2002"
	if withdrawn.Server.URL != "" || withdrawn.PhoneSystem != want || withdrawn.Agent.Name != "Olive" {
		t.Errorf("after IT withdrew its settings: server %q, phone system %+v, agent %+v", withdrawn.Server.URL, withdrawn.PhoneSystem, withdrawn.Agent)
	}
}

// The panel stays on top unless the officer turns it off; IT's managed
// settings force it back on, and the officer's own choice is what is saved.
func TestAlwaysOnTopIsOnByDefaultAndITCanForceIt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	c, err := config.Load(path, config.Managed{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Window.AlwaysOnTop || c.Window.Mini {
		t.Fatalf("default window %+v, want on top and the full panel", c.Window)
	}
	if err := os.WriteFile(path, []byte(`{"window": {"always_on_top": false, "mini": true}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = config.Load(path, config.Managed{}); err != nil || c.Window.AlwaysOnTop || !c.Window.Mini {
		t.Fatalf("officer's choice not kept: %+v, %v", c.Window, err)
	}
	managed := config.Managed{Source: "test", Settings: json.RawMessage(`{"window": {"always_on_top": true}}`)}
	if c, err = config.Load(path, managed); err != nil || !c.Window.AlwaysOnTop || !c.Window.Mini {
		t.Fatalf("IT's always_on_top not forced over the officer's: %+v, %v", c.Window, err)
	}
	if err := config.SaveOwn(path, c, managed); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var saved struct {
		Window map[string]bool `json:"window"`
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	if on := saved.Window["always_on_top"]; on || !saved.Window["mini"] {
		t.Errorf("saved %s: the officer's always_on_top (false) and mini (true) should be kept", b)
	}
}
