package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Where IT's named values live on Windows and macOS. The names are here,
// not in the per-OS files, so that the installers' tests can check them.
const (
	// WindowsInstallerKey is the registry key under HKEY_LOCAL_MACHINE where
	// the MSI writes the public properties IT gave it.
	WindowsInstallerKey = `SOFTWARE\callguard`
	// WindowsPolicyKey is the registry key under HKEY_LOCAL_MACHINE that GPO
	// and Intune manage; its values win over the MSI's. The MSI never writes
	// it, so an install or uninstall cannot undo a group policy.
	WindowsPolicyKey = `SOFTWARE\Policies\callguard`
	// MacPreferencesDomain is the preference domain of the macOS app, its
	// bundle identifier, and the PayloadType of an MDM profile for it.
	MacPreferencesDomain = "dev.callguard.desktop"
	// MacManagedPreferencesDir holds the preferences MDM profiles enforce:
	// <dir>/<domain>.plist for the machine, <dir>/<user>/<domain>.plist for
	// one user.
	MacManagedPreferencesDir = "/Library/Managed Preferences"
)

// The names of the values IT sets machine-wide without writing JSON: the
// registry values under HKLM\SOFTWARE\callguard (written by the MSI from its
// public properties) and HKLM\SOFTWARE\Policies\callguard (GPO, Intune),
// and the keys of the macOS managed preferences of dev.callguard.desktop (an MDM profile). The
// MSI property of each is its name in upper case with underscores
// (ServerURL → SERVER_URL). Names are matched without regard to case.
const (
	ValueServerURL      = "ServerURL"      // settings server.url
	ValuePhoneSystem    = "PhoneSystem"    // settings phone_system.address, host:port
	ValuePhoneTransport = "PhoneTransport" // settings phone_system.transport: udp, tcp or tls
	ValuePhoneDomain    = "PhoneDomain"    // settings phone_system.domain
	ValueLocalAPIPort   = "LocalAPIPort"   // settings local_api.port; -1 turns the API off
	ValueRecipient      = "Recipient"      // policy recipients: age public keys
	ValueAllowedOrigins = "AllowedOrigins" // policy allowed_origins: origins of CRM and payment pages
)

// managedValue says where one named value goes in the JSON overlays.
type managedValue struct {
	name    string
	policy  bool   // in the policy overlay, else the settings overlay
	section string // settings section; "" for policy
	field   string
	list    bool // a list; a single string is split at commas and white space
	integer bool
	lower   bool
}

var managedValues = []managedValue{
	{name: ValueServerURL, section: "server", field: "url"},
	{name: ValuePhoneSystem, section: "phone_system", field: "address"},
	{name: ValuePhoneTransport, section: "phone_system", field: "transport", lower: true},
	{name: ValuePhoneDomain, section: "phone_system", field: "domain"},
	{name: ValueLocalAPIPort, section: "local_api", field: "port", integer: true},
	{name: ValueRecipient, policy: true, field: "recipients", list: true},
	{name: ValueAllowedOrigins, policy: true, field: "allowed_origins", list: true},
}

// ManagedValueNames lists the names ManagedFromValues understands, in the
// order of the documentation.
func ManagedValueNames() []string {
	names := make([]string, len(managedValues))
	for i, v := range managedValues {
		names[i] = v.name
	}
	return names
}

// ErrUnknownManagedValue is returned for a value name callguard does not know,
// so that a typo in a GPO or MDM profile is reported instead of ignored.
var ErrUnknownManagedValue = errors.New("unknown managed value")

