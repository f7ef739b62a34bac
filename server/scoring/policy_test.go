package scoring_test

import (
	"testing"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

func examplePolicy(t testing.TB, name string) *policy.Policy {
	t.Helper()
	b, err := assets.ExamplePolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
