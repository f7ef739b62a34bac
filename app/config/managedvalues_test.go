package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

// orgKey is the age README's example recipient: a well-formed age1 key.
const orgKey = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

func writeFile(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func jsonOf(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("overlay %s: %v", raw, err)
	}
	return m
}

func TestManagedFromValues(t *testing.T) {
	tests := []struct {
		name         string
		values       map[string][]string
		settings     string // JSON, "" for none
		policy       string
		errSubstring string
	}{
		{
			name: "MSI properties as registry strings become both overlays",
			values: map[string][]string{
				"ServerURL":      {"https://callguard.council.example"},
				"PhoneSystem":    {"pbx.council.example:5061"},
				"PhoneTransport": {"TLS"},
				"Recipient":      {orgKey},
				"AllowedOrigins": {"https://crm.council.example, https://pay.council.example"},
			},
			settings: `{"server":{"url":"https://callguard.council.example"},"phone_system":{"address":"pbx.council.example:5061","transport":"tls"}}`,
			policy:   `{"recipients":["` + orgKey + `"],"allowed_origins":["https://crm.council.example","https://pay.council.example"]}`,
		},
		{
			name:     "lists given as a multi-string or plist array keep their items",
			values:   map[string][]string{"AllowedOrigins": {"https://a.example", " https://b.example "}, "LocalAPIPort": {"-1"}},
			settings: `{"local_api":{"port":-1}}`,
			policy:   `{"allowed_origins":["https://a.example","https://b.example"]}`,
		},
		{
			name:   "empty properties leave the setting alone",
			values: map[string][]string{"ServerURL": {""}, "Recipient": {"  "}, "PhoneSystem": nil},
		},
		{
			name:     "names match without regard to case; profile envelope keys are ignored",
			values:   map[string][]string{"serverurl": {"https://x.example"}, "PayloadUUID": {"F00"}, "**del.ServerURL": {""}},
			settings: `{"server":{"url":"https://x.example"}}`,
		},
		{
			name:         "a typo is reported, naming the known values",
			values:       map[string][]string{"ServerURI": {"https://x.example"}},
			errSubstring: `unknown managed value "ServerURI" (known: ServerURL,`,
		},
		{
			name:         "a port that is not a number is reported",
			values:       map[string][]string{"LocalAPIPort": {"seven"}},
			errSubstring: `LocalAPIPort: "seven" is not a whole number`,
		},
		{
			name:         "a single-valued setting given twice is reported",
			values:       map[string][]string{"ServerURL": {"https://a.example", "https://b.example"}},
			errSubstring: "ServerURL: one value expected, got 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ManagedFromValues("test", tt.values)
			if tt.errSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSubstring) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.errSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want json.RawMessage
			}{{"settings", m.Settings, json.RawMessage(tt.settings)}, {"policy", m.Policy, json.RawMessage(tt.policy)}} {
				if !reflect.DeepEqual(jsonOf(t, c.got), jsonOf(t, c.want)) {
					t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestUnknownManagedValueIsErrUnknownManagedValue(t *testing.T) {
	_, err := ManagedFromValues("test", map[string][]string{"Nope": {"1"}})
	if !errors.Is(err, ErrUnknownManagedValue) {
		t.Fatalf("err = %v, want ErrUnknownManagedValue", err)
	}
}

// effective applies m the way the desktop does: the officer's settings file,
// then the managed settings; the built-in policy, then the managed policy.
func effective(t *testing.T, officerSettings string, m Managed) (Config, *policy.Policy) {
	t.Helper()
	user := writeFile(t, filepath.Join(t.TempDir(), "settings.json"), officerSettings)
	c, err := Load(user, m)
	if err != nil {
		t.Fatalf("Load with managed from %s: %v", m.Source, err)
	}
	pol, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Policy) > 0 {
		if pol, err = pol.Overlay(m.Policy); err != nil {
			t.Fatalf("managed policy from %s: %v", m.Source, err)
		}
	}
	return c, pol
}

const (
	officerSettings = `{"server": {"url": "https://officer-choice.example"},
		"phone_system": {"address": "officer-pbx.example:5060", "transport": "udp", "extension": "2001"},
		"audio": {"officer_device": "Headset"}}`
	itFile = `{
		"settings": {"server": {"url": "https://from-the-file.example"}, "phone_system": {"domain": "council.example"}, "local_api": {"port": 7470}},
		"policy": {"recipients": ["age1fromthefile"], "allowed_origins": ["https://file-crm.example"]}
	}`
)

// The MSI writes every public property as a REG_SZ value under
// HKLM\SOFTWARE\callguard, empty when IT left it out; GPO and Intune write
// HKLM\SOFTWARE\Policies\callguard. LoadManaged on Windows lays both over
// %ProgramData%\callguard\managed.json, the group policy last.
func TestWindowsRegistryValuesWinOverTheFileAndTheOfficer(t *testing.T) {
	file := writeFile(t, filepath.Join(t.TempDir(), "ProgramData", "callguard", "managed.json"), itFile)
	msiWrote := map[string][]string{ // as readRegistryValues returns them
		ValueServerURL:      {"https://callguard.council.example"},
		ValuePhoneSystem:    {"pbx.council.example:5061"},
		ValuePhoneTransport: {"tls"},
		ValuePhoneDomain:    {""}, // not given on the msiexec line
		ValueRecipient:      {orgKey},
		ValueAllowedOrigins: {"https://crm.council.example https://pay.council.example"},
		ValueLocalAPIPort:   {""},
	}
	gpoSet := map[string][]string{ValueServerURL: {"https://callguard-gpo.council.example"}}
	m, err := loadManagedLayers(file,
		valueLayer{source: `HKLM\` + WindowsInstallerKey, values: msiWrote},
		valueLayer{source: `HKLM\` + WindowsPolicyKey, values: gpoSet})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Source, `HKLM\SOFTWARE\Policies\callguard over HKLM\SOFTWARE\callguard over `) {
		t.Errorf("source %q should name the group policy, then the MSI's key, then the file", m.Source)
	}
	c, pol := effective(t, officerSettings, m)
	if c.Server.URL != "https://callguard-gpo.council.example" {
		t.Errorf("server.url = %q, want the group policy's", c.Server.URL)
	}
	if c.PhoneSystem.Address != "pbx.council.example:5061" || c.PhoneSystem.Transport != "tls" {
		t.Errorf("phone system %s over %s, want the MSI's", c.PhoneSystem.Address, c.PhoneSystem.Transport)
	}
	if c.PhoneSystem.Domain != "council.example" || c.LocalAPI.Port != 7470 {
		t.Errorf("empty MSI values blanked the file's: domain %q, port %d", c.PhoneSystem.Domain, c.LocalAPI.Port)
	}
	if c.PhoneSystem.Extension != "2001" || c.Audio.OfficerDevice != "Headset" {
		t.Errorf("the officer's own values were lost: %+v", c)
	}
	if !reflect.DeepEqual(pol.Recipients, []string{orgKey}) {
		t.Errorf("recipients = %v, want the MSI's", pol.Recipients)
	}
	if !reflect.DeepEqual(pol.AllowedOrigins, []string{"https://crm.council.example", "https://pay.council.example"}) {
		t.Errorf("allowed origins = %v, want the MSI's", pol.AllowedOrigins)
	}
}

func TestWindowsWithoutRegistryValuesTheFileStillApplies(t *testing.T) {
	file := writeFile(t, filepath.Join(t.TempDir(), "managed.json"), itFile)
	m, err := loadManagedLayers(file, valueLayer{source: `HKLM\` + WindowsInstallerKey}, valueLayer{source: `HKLM\` + WindowsPolicyKey})
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != file {
		t.Errorf("source %q, want only the file", m.Source)
	}
	c, err := Load(writeFile(t, filepath.Join(t.TempDir(), "s.json"), officerSettings), m)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.URL != "https://from-the-file.example" {
		t.Errorf("server.url = %q, want the file's", c.Server.URL)
	}
}

func TestABadRegistryValueStopsLoading(t *testing.T) {
	file := filepath.Join(t.TempDir(), "missing.json")
	_, err := loadManagedLayers(file, valueLayer{source: `HKLM\` + WindowsPolicyKey, values: map[string][]string{"PhoneSytem": {"pbx:5060"}}})
	if !errors.Is(err, ErrUnknownManagedValue) || !strings.Contains(err.Error(), `HKLM\SOFTWARE\Policies\callguard`) {
		t.Fatalf("err = %v, want ErrUnknownManagedValue naming the key", err)
	}
}

// An MDM profile for dev.callguard.desktop ends up in /Library/Managed
// Preferences as a property list (binary or XML); LoadManaged on macOS reads
// the machine's, then the user's, over the JSON file.
func TestMacManagedPreferencesWinOverTheFileAndTheOfficer(t *testing.T) {
	root := t.TempDir()
	file := writeFile(t, filepath.Join(root, "Library", "Application Support", "callguard", "managed.json"), itFile)
	prefs := filepath.Join(root, "Library", "Managed Preferences")
	machine := filepath.Join(prefs, MacPreferencesDomain+".plist")
	writeFile(t, machine, `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>ServerURL</key><string>https://callguard.council.example</string>
	<key>PhoneSystem</key><string>pbx.council.example:5061</string>
	<key>PhoneTransport</key><string>tls</string>
	<key>Recipient</key><string>`+orgKey+`</string>
	<key>AllowedOrigins</key><array><string>https://crm.council.example</string></array>
	<key>LocalAPIPort</key><integer>-1</integer>
	<key>PayloadUUID</key><string>5A0B3C55-7D2C-4B5E-9E55-0C0A8A1F0001</string>
</dict>
</plist>`)
	// The user's profile, written the way macOS writes them: binary.
	userPrefs := map[string]any{"AllowedOrigins": []string{"https://crm.council.example", "https://team.council.example"}}
	bin, err := plist.Marshal(userPrefs, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	user := writeFile(t, filepath.Join(prefs, "officer", MacPreferencesDomain+".plist"), string(bin))

	var layers []valueLayer
	for _, p := range []string{machine, user} {
		v, err := ReadManagedPreferences(p)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, valueLayer{source: p, values: v})
	}
	m, err := loadManagedLayers(file, layers...)
	if err != nil {
		t.Fatal(err)
	}
	c, pol := effective(t, officerSettings, m)
	if c.Server.URL != "https://callguard.council.example" || c.PhoneSystem.Address != "pbx.council.example:5061" || c.PhoneSystem.Transport != "tls" {
		t.Errorf("settings %+v %+v, want the managed preferences'", c.Server, c.PhoneSystem)
	}
	if c.LocalAPI.Port != -1 || c.LocalAPI.Addr() != "" {
		t.Errorf("local_api.port = %d, want -1 (off) from the plist's negative integer", c.LocalAPI.Port)
	}
	if c.PhoneSystem.Domain != "council.example" {
		t.Errorf("the file's domain was lost: %q", c.PhoneSystem.Domain)
	}
	if c.PhoneSystem.Extension != "2001" {
		t.Errorf("the officer's extension was lost: %q", c.PhoneSystem.Extension)
	}
	if !reflect.DeepEqual(pol.Recipients, []string{orgKey}) {
		t.Errorf("recipients = %v, want the machine profile's", pol.Recipients)
	}
	if !reflect.DeepEqual(pol.AllowedOrigins, []string{"https://crm.council.example", "https://team.council.example"}) {
		t.Errorf("allowed origins = %v, want the user profile's", pol.AllowedOrigins)
	}
}

func TestMissingManagedPreferencesAreNoValues(t *testing.T) {
	v, err := ReadManagedPreferences(filepath.Join(t.TempDir(), "none.plist"))
	if err != nil || v != nil {
		t.Fatalf("ReadManagedPreferences(missing) = %v, %v; want nothing", v, err)
	}
}

func TestBrokenManagedPreferencesAreReported(t *testing.T) {
	for name, body := range map[string]string{
		"not a plist":       `{"ServerURL": "https://x.example"`,
		"a nested dict":     `<plist version="1.0"><dict><key>ServerURL</key><dict/></dict></plist>`,
		"data in an array":  `<plist version="1.0"><dict><key>Recipient</key><array><data>AAAA</data></array></dict></plist>`,
		"a date for a port": `<plist version="1.0"><dict><key>LocalAPIPort</key><date>2025-01-01T00:00:00Z</date></dict></plist>`,
	} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "p.plist"), body)
			if v, err := ReadManagedPreferences(p); err == nil {
				t.Fatalf("ReadManagedPreferences = %v, nil; want an error", v)
			}
		})
	}
}

func TestMergeManagedKeepsBaseFieldsAndReplacesLists(t *testing.T) {
	base := Managed{Source: "file", Settings: json.RawMessage(`{"server":{"url":"a","ca_file":"ca.pem"}}`), Policy: json.RawMessage(`{"recipients":["age1a","age1b"]}`)}
	over := Managed{Source: "registry", Settings: json.RawMessage(`{"server":{"url":"b"}}`), Policy: json.RawMessage(`{"recipients":["age1c"]}`)}
	m, err := MergeManaged(base, over)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, m.Settings), jsonOf(t, json.RawMessage(`{"server":{"url":"b","ca_file":"ca.pem"}}`)); !reflect.DeepEqual(got, want) {
		t.Errorf("settings = %v, want %v", got, want)
	}
	if got, want := jsonOf(t, m.Policy), jsonOf(t, json.RawMessage(`{"recipients":["age1c"]}`)); !reflect.DeepEqual(got, want) {
		t.Errorf("policy = %v, want %v", got, want)
	}
	if m.Source != "registry over file" {
		t.Errorf("source = %q", m.Source)
	}
}
