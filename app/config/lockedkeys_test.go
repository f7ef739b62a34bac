package config

import (
	"slices"
	"testing"
)

func TestLockedKeysNameEveryManagedField(t *testing.T) {
	m := Managed{Settings: []byte(`{"phone_system":{"address":"pbx:5060","transport":"tls"},"window":{"always_on_top":true}}`)}
	got := m.LockedKeys()
	slices.Sort(got)
	want := []string{"phone_system.address", "phone_system.transport", "window.always_on_top"}
	if !slices.Equal(got, want) {
		t.Fatalf("LockedKeys() = %v, want %v", got, want)
	}
	if got := (Managed{}).LockedKeys(); got != nil {
		t.Fatalf("no managed settings locked %v", got)
	}
}
