package sip

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/callguard/callguard/app"
)

var fuzzStates = [...]string{"trying", "proceeding", "early", "confirmed", "terminated"}

// fuzzDocs turns bytes into a sequence of documents: one byte per document
// (kind, version step, number of dialogs) and one per dialog (id, state,
// call-id, hold). A nil entry marks a new subscription.
func fuzzDocs(data []byte) []*DialogInfo {
	var out []*DialogInfo
	var v uint64
	for i := 0; i < len(data); {
		b := data[i]
		i++
		if b&3 == 2 {
			out = append(out, nil)
			v = 0
			continue
		}
		switch back := uint64(b>>2) & 3; {
		case b&3 == 3 && back <= v:
			v -= back // out of order: an old version again
		default:
			v++
		}
		info := &DialogInfo{Version: v, Full: b&1 == 0}
		for n := int(b >> 5); n > 0 && i < len(data); n-- {
			x := data[i]
			i++
			id := fmt.Sprint(x & 7)
			// Two Call-IDs per id and document kind bits: enough reuse to
			// try the rules, enough new calls to keep the fuzzer going.
			d := Dialog{ID: id, CallID: fmt.Sprintf("c-%s-%d-%d", id, x>>6&1, b>>2&3),
				State: fuzzStates[int(x>>3&7)%len(fuzzStates)], Direction: "recipient"}
			if x>>7 == 1 {
				d.Local.Rendering = "no"
			}
			info.Dialogs = append(info.Dialogs, d)
		}
		out = append(out, info)
	}
	return out
}

// pbxModel is what the phone system's documents say is live, by dialog id
// and Call-ID, applied with the same version order as the tracker.
type pbxModel struct {
	state       map[string]string
	version     uint64
	haveVersion bool
	beforeFull  map[string]bool // live just before the last full document
}

func (m *pbxModel) live() map[string]bool {
	out := map[string]bool{}
	for id, st := range m.state {
		if st != "terminated" {
			out[id] = true
		}
	}
	return out
}

func (m *pbxModel) apply(info *DialogInfo) {
	if m.haveVersion && info.Version <= m.version {
		return
	}
	m.version, m.haveVersion = info.Version, true
	if info.Full {
		m.beforeFull = m.live()
		m.state = map[string]string{}
	}
	for _, d := range info.Dialogs {
		k := d.ID + "|" + d.CallID
		if cur, ok := m.state[k]; !ok || !info.Full || rank(d.State) > rank(cur) {
			m.state[k] = d.State
		}
	}
}

// FuzzTrackerSequences feeds the tracker random sequences of documents and
// checks that it never reports more live calls than the phone system has
// live dialogs (allowing the one full state a missing dialog is given), that
// no ended call is live again, and that no state goes backwards.
func FuzzTrackerSequences(f *testing.F) {
	for _, seed := range [][]byte{
		{0x20, 0x18, 0x20, 0x20, 0x20, 0x18},             // confirmed, terminated, confirmed
		{0x40, 0x00, 0x18, 0x20, 0x20},                   // trying and confirmed in one document
		{0x20, 0x18, 0x23, 0x00, 0x20, 0x20},             // an old version after a newer one
		{0x20, 0x18, 0x00, 0x00, 0x02, 0x20, 0x18},       // missing twice; a new subscription
		{0x20, 0x98, 0x20, 0x18, 0x20, 0x98, 0x21, 0x20}, // hold, resume, terminated in a partial
		{0x20, 0x18, 0x20, 0x20, 0x20, 0x58, 0x20, 0x50}, // a new call-id on an ended id
	} {
		f.Add(seed)
	}
	// The captured Kamailio session, as the tracker saw it, is a seed too:
	// its states in the fuzzer's own encoding.
	files, _ := filepath.Glob("testdata/kamailio/*.xml")
	var kam []byte
	ids := map[string]byte{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		info, err := ParseDialogInfo(data)
		if err != nil {
			f.Fatal(err)
		}
		kam = append(kam, byte(min(len(info.Dialogs), 7))<<5)
		for _, d := range info.Dialogs[:min(len(info.Dialogs), 7)] {
			if _, ok := ids[d.ID]; !ok {
				ids[d.ID] = byte(len(ids) & 7)
			}
			kam = append(kam, ids[d.ID]|byte(rank(d.State)-1)<<3)
		}
	}
	f.Add(kam)

	f.Fuzz(func(t *testing.T, data []byte) {
		tr := newTracker(discard)
		model := &pbxModel{state: map[string]string{}}
		live := map[string]app.CallEvent{} // by dialog id, as the events say
		endedCallIDs := map[string]bool{}
		for step, info := range fuzzDocs(data) {
			if info == nil {
				tr.newSubscription()
				model.version, model.haveVersion = 0, false
				continue
			}
			model.apply(info)
			r := tr.apply(info, testTime)
			for _, ev := range r.events {
				cur, isLive := live[ev.DialogID]
				switch ev.Kind {
				case app.CallRinging:
					if isLive {
						t.Fatalf("step %d: ringing for live dialog %s", step, ev.DialogID)
					}
					fallthrough
				case app.CallAnswered:
					if isLive && cur.Kind != app.CallRinging {
						t.Fatalf("step %d: %s after %s for dialog %s: a state went back", step, ev.Kind, cur.Kind, ev.DialogID)
					}
					if endedCallIDs[ev.CallID] {
						t.Fatalf("step %d: ended call %s live again (%s)", step, ev.CallID, ev.Kind)
					}
					live[ev.DialogID] = ev
				case app.CallHeld, app.CallResumed:
					if !isLive || cur.Kind == app.CallRinging {
						t.Fatalf("step %d: %s for dialog %s that is not connected", step, ev.Kind, ev.DialogID)
					}
				case app.CallEnded:
					if !isLive {
						t.Fatalf("step %d: ended for dialog %s that is not live", step, ev.DialogID)
					}
					delete(live, ev.DialogID)
					endedCallIDs[ev.CallID] = true
				default:
					t.Fatalf("step %d: unexpected event %s", step, ev.Kind)
				}
			}
			if len(live) != len(tr.dialogs) {
				t.Fatalf("step %d: %d live calls reported, tracker holds %d", step, len(live), len(tr.dialogs))
			}
			pbx := model.live()
			for id, ev := range live {
				if k := id + "|" + ev.CallID; !pbx[k] && !model.beforeFull[k] {
					t.Fatalf("step %d: call %s live, but the phone system has no such live dialog", step, k)
				}
			}
			allowed := len(pbx)
			for id := range model.beforeFull {
				if !pbx[id] {
					allowed++
				}
			}
			if len(live) > allowed {
				t.Fatalf("step %d: %d live calls, %d live dialogs", step, len(live), allowed)
			}
		}
	})
}
