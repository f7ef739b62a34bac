package httpapi_test

import (
	"os"
	"strings"
	"testing"

	"github.com/callguard/callguard/server/httpapi"
)

// TestOpenAPIDocumentsEveryRoute reads server/openapi.yaml's paths and
// checks that each route the API serves is there with its method.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	path := ""
	inPaths := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "paths:":
			inPaths = true
		case !inPaths:
		case strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     ") && strings.HasSuffix(line, ":"):
			documented[strings.ToUpper(strings.TrimSuffix(strings.TrimSpace(line), ":"))+" "+path] = true
		}
	}
	routes := httpapi.New(httpapi.Options{}).Routes()
	if len(routes) < 15 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, r := range routes {
		if !documented[r] {
			t.Errorf("%s is not in openapi.yaml", r)
		}
		delete(documented, r)
	}
	for r := range documented {
		t.Errorf("openapi.yaml documents %s, which the API does not serve", r)
	}
}
