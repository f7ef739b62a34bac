package server

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDecodeBatchOnSamples(t *testing.T) {
	for _, tc := range []struct {
		file    string
		events  int
		wantErr string
	}{
		{"batch-call.json", 8, ""},
		{"batch-bad-type.json", 0, `unknown event type "call.teleported"`},
		{"batch-missing-seq.json", 0, "seq must be 1 or more"},
		{"batch-bad-interval.json", 0, "interval 500–100 ms is not valid"},
		{"batch-truncated.json", 0, "malformed JSON"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			items, err := DecodeBatch(b)
			if tc.wantErr != "" {
				if err == nil {
					err = firstErr(items)
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want one with %q wrapping ErrInvalid", err, tc.wantErr)
				}
				return
			}
			evs := valid(items)
			if err != nil || len(evs) != tc.events || firstErr(items) != nil {
				t.Fatalf("DecodeBatch = %d events, %v, %v", len(evs), err, firstErr(items))
			}
			if !json.Valid(evs[0].Raw) {
				t.Fatal("raw event is not kept")
			}
		})
	}
}

// valid returns the events of items that are not refused.
func valid(items []BatchItem) []Event {
	var out []Event
	for _, it := range items {
		if it.Err == nil {
			out = append(out, it.Event)
		}
	}
	return out
}

func firstErr(items []BatchItem) error {
	for _, it := range items {
		if it.Err != nil {
			return it.Err
		}
	}
	return nil
}

func TestDecodeBatchLimits(t *testing.T) {
	// What is not a batch at all is refused as a whole.
	for name, body := range map[string]string{
		"not an object":     `[1,2]`,
		"no events key":     `{"evts":[]}`,
		"events not a list": `{"events":{}}`,
	} {
		if _, err := DecodeBatch([]byte(body)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// A bad event is refused on its own, named by what could be read of it.
	for name, body := range map[string]string{
		"event not object":   `{"events":[42]}`,
		"seq not a number":   `{"events":[{"id":"a","seq":"one","time":"2026-03-02T10:00:00Z","type":"link","state":"up"}]}`,
		"id with a slash":    `{"events":[{"id":"../x","seq":1,"time":"2026-03-02T10:00:00Z","type":"link","state":"up"}]}`,
		"call id too long":   `{"events":[{"id":"a","seq":1,"time":"2026-03-02T10:00:00Z","type":"notice","outcome":"read","call_id":"` + strings.Repeat("c", 65) + `"}]}`,
		"state not contract": `{"events":[{"id":"a","seq":1,"time":"2026-03-02T10:00:00Z","type":"recording.state","state":"on-air","call_id":"c"}]}`,
		"time missing":       `{"events":[{"id":"a","seq":1,"type":"link","state":"up"}]}`,
		"call without call":  `{"events":[{"id":"a","seq":1,"time":"2026-03-02T10:00:00Z","type":"call.ended","call_id":"c"}]}`,
		"name too long":      `{"events":[{"id":"a","seq":1,"time":"2026-03-02T10:00:00Z","type":"call.ringing","call_id":"c","call":{"direction":"inbound","local":{"number":"1"},"remote":{"number":"2","name":"` + strings.Repeat("n", 257) + `"},"started":"2026-03-02T10:00:00Z","recorded":false}}]}`,
	} {
		items, err := DecodeBatch([]byte(body))
		if err != nil || len(items) != 1 || !errors.Is(items[0].Err, ErrInvalid) {
			t.Errorf("%s: %v, %+v; want the event refused with ErrInvalid", name, err, items)
		}
	}
	// A desktop whose clock is off is heard, not refused (the server's
	// clock decides retention).
	items, err := DecodeBatch([]byte(`{"events":[{"id":"a","seq":7,"time":"1970-01-01T00:00:00Z","type":"link","state":"up"},42]}`))
	if err != nil || items[0].Err != nil || items[1].Err == nil || items[0].Event.Seq != 7 {
		t.Errorf("year 1970 beside a bad event: %v, %+v", err, items)
	}
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i := range MaxBatch + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{}`)
	}
	b.WriteString(`]}`)
	if _, err := DecodeBatch([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "at most 1000") {
		t.Errorf("oversized batch: %v", err)
	}
	// Fields a newer desktop adds are ignored, not refused.
	if _, err := DecodeBatch([]byte(`{"events":[{"id":"a","seq":1,"time":"2026-03-02T10:00:00Z","type":"link","state":"up","mood":"calm"}]}`)); err != nil {
		t.Errorf("unknown field: %v", err)
	}
}

// FuzzDecodeBatch: whatever the body, decoding never panics, and what it
// accepts is valid and survives a round trip through its raw form.
func FuzzDecodeBatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "batch-*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"events":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := DecodeBatch(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		for _, it := range items {
			if it.Err != nil && !errors.Is(it.Err, ErrInvalid) {
				t.Fatalf("refusal does not wrap ErrInvalid: %v", it.Err)
			}
		}
		evs := valid(items)
		for _, e := range evs {
			if err := e.Validate(); err != nil {
				t.Fatalf("accepted an invalid event: %v", err)
			}
			var again Event
			if err := json.Unmarshal(e.Raw, &again); err != nil || again.ID != e.ID || again.Seq != e.Seq || again.Type != e.Type {
				t.Fatalf("raw form does not decode to the same event: %v", err)
			}
		}
		FoldCall("fuzz", evs)
	})
}

func TestFoldCallIsOrderFree(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "batch-call.json"))
	items, err := DecodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	callEvs := valid(items)[:7]
	want := FoldCall("c", callEvs)
	reversed := make([]Event, len(callEvs))
	for i, e := range callEvs {
		reversed[len(callEvs)-1-i] = e
	}
	got := FoldCall("c", append(reversed, callEvs[2])) // reversed, with a duplicate
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		t.Fatalf("fold depends on order:\n%s\n%s", wj, gj)
	}
	if want.Direction != "inbound" || !want.Recorded || want.Notice != "announced" || len(want.Flags) != 1 {
		t.Fatalf("fold = %+v", want)
	}
	// The pause runs from 10:00:30 to the end of the call.
	if len(want.Pauses) != 1 || want.Pauses[0].End == nil || want.PausedMS != 90_000 {
		t.Fatalf("pauses = %+v (%d ms)", want.Pauses, want.PausedMS)
	}
	if want.Events != 7 {
		t.Fatalf("events = %d", want.Events)
	}
}

func TestFoldCallDeclined(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c := FoldCall("c", []Event{
		{ID: "1", Seq: 1, Time: at, Type: EventCallAnswered, CallID: "c", Call: &EventCall{Direction: "outbound", Started: at}},
		{ID: "2", Seq: 2, Time: at, Type: EventNotice, CallID: "c", Outcome: "objected"},
	})
	if !c.Declined || c.Direction != "outbound" {
		t.Fatalf("fold = %+v", c)
	}
}

func TestMaskNumber(t *testing.T) {
	for in, want := range map[string]string{"+441632960123": "••••••••••123", "123": "123", "": "", "2001": "•001"} {
		if got := MaskNumber(in); got != want {
			t.Errorf("MaskNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRole(t *testing.T) {
	if r, err := ParseRole("dpo"); err != nil || r != RoleDPO {
		t.Fatalf("ParseRole(dpo) = %v, %v", r, err)
	}
	if _, err := ParseRole(""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty role: %v", err)
	}
	if RoleUnknown.In(RoleUnknown) {
		t.Fatal("the unknown role must be allowed nothing")
	}
}
