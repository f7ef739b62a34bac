package httpapi_test

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/httpapi"
	"github.com/callguard/callguard/wire"
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

// TestOpenAPIDocumentsTheReviewItem checks that the ReviewItem schema of
// server/openapi.yaml lists every field server.ReviewItem has on the wire,
// and nothing else, so a client reading the spec sees what the server sends.
func TestOpenAPIDocumentsTheReviewItem(t *testing.T) {
	b, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	in, props := false, false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "    ReviewItem:":
			in = true
		case in && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			in = false // the next schema
		case in && line == "      properties:":
			props = true
		case in && props && strings.HasPrefix(line, "        ") && !strings.HasPrefix(line, "         "):
			name, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			documented[name] = true
		}
	}
	if len(documented) == 0 {
		t.Fatal("no ReviewItem schema with properties in openapi.yaml")
	}
	rt := reflect.TypeFor[server.ReviewItem]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if !documented[name] {
			t.Errorf("server.ReviewItem sends %q, which the ReviewItem schema does not document", name)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("the ReviewItem schema documents %q, which server.ReviewItem does not send", name)
	}
}

// TestOpenAPINamesAreTheWiresNames: the enums of server/openapi.yaml for
// recording states, directions, notice outcomes, link statuses and event
// types are exactly wire's names (and review states the server's), so the
// spec, the desktop and the server can never disagree on one.
func TestOpenAPINamesAreTheWiresNames(t *testing.T) {
	b, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	// enum is the enum of schema's property prop ("" for the schema itself).
	enum := func(schema, prop string) []string {
		in := false
		for _, line := range lines {
			switch {
			case line == "    "+schema+":":
				in = true
			case in && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
				return nil
			case in && (prop == "" && strings.HasPrefix(line, "      enum: ") || prop != "" && strings.HasPrefix(line, "        "+prop+": ")):
				_, list, ok := strings.Cut(line, "enum: [")
				if !ok {
					return nil
				}
				list, _, _ = strings.Cut(list, "]")
				return strings.Split(list, ", ")
			}
		}
		return nil
	}
	names := func(v []wire.LinkStatus) (out []string) {
		for _, n := range v {
			out = append(out, string(n))
		}
		return out
	}
	var types, review []string
	for _, e := range wire.EventTypes() {
		types = append(types, string(e))
	}
	for _, s := range server.ReviewStates() {
		review = append(review, string(s))
	}
	for _, tc := range []struct {
		schema, prop string
		want         []string
	}{
		{"RecordingState", "", wire.RecordingStateNames()},
		{"EventCall", "direction", wire.DirectionNames()},
		{"Call", "direction", wire.DirectionNames()},
		{"Event", "outcome", wire.NoticeOutcomeNames()},
		{"Call", "notice", wire.NoticeOutcomeNames()},
		{"Heartbeat", "link", names(wire.LinkStatuses())},
		{"AgentState", "link", names(wire.LinkStatuses())},
		{"Event", "type", types},
		{"ReviewState", "", review},
	} {
		got := enum(tc.schema, tc.prop)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s.%s: openapi.yaml says %v, wire %v", tc.schema, tc.prop, got, want)
		}
	}
}