// ManagedFromValues turns IT's named values (see ValueServerURL and the
// others) into the same JSON overlays as the machine-wide file. Each name
// maps to one or more strings: a registry REG_MULTI_SZ or a plist array gives
// several, a REG_SZ or plist string one (a list value may then separate its
// items with commas or white space). Empty values are left out, so an empty
// MSI property does not blank a setting. Names that start with "Payload" (the
// envelope keys of a configuration profile) or "**" (GPO deletion markers)
// are ignored; any other unknown name is an error.
func ManagedFromValues(source string, values map[string][]string) (Managed, error) {
	settings := map[string]map[string]any{}
	pol := map[string]any{}
	var errs []error
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names) // errors in a stable order
	for _, name := range names {
		if strings.HasPrefix(name, "Payload") || strings.HasPrefix(name, "**") {
			continue
		}
		mv, ok := lookupManagedValue(name)
		if !ok {
			errs = append(errs, fmt.Errorf("%w %q (known: %s)", ErrUnknownManagedValue, name, strings.Join(ManagedValueNames(), ", ")))
			continue
		}
		var v any
		switch items := cleanItems(values[name], mv.list); {
		case len(items) == 0:
			continue
		case mv.list:
			v = items
		case len(items) > 1:
			errs = append(errs, fmt.Errorf("%s: one value expected, got %d", mv.name, len(items)))
			continue
		case mv.integer:
			n, err := strconv.Atoi(items[0])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", mv.name, items[0]))
				continue
			}
			v = n
		case mv.lower:
			v = strings.ToLower(items[0])
		default:
			v = items[0]
		}
		if mv.policy {
			pol[mv.field] = v
			continue
		}
		if settings[mv.section] == nil {
			settings[mv.section] = map[string]any{}
		}
		settings[mv.section][mv.field] = v
	}
	if len(errs) > 0 {
		return Managed{}, fmt.Errorf("managed values from %s: %w", source, errors.Join(errs...))
	}
	m := Managed{Source: source}
	if len(settings) > 0 {
		m.Settings, _ = json.Marshal(settings) // maps of strings, ints and string slices always encode
	}
	if len(pol) > 0 {
		m.Policy, _ = json.Marshal(pol)
	}
	return m, nil
}

func lookupManagedValue(name string) (managedValue, bool) {
	for _, v := range managedValues {
		if strings.EqualFold(v.name, name) {
			return v, true
		}
	}
	return managedValue{}, false
}

// cleanItems trims the strings, drops empty ones and, for a list given as
// one string, splits it at commas and white space.
func cleanItems(in []string, list bool) []string {
	var out []string
	for _, s := range in {
		if list {
			out = append(out, strings.FieldsFunc(s, func(r rune) bool {
				return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
			})...)
			continue
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// MergeManaged lays over onto base: a value set in over wins, everything else
// in base stays. Objects are merged field by field, lists are replaced whole.
// Source names both, the winner first.
func MergeManaged(base, over Managed) (Managed, error) {
	s, err := mergeJSON(base.Settings, over.Settings)
	if err != nil {
		return Managed{}, fmt.Errorf("merge managed settings of %s and %s: %w", over.Source, base.Source, err)
	}
	p, err := mergeJSON(base.Policy, over.Policy)
	if err != nil {
		return Managed{}, fmt.Errorf("merge managed policy of %s and %s: %w", over.Source, base.Source, err)
	}
	src := over.Source
	switch {
	case base.Source == "":
	case src == "":
		src = base.Source
	default:
		src = over.Source + " over " + base.Source
	}
	return Managed{Source: src, Settings: s, Policy: p}, nil
}

func mergeJSON(base, over json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(over)) == 0 {
		return base, nil
	}
	if len(bytes.TrimSpace(base)) == 0 {
		return over, nil
	}
	var b, o any
	if err := json.Unmarshal(base, &b); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(over, &o); err != nil {
		return nil, err
	}
	out, err := json.Marshal(mergeValues(b, o))
	if err != nil {
		return nil, err
	}
	return out, nil
}

func mergeValues(base, over any) any {
	bm, ok1 := base.(map[string]any)
	om, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		return over
	}
	for k, v := range om {
		if old, ok := bm[k]; ok {
			bm[k] = mergeValues(old, v)
		} else {
			bm[k] = v
		}
	}
	return bm
}
