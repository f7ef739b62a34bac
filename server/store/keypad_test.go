package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// The call record carries how many stretches of keypad tones were masked
// (keypad_masked, from the keypad.masked events), folded in order or not.
func TestCallCountsKeypadTonesMasked(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, _ *clock) {
		ctx := context.Background()
		p := agentDevice(t, s, "kim")
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		evs := callEvents("c1", 1, start, "+441632960123")
		var keys []server.Event
		for i := range 3 {
			from, to := int64(40_000+1000*i), int64(40_220+1000*i)
			keys = append(keys, server.Event{ID: fmt.Sprintf("c1-k%d", i), Seq: uint64(20 + i), Agent: "claimed", CallID: "c1",
				Type: server.EventKeypadMasked, FromMS: &from, ToMS: &to, Time: start.Add(time.Duration(40+i) * time.Second)})
		}
		// Two keypad events first (no call yet), then the call, then the last.
		for _, batch := range [][]server.Event{keys[:2], evs, keys[2:]} {
			if _, err := s.Ingest(ctx, p, batch); err != nil {
				t.Fatal(err)
			}
		}
		c, err := s.Call(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if c.KeypadMasked != 3 || c.Events != len(evs)+3 || len(c.KeypadMasks) != 3 ||
			c.KeypadMasks[0].FromMS != 40_000 || c.KeypadMasks[2].ToMS != 42_220 || !c.KeypadMasks[1].At.Equal(start.Add(41*time.Second)) {
			t.Fatalf("call keypad_masked %d, masks %+v, %d events", c.KeypadMasked, c.KeypadMasks, c.Events)
		}
		found, err := s.SearchCalls(ctx, server.CallFilter{Agent: "kim"})
		if err != nil || len(found) != 1 || found[0].KeypadMasked != 3 {
			t.Fatalf("search: %+v %v", found, err)
		}
	})
}
