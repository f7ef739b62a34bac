package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFoldInIncrementsIsFoldingAtOnce: the store keeps a call's Fold and
// applies later events on top of it; at every split of a call's events,
// through a JSON round trip as the store keeps it, that gives the call
// folding all its events at once gives.
func TestFoldInIncrementsIsFoldingAtOnce(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "batch-call.json"))
	if err != nil {
		t.Fatal(err)
	}
	items, err := DecodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	samples := map[string][]Event{
		"a recorded call": valid(items),
		// No call event ever came: its first event's time is its start,
		// until a call event arrives.
		"state first": {
			{ID: "1", Seq: 1, Time: at, Type: EventRecordingState, CallID: "c", State: "paused", Reason: "payment"},
			{ID: "2", Seq: 2, Time: at.Add(time.Minute), Type: EventRecordingState, CallID: "c", State: "recording"},
			{ID: "3", Seq: 3, Time: at.Add(2 * time.Minute), Type: EventCallAnswered, CallID: "c", Call: &EventCall{Direction: "outbound", Started: at.Add(-time.Minute)}},
			{ID: "4", Seq: 4, Time: at.Add(3 * time.Minute), Type: EventNotice, CallID: "c", Outcome: "objected"},
		},
	}
	for name, evs := range samples {
		t.Run(name, func(t *testing.T) {
			whole := FoldCall("c", evs)
			wantFlags := whole.Flags
			whole.Flags = nil
			want, _ := json.Marshal(whole)
			sorted := SortBySeq(evs)
			for k := 0; k <= len(sorted); k++ {
				f := NewFold("c")
				var flags []Flag
				for _, e := range sorted[:k] {
					f.Apply(e)
				}
				flags = append(flags, f.State.Flags...)
				f.State.Flags = nil
				kept, _ := json.Marshal(f)
				var g Fold
				if err := json.Unmarshal(kept, &g); err != nil {
					t.Fatal(err)
				}
				for _, e := range sorted[k:] {
					g.Apply(e)
				}
				c := g.Call()
				flags = append(flags, c.Flags...)
				c.Flags = nil
				if got, _ := json.Marshal(c); string(got) != string(want) {
					t.Fatalf("split at %d:\n got %s\nwant %s", k, got, want)
				}
				if len(flags) != len(wantFlags) {
					t.Fatalf("split at %d: %d flags, want %d", k, len(flags), len(wantFlags))
				}
			}
		})
	}
}

func TestCountFrom(t *testing.T) {
	recv := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		started time.Time
		want    time.Time
		skewed  bool
	}{
		{recv.Add(-time.Hour), recv.Add(-time.Hour), false},
		{recv.Add(-24 * time.Hour), recv.Add(-24 * time.Hour), false},
		{recv.Add(-24*time.Hour - time.Millisecond), recv, true},
		{recv.Add(25 * time.Hour), recv, true},
		{time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), recv, true},
	} {
		got, skewed := CountFrom(tc.started, recv, 24*time.Hour)
		if !got.Equal(tc.want) || skewed != tc.skewed {
			t.Errorf("CountFrom(%v) = %v, %v; want %v, %v", tc.started, got, skewed, tc.want, tc.skewed)
		}
	}
}
