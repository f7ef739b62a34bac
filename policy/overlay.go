package policy

import (
	"encoding/json"
	"reflect"
	"strings"
)

// dropReplacedLists empties every list of v (a pointer to a struct) that
// the JSON object override gives again, recursing into the objects it
// gives, so that decoding override on top of v replaces each such list
// whole. encoding/json decodes a list into the elements already there,
// and an element would keep the fields its JSON leaves out (a pause
// reason would keep the hotkey of the reason that stood in its place).
// What override does not parse is left for the strict decoder to refuse.
func dropReplacedLists(v reflect.Value, override []byte) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(override, &fields) != nil {
		return
	}
	v = reflect.Indirect(v)
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		raw, ok := fields[name]
		if !ok || !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		switch {
		case fv.Kind() == reflect.Slice:
			fv.SetZero()
		case fv.Kind() == reflect.Struct:
			dropReplacedLists(fv, raw)
		case fv.Kind() == reflect.Pointer && !fv.IsNil() && fv.Elem().Kind() == reflect.Struct:
			dropReplacedLists(fv.Elem(), raw)
		}
	}
}
