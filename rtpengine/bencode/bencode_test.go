package bencode

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"the ping command as ng.py writes it", Dict{"command": "ping"}, "d7:command4:pinge"},
		{"keys in sorted order whatever the map", map[string]any{"z": 1, "call-id": "a@b", "command": "stop recording"},
			"d7:call-id3:a@b7:command14:stop recording1:zi1ee"},
		{"negative and zero integers", []any{-42, 0, int64(1) << 40}, "li-42ei0ei1099511627776ee"},
		{"binary strings stay bytes", []byte{0, 0xff, ' '}, "3:\x00\xff "},
		{"lists of flags", Dict{"flags": []string{"record-call", "trust-address"}}, "d5:flagsl11:record-call13:trust-addressee"},
		{"nested", Dict{"a": Dict{"b": []any{"c", Dict{}}}}, "d1:ad1:bl1:cdeeee"},
		{"bool as an integer", []any{true, false}, "li1ei0ee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("Marshal = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := Marshal(Dict{"x": 1.5}); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("a float: err = %v, want one naming the key", err)
	}
}

func TestUnmarshalAcceptsWhatRTPEngineSends(t *testing.T) {
	// rtpengine writes its keys in insertion order, not sorted: accept that.
	got, err := UnmarshalDict([]byte("d5:callsl6:cid2@xe6:result2:oke"))
	if err != nil {
		t.Fatal(err)
	}
	want := Dict{"calls": []any{"cid2@x"}, "result": "ok"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	if s, ok := got.String("result"); !ok || s != "ok" {
		t.Fatalf("String(result) = %q, %v", s, ok)
	}
	if _, ok := got.Int("result"); ok {
		t.Fatal("Int on a string said ok")
	}
	if l, ok := got.List("calls"); !ok || len(l) != 1 {
		t.Fatalf("List(calls) = %v, %v", l, ok)
	}
}

func TestUnmarshalRejectsMalformed(t *testing.T) {
	bad := map[string]string{
		"empty":                     "",
		"unterminated integer":      "i12",
		"leading zero":              "i012e",
		"minus zero":                "i-0e",
		"bare minus":                "i-e",
		"not a digit":               "i1x2e",
		"integer overflow":          "i99999999999999999999e",
		"string longer than input":  "10:abc",
		"huge string length":        "99999999999999:abc",
		"negative string length":    "-1:a",
		"string length with zero":   "03:abc",
		"unterminated list":         "li1e",
		"unterminated dictionary":   "d1:ai1e",
		"integer key":               "di1ei2ee",
		"dictionary without value":  "d1:ae",
		"duplicate key":             "d1:ai1e1:ai2ee",
		"trailing bytes":            "i1ei2e",
		"unknown type":              "x",
		"too deep":                  strings.Repeat("l", MaxDepth+1) + strings.Repeat("e", MaxDepth+1),
		"cookie left on the answer": "5f3a d6:result4:ponge",
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			v, err := Unmarshal([]byte(in))
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Unmarshal(%q) = %#v, %v; want ErrSyntax", in, v, err)
			}
		})
	}
	if _, err := UnmarshalDict([]byte("li1ee")); !errors.Is(err, ErrSyntax) {
		t.Fatalf("a list as a dict: %v", err)
	}
	if _, err := Unmarshal([]byte(strings.Repeat("l", MaxDepth) + strings.Repeat("e", MaxDepth))); err != nil {
		t.Fatalf("nesting of exactly MaxDepth: %v", err)
	}
}

// TestRealAnswersRoundTrip decodes answers captured from rtpengine 10.5
// (testdata/*.bencode) and encodes them again: the same value comes back.
func TestRealAnswersRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bencode")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := UnmarshalDict(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, ok := d.String("result"); !ok {
			t.Fatalf("%s: no result", f)
		}
		again, err := Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := UnmarshalDict(again)
		if err != nil || !reflect.DeepEqual(d, d2) {
			t.Fatalf("%s: round trip changed it: %v", f, err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.bencode")
	for _, name := range files {
		data, _ := os.ReadFile(name)
		f.Add(data)
	}
	f.Add([]byte("d7:command4:pinge"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		// Whatever decodes encodes again, and decodes to the same value.
		enc, err := Marshal(v)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", v, err)
		}
		v2, err := Unmarshal(enc)
		if err != nil || !reflect.DeepEqual(v, v2) {
			t.Fatalf("re-decoding %q: %#v, %v", enc, v2, err)
		}
		// Decoding accepts only canonical integers and lengths, so the
		// encoding is as long as the input, and byte for byte the same
		// when no dictionary could have had its keys reordered.
		if len(enc) != len(data) || !hasDict(v) && !bytes.Equal(enc, data) {
			t.Fatalf("input %q re-encoded as %q", data, enc)
		}
	})
}

// hasDict reports whether v holds a dictionary anywhere.
func hasDict(v any) bool {
	switch v := v.(type) {
	case Dict:
		return true
	case []any:
		for _, x := range v {
			if hasDict(x) {
				return true
			}
		}
	}
	return false
}
