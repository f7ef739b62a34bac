package store

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/callguard/callguard/server"
)

func randomSummary(rng *rand.Rand) server.ScoreSummary {
	s := server.ScoreSummary{Counted: rng.IntN(2) == 0, Total: float64(rng.IntN(10001)) / 100}
	if rng.IntN(4) > 0 {
		s.Criteria = map[string]float64{}
		for i := range rng.IntN(8) {
			s.Criteria[[]string{"talk", "silence", "empathy", "ethics", "notice", "c-5", "c_6", "c.7"}[i]] = float64(rng.IntN(101))
		}
	}
	if rng.IntN(4) > 0 {
		s.Measures = map[string]float64{}
		for i := range rng.IntN(18) {
			s.Measures["m"+string(rune('a'+i))] = rng.NormFloat64() * 1e3
		}
	}
	return s
}

// Every summary the store writes reads back as encoding/json reads it.
func TestSummariesReadAsEncodingJSONReadsThem(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	for range 2000 {
		want := randomSummary(rng)
		b, _ := json.Marshal(want)
		var viaJSON server.ScoreSummary
		if err := json.Unmarshal(b, &viaJSON); err != nil {
			t.Fatal(err)
		}
		got, err := decodeSummary(b)
		if err != nil || !reflect.DeepEqual(got, viaJSON) {
			t.Fatalf("%s: read %+v, %v; encoding/json reads %+v", b, got, err, viaJSON)
		}
		if _, fast := fastSummary(b); !fast {
			t.Fatalf("%s took the slow path", b)
		}
	}
	// What the hand reader does not take falls back, never misreads.
	for _, b := range []string{
		`{"counted":true,"total":50,"criteria":null}`,
		`{"total":5,"extra":{"a":[1,2]}}`,
		`{"criteria":{"t\u00e9":1}}`,
		` { "counted" : false , "total" : 1e2 } `,
	} {
		var want server.ScoreSummary
		json.Unmarshal([]byte(b), &want)
		got, err := decodeSummary([]byte(b))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read %+v, %v; want %+v", b, got, err, want)
		}
	}
	if _, err := decodeSummary([]byte(`{"total":`)); err == nil || !strings.Contains(err.Error(), "JSON") {
		t.Errorf("a cut summary read without the error encoding/json gives: %v", err)
	}
}

// FuzzSummary: whatever encoding/json reads as a summary, the store reads
// the same.
func FuzzSummary(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		b, _ := json.Marshal(randomSummary(rng))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want server.ScoreSummary
		if json.Unmarshal(b, &want) != nil {
			return
		}
		got, err := decodeSummary(b)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: read %+v, %v; encoding/json reads %+v", b, got, err, want)
		}
	})
}

func BenchmarkDecodeSummary(b *testing.B) {
	s := randomSummary(rand.New(rand.NewPCG(3, 3)))
	s.Criteria = map[string]float64{"talk": 100, "silence": 0, "empathy": 75, "ethics": 100}
	s.Measures = map[string]float64{}
	for i := range 18 {
		s.Measures["measure-"+string(rune('a'+i))] = float64(i) * 1.5
	}
	raw, _ := json.Marshal(s)
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			decodeSummary(raw)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var v server.ScoreSummary
			json.Unmarshal(raw, &v)
		}
	})
}
