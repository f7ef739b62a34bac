package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"howett.net/plist"
)

// valueLayer is one set of named values (see ManagedFromValues) and where it
// came from.
type valueLayer struct {
	source string
	values map[string][]string
}

// loadManagedLayers reads the machine-wide file at path and lays each layer
// of named values over it in turn, the last one winning. Every OS's
// LoadManaged is this with its own locations, so the priority is tested once
// on any OS.
func loadManagedLayers(path string, layers ...valueLayer) (Managed, error) {
	m, err := ReadManagedFile(path)
	if err != nil {
		return Managed{}, err
	}
	for _, l := range layers {
		if len(l.values) == 0 {
			continue
		}
		over, err := ManagedFromValues(l.source, l.values)
		if err != nil {
			return Managed{}, err
		}
		if m, err = MergeManaged(m, over); err != nil {
			return Managed{}, err
		}
	}
	return m, nil
}

// ReadManagedPreferences reads a macOS preferences file (an XML or binary
// property list, as MDM writes to /Library/Managed Preferences) and returns
// its values by name for ManagedFromValues. A missing file yields no values.
func ReadManagedPreferences(path string) (map[string][]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read managed preferences: %w", err)
	}
	var dict map[string]any
	if _, err := plist.Unmarshal(b, &dict); err != nil {
		return nil, fmt.Errorf("managed preferences %s: %w", path, err)
	}
	values, err := PreferenceValues(dict)
	if err != nil {
		return nil, fmt.Errorf("managed preferences %s: %w", path, err)
	}
	return values, nil
}

// PreferenceValues converts a decoded property-list dictionary (strings,
// numbers, booleans and arrays of them) to named values for
// ManagedFromValues.
func PreferenceValues(dict map[string]any) (map[string][]string, error) {
	values := make(map[string][]string, len(dict))
	keys := make([]string, 0, len(dict))
	for k := range dict {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		v := dict[k]
		if arr, ok := v.([]any); ok {
			for i, item := range arr {
				s, err := preferenceString(item)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s[%d]: %w", k, i, err))
					continue
				}
				values[k] = append(values[k], s)
			}
			continue
		}
		s, err := preferenceString(v)
		if err != nil {
			if strings.HasPrefix(k, "Payload") {
				continue // a profile's envelope, never ours
			}
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			continue
		}
		values[k] = []string{s}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return values, nil
}

func preferenceString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		// Property lists decode every integer as uint64; a negative one
		// (LocalAPIPort -1) comes back in two's complement.
		return strconv.FormatInt(int64(v), 10), nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatInt(int64(v), 10), nil
		}
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("a %T is not a string, number or list of them", v)
}
