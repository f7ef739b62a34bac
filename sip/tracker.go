package sip

import (
	"cmp"
	"slices"
	"time"

	"github.com/callguard/callguard/app"
)

// phase is how far a dialog has got, as last reported to the core.
type phase int

const (
	phaseNone     phase = iota // not reported, or reported ended
	phaseRinging               // reported CallRinging
	phaseAnswered              // reported CallAnswered
	phaseEnded                 // the document says terminated
)

func phaseOf(state string) phase {
	switch state {
	case "trying", "proceeding", "early":
		return phaseRinging
	case "confirmed":
		return phaseAnswered
	case "terminated":
		return phaseEnded
	}
	return phaseNone
}

// tracked is a dialog reported to the core and not yet ended.
type tracked struct {
	phase phase
	ev    app.CallEvent // the last event reported, for the facts of the next
	seq   uint64        // order of first report
}

// Reasons for CallEnded that the phone system did not give.
const (
	ReasonGone       = "gone"       // absent from a full state: ended while unseen, or forgotten by the phone system
	ReasonMissed     = "missed"     // an inbound call that rang and ended unanswered
	ReasonUnanswered = "unanswered" // an outbound call that ended before it was answered
)

// tracker turns dialog-info documents into call events. It remembers what
// it reported across subscriptions, so that after a loss the new full state
// can be reconciled with it; the version order is per subscription.
type tracker struct {
	dialogs     map[string]*tracked
	seq         uint64
	version     uint64
	haveVersion bool
}

func newTracker() *tracker { return &tracker{dialogs: make(map[string]*tracked)} }

// newSubscription forgets the version order: a new subscription numbers its
// documents afresh.
func (t *tracker) newSubscription() { t.version, t.haveVersion = 0, false }

// result is what applying one document did.
type result struct {
	events []app.CallEvent
	stale  bool // the document was older than one already applied: ignored
	gap    bool // a partial document that cannot be applied safely: the full state is needed
}

// apply applies one document and returns the events it implies, in order.
func (t *tracker) apply(info *DialogInfo, now time.Time) result {
	if t.haveVersion && info.Version <= t.version {
		return result{stale: true}
	}
	if !info.Full && (!t.haveVersion || info.Version != t.version+1) {
		// A partial document only makes sense on top of the one before it.
		// Apply what it says (it is the newest news) and ask for the rest.
		var r result
		for _, d := range info.Dialogs {
			r.events = t.step(d, r.events, now)
		}
		t.version, t.haveVersion = info.Version, true
		r.gap = true
		return r
	}
	var r result
	if info.Full {
		// Dialogs the phone system no longer has end first, so that the
		// core sees old calls go before new ones come.
		present := make(map[string]bool, len(info.Dialogs))
		for _, d := range info.Dialogs {
			present[d.ID] = true
		}
		for _, id := range t.order() {
			if !present[id] {
				r.events = append(r.events, t.end(id, ReasonGone, now))
			}
		}
	}
	for _, d := range info.Dialogs {
		r.events = t.step(d, r.events, now)
	}
	t.version, t.haveVersion = info.Version, true
	return r
}

// applyEmpty applies a NOTIFY without a body, which some phone systems
// (Kamailio) send for "no dialogs": a full state, but without a version, so
// it leaves the version order alone. The caller makes sure it is the newest
// NOTIFY (by CSeq).
func (t *tracker) applyEmpty(now time.Time) result {
	var r result
	for _, id := range t.order() {
		r.events = append(r.events, t.end(id, ReasonGone, now))
	}
	return r
}

// step applies one dialog element.
func (t *tracker) step(d Dialog, out []app.CallEvent, now time.Time) []app.CallEvent {
	next := phaseOf(d.State)
	cur, known := t.dialogs[d.ID]
	if known && d.CallID != "" && cur.ev.CallID != "" && d.CallID != cur.ev.CallID {
		// The id now names another call (some phone systems, Asterisk among
		// them, use one id per extension): the old call is over.
		out = append(out, t.end(d.ID, ReasonGone, now))
		cur, known = nil, false
	}
	switch {
	case next == phaseNone:
		return out
	case !known && next == phaseEnded:
		// Never reported: nothing to end.
		return out
	case !known:
		ev := eventOf(d, now)
		ev.Kind = app.CallRinging
		if next == phaseAnswered {
			ev.Kind = app.CallAnswered
		}
		t.seq++
		t.dialogs[d.ID] = &tracked{phase: next, ev: ev, seq: t.seq}
		return append(out, ev)
	case next == phaseEnded:
		reason := d.Event
		if reason == "" && cur.phase == phaseRinging {
			reason = ReasonMissed
			if cur.ev.Direction == app.DirectionOutbound {
				reason = ReasonUnanswered
			}
		}
		ev := merge(cur.ev, eventOf(d, now))
		ev.Kind, ev.Reason = app.CallEnded, reason
		delete(t.dialogs, d.ID)
		return append(out, ev)
	case next == phaseAnswered && cur.phase == phaseRinging:
		ev := merge(cur.ev, eventOf(d, now))
		ev.Kind = app.CallAnswered
		cur.phase, cur.ev = phaseAnswered, ev
		return append(out, ev)
	}
	// Same phase again, or back from confirmed to early (a re-INVITE, a
	// forked leg): nothing new for the core.
	return out
}

// end reports the dialog id as ended for reason.
func (t *tracker) end(id, reason string, now time.Time) app.CallEvent {
	ev := t.dialogs[id].ev
	ev.Kind, ev.Reason, ev.At = app.CallEnded, reason, now
	delete(t.dialogs, id)
	return ev
}

// order lists the tracked dialogs in the order they were first reported, so
// that reconciliation emits its events deterministically.
func (t *tracker) order() []string {
	ids := make([]string, 0, len(t.dialogs))
	for id := range t.dialogs {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Compare(t.dialogs[a].seq, t.dialogs[b].seq) })
	return ids
}

// eventOf is the event for dialog d, without its kind.
func eventOf(d Dialog, now time.Time) app.CallEvent {
	ev := app.CallEvent{
		DialogID: d.ID,
		CallID:   d.CallID,
		Local:    party(d.Local),
		Remote:   party(d.Remote),
		At:       now,
	}
	switch d.Direction {
	case "initiator":
		ev.Direction = app.DirectionOutbound
	case "recipient":
		ev.Direction = app.DirectionInbound
	}
	return ev
}

// merge keeps what the earlier event knew where the newer document is silent.
func merge(old, cur app.CallEvent) app.CallEvent {
	if cur.CallID == "" {
		cur.CallID = old.CallID
	}
	if cur.Direction == app.DirectionUnknown {
		cur.Direction = old.Direction
	}
	cur.Local = mergeParty(old.Local, cur.Local)
	cur.Remote = mergeParty(old.Remote, cur.Remote)
	return cur
}

func mergeParty(old, cur app.Party) app.Party {
	if cur.Number == "" {
		cur.Number = old.Number
	}
	if cur.Name == "" {
		cur.Name = old.Name
	}
	if cur.URI == "" {
		cur.URI = old.URI
	}
	return cur
}

func party(p Participant) app.Party {
	return app.Party{Number: p.Number(), Name: p.Display, URI: p.URI()}
}
