package assets

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed policy.json
var defaultPolicy []byte

//go:embed policies
var policies embed.FS

// DefaultPolicy returns the JSON of the policy callguard uses when IT and the
// server set none.
func DefaultPolicy() []byte { return append([]byte(nil), defaultPolicy...) }

// ExamplePolicies lists the names of the example organisation policies.
func ExamplePolicies() []string {
	entries, _ := fs.ReadDir(policies, "policies")
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			names = append(names, strings.TrimSuffix(e.Name(), ".json"))
		}
	}
	sort.Strings(names)
	return names
}

// ExamplePolicy returns the JSON of the example policy called name.
func ExamplePolicy(name string) ([]byte, error) {
	b, err := policies.ReadFile(path.Join("policies", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("example policy %q: %w", name, err)
	}
	return b, nil
}
