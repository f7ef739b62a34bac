package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/windows/registry"
)

// ManagedPath is where IT deploys machine-wide settings on Windows as a file.
var ManagedPath = filepath.Join(programData(), "callguard", "managed.json")

// LoadManaged reads the machine-wide settings IT deployed on this machine,
// each source winning over the one before: %ProgramData%\callguard\managed.json,
// the values the MSI wrote from its public properties under
// HKLM\SOFTWARE\callguard, and the group policy (GPO, Intune) under
// HKLM\SOFTWARE\Policies\callguard.
func LoadManaged() (Managed, error) {
	var layers []valueLayer
	for _, key := range []string{WindowsInstallerKey, WindowsPolicyKey} {
		values, err := readRegistryValues(registry.LOCAL_MACHINE, key)
		if err != nil {
			return Managed{}, err
		}
		layers = append(layers, valueLayer{source: `HKLM\` + key, values: values})
	}
	return loadManagedLayers(ManagedPath, layers...)
}

// readRegistryValues returns every value of root\path by name, as strings:
// REG_SZ and REG_EXPAND_SZ as they are, REG_MULTI_SZ as a list, DWORD and
// QWORD in decimal. A missing key yields no values.
func readRegistryValues(root registry.Key, path string) (map[string][]string, error) {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open registry key %s: %w", path, err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return nil, fmt.Errorf("list registry key %s: %w", path, err)
	}
	values := make(map[string][]string, len(names))
	for _, name := range names {
		_, typ, err := k.GetValue(name, nil)
		if err != nil {
			return nil, fmt.Errorf("registry value %s\\%s: %w", path, name, err)
		}
		switch typ {
		case registry.SZ, registry.EXPAND_SZ:
			s, _, err := k.GetStringValue(name)
			if err != nil {
				return nil, fmt.Errorf("registry value %s\\%s: %w", path, name, err)
			}
			values[name] = []string{s}
		case registry.MULTI_SZ:
			ss, _, err := k.GetStringsValue(name)
			if err != nil {
				return nil, fmt.Errorf("registry value %s\\%s: %w", path, name, err)
			}
			values[name] = ss
		case registry.DWORD, registry.QWORD:
			n, _, err := k.GetIntegerValue(name)
			if err != nil {
				return nil, fmt.Errorf("registry value %s\\%s: %w", path, name, err)
			}
			// A DWORD of 0xFFFFFFFF is how GPO writes -1.
			if typ == registry.DWORD {
				values[name] = []string{strconv.FormatInt(int64(int32(uint32(n))), 10)}
			} else {
				values[name] = []string{strconv.FormatInt(int64(n), 10)}
			}
		default:
			return nil, fmt.Errorf("registry value %s\\%s has type %d; want a string, a multi-string or a number", path, name, typ)
		}
	}
	return values, nil
}

func programData() string {
	if v := os.Getenv("ProgramData"); v != "" {
		return v
	}
	return `C:\ProgramData`
}

func userDataDir() (string, error) {
	if v := os.Getenv("LocalAppData"); v != "" {
		return v, nil
	}
	return "", errors.New("%LocalAppData% is not set")
}
