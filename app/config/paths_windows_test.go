package config

import (
	"fmt"
	"os"
	"reflect"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// The reader is exercised on a throwaway key under HKEY_CURRENT_USER, which a
// test may write without administrator rights; LoadManaged reads the same
// value types under HKLM.
func TestReadRegistryValuesOfEveryType(t *testing.T) {
	path := fmt.Sprintf(`Software\callguard-test-%d`, os.Getpid())
	k, _, err := registry.CreateKey(registry.CURRENT_USER, path, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close(); registry.DeleteKey(registry.CURRENT_USER, path) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(k.SetStringValue(ValueServerURL, "https://callguard.council.example"))
	must(k.SetExpandStringValue(ValuePhoneSystem, "pbx.council.example:5061"))
	must(k.SetStringsValue(ValueAllowedOrigins, []string{"https://crm.council.example", "https://pay.council.example"}))
	must(k.SetDWordValue(ValueLocalAPIPort, 0xFFFFFFFF))

	got, err := readRegistryValues(registry.CURRENT_USER, path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		ValueServerURL:      {"https://callguard.council.example"},
		ValuePhoneSystem:    {"pbx.council.example:5061"},
		ValueAllowedOrigins: {"https://crm.council.example", "https://pay.council.example"},
		ValueLocalAPIPort:   {"-1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("readRegistryValues = %v, want %v", got, want)
	}

	none, err := readRegistryValues(registry.CURRENT_USER, path+`\missing`)
	if err != nil || none != nil {
		t.Fatalf("missing key: %v, %v; want no values", none, err)
	}
}
