package sip

import (
	"cmp"
	"log/slog"
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
	phase   phase
	held    bool          // the phone system says the officer put it on hold
	ev      app.CallEvent // the last event reported, for the facts of the next
	seq     uint64        // order of first report
	missing bool          // absent from the last full state: ended if absent from the next too
}

// Reasons for CallEnded that the phone system did not give.
const (
	ReasonGone       = "gone"       // absent from a full state: ended while unseen, or forgotten by the phone system
	ReasonMissed     = "missed"     // an inbound call that rang and ended unanswered
	ReasonUnanswered = "unanswered" // an outbound call that ended before it was answered
)

// Rules the tracker applies to entries it cannot trust. Each is logged once
// per dialog id, under its name, when it first ignores an entry.
const (
	// RuleEndedCall: an entry for a call that has ended is ignored. A call
	// has ended when its Call-ID was seen terminated, or when its dialog id
	// was seen terminated and the entry carries no Call-ID or the same one.
	// Phone systems keep listing ended dialogs, and a late copy from the
	// other leg of a call can still say "confirmed" or "trying".
	RuleEndedCall = "ended-call"
	// RuleStaleConfirmed: for a dialog id seen ended, an entry under a new
	// Call-ID that is "confirmed" straight away, with no ringing state
	// before it, is ignored: a new call on a reused id (Asterisk uses one
	// id per extension) rings first; a stale copy of the old one does not.
	RuleStaleConfirmed = "stale-confirmed"
	// RuleMostAdvanced: a document that lists one dialog (id and Call-ID)
	// twice counts only its most advanced entry, in the order trying <
	// proceeding < early < confirmed < terminated.
	RuleMostAdvanced = "most-advanced"
	// RuleMissingTwice: a reported dialog absent from one full state is
	// ended only when it is absent from the next full state too (the
	// tracker asks for it at once). The first full state of a new
	// subscription ends absent dialogs at once: that is the reconciliation
	// after a loss.
	RuleMissingTwice = "missing-twice"
	// RuleNoGoingBack: a state never goes backwards: a "trying" or "early"
	// entry for a confirmed dialog changes nothing.
	RuleNoGoingBack = "no-going-back"
)

// MaxRemembered bounds how many ended dialog ids and Call-IDs the tracker
// remembers; the oldest are forgotten first.
const MaxRemembered = 1024

// ended is one ended call, as remembered.
type ended struct {
	id, callID string
	logged     map[string]bool // rules already logged for this id
}

// tracker turns dialog-info documents into call events. It remembers what
// it reported across subscriptions, so that after a loss the new full state
// can be reconciled with it; the version order is per subscription. Ended
// calls are remembered (MaxRemembered of them) so that no stale entry can
// bring one back.
type tracker struct {
	log         *slog.Logger
	dialogs     map[string]*tracked
	seq         uint64
	version     uint64
	haveVersion bool
	fresh       bool // no full state applied yet in this subscription

	endedIDs     map[string]*ended
	endedCallIDs map[string]*ended
	endedOrder   []*ended // oldest first
}

func newTracker(log *slog.Logger) *tracker {
	if log == nil {
		log = slog.Default()
	}
	return &tracker{log: log, dialogs: make(map[string]*tracked), fresh: true,
		endedIDs: make(map[string]*ended), endedCallIDs: make(map[string]*ended)}
}

// newSubscription forgets the version order: a new subscription numbers its
// documents afresh. The ended calls stay remembered: a phone system that
// kept a stale entry keeps it across a re-subscription.
func (t *tracker) newSubscription() { t.version, t.haveVersion, t.fresh = 0, false, true }

// result is what applying one document did.
type result struct {
	events []app.CallEvent
	stale  bool // the document was older than one already applied: ignored, the full state is needed
	gap    bool // a partial document that cannot be applied safely: the full state is needed
	verify bool // a dialog went missing from the full state: the next full state is needed to end it
}

// refresh reports whether the caller should ask for the full state again.
func (r result) refresh() bool { return r.stale || r.gap || r.verify }

// apply applies one document and returns the events it implies, in order.
func (t *tracker) apply(info *DialogInfo, now time.Time) result {
	if t.haveVersion && info.Version <= t.version {
		return result{stale: true}
	}
	dialogs := t.mostAdvanced(info.Dialogs)
	var r result
	if !info.Full && (!t.haveVersion || info.Version != t.version+1) {
		// A partial document only makes sense on top of the one before it.
		// Apply what it says (it is the newest news) and ask for the rest.
		for _, d := range dialogs {
			r.events = t.step(d, r.events, now)
		}
		t.version, t.haveVersion = info.Version, true
		r.gap = true
		return r
	}
	if info.Full {
		// Dialogs the phone system no longer has end first, so that the
		// core sees old calls go before new ones come.
		present := make(map[string]bool, len(dialogs))
		for _, d := range dialogs {
			// An entry of an ended call does not keep the live call that
			// reuses its id present.
			if cur := t.dialogs[d.ID]; cur != nil && d.CallID != "" && d.CallID != cur.ev.CallID && t.endedCallIDs[d.CallID] != nil {
				continue
			}
			present[d.ID] = true
		}
		for _, id := range t.order() {
			d := t.dialogs[id]
			switch {
			case present[id]:
				d.missing = false
			case t.fresh || d.missing:
				r.events = append(r.events, t.end(id, ReasonGone, now))
			default:
				d.missing = true
				r.verify = true
			}
		}
		t.fresh = false
	}
	for _, d := range dialogs {
		r.events = t.step(d, r.events, now)
	}
	t.version, t.haveVersion = info.Version, true
	return r
}

// mostAdvanced keeps one entry per dialog id (and Call-ID: under one id,
// two Call-IDs are two calls), the most advanced, at the place of the first
// entry (RuleMostAdvanced).
func (t *tracker) mostAdvanced(in []Dialog) []Dialog {
	type key struct{ id, callID string }
	at := make(map[key]int, len(in))
	out := make([]Dialog, 0, len(in))
	for _, d := range in {
		k := key{d.ID, d.CallID}
		i, seen := at[k]
		switch {
		case !seen:
			at[k] = len(out)
			out = append(out, d)
		case rank(d.State) > rank(out[i].State):
			t.log.Debug("dialog listed twice; the most advanced entry counts",
				"rule", RuleMostAdvanced, "dialog", d.ID, "kept", d.State, "dropped", out[i].State)
			out[i] = d
		}
	}
	return out
}

// rank orders the states of a dialog.
func rank(state string) int {
	switch state {
	case "trying":
		return 1
	case "proceeding":
		return 2
	case "early":
		return 3
	case "confirmed":
		return 4
	case "terminated":
		return 5
	}
	return 0
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
	t.fresh = false
	return r
}

// ignored reports whether the entry d belongs to a call that has ended, or
// looks like a stale copy of one, and logs the rule the first time.
func (t *tracker) ignored(d Dialog, next phase) bool {
	if e := t.endedCallIDs[d.CallID]; d.CallID != "" && e != nil {
		return t.note(e, RuleEndedCall, d)
	}
	e := t.endedIDs[d.ID]
	switch {
	case e == nil:
		return false
	case d.CallID == "" || d.CallID == e.callID:
		return t.note(e, RuleEndedCall, d)
	case next == phaseAnswered:
		return t.note(e, RuleStaleConfirmed, d)
	}
	return false
}

// note logs that rule ignored d, once per rule and ended call; it returns true.
func (t *tracker) note(e *ended, rule string, d Dialog) bool {
	if !e.logged[rule] {
		if e.logged == nil {
			e.logged = make(map[string]bool, 2)
		}
		e.logged[rule] = true
		t.log.Info("an entry for an ended call is ignored", "rule", rule,
			"dialog", d.ID, "call_id", d.CallID, "state", d.State)
	}
	return true
}

// remember records that the call with this id and Call-ID has ended.
func (t *tracker) remember(id, callID string) {
	e := &ended{id: id, callID: callID}
	if len(t.endedOrder) >= MaxRemembered {
		old := t.endedOrder[0]
		t.endedOrder[0] = nil
		t.endedOrder = t.endedOrder[1:]
		if t.endedIDs[old.id] == old {
			delete(t.endedIDs, old.id)
		}
		if t.endedCallIDs[old.callID] == old {
			delete(t.endedCallIDs, old.callID)
		}
	}
	t.endedOrder = append(t.endedOrder, e)
	t.endedIDs[id] = e
	if callID != "" {
		t.endedCallIDs[callID] = e
	}
}

// step applies one dialog element.
func (t *tracker) step(d Dialog, out []app.CallEvent, now time.Time) []app.CallEvent {
	next := phaseOf(d.State)
	cur, known := t.dialogs[d.ID]
	if known && d.CallID != "" && cur.ev.CallID != "" && d.CallID != cur.ev.CallID {
		if e := t.endedCallIDs[d.CallID]; e != nil {
			t.note(e, RuleEndedCall, d)
			return out
		}
		// The id now names another call (some phone systems, Asterisk among
		// them, use one id per extension): the old call is over.
		out = append(out, t.end(d.ID, ReasonGone, now))
		cur, known = nil, false
	}
	if !known && next != phaseEnded && t.ignored(d, next) {
		return out
	}
	if known && cur.ev.LocalTag == "" {
		// The officer's tag may come in a NOTIFY that reports nothing new
		// (Kamailio sends the tags only while the dialog is early).
		cur.ev.LocalTag = d.LocalTag
	}
	switch {
	case next == phaseNone:
		return out
	case !known && next == phaseEnded:
		// Never reported: nothing to end. Remembered all the same, so that
		// a stale copy cannot start it later.
		if t.endedIDs[d.ID] == nil || d.CallID != "" && t.endedCallIDs[d.CallID] == nil {
			t.remember(d.ID, d.CallID)
		}
		return out
	case !known:
		ev := eventOf(d, now)
		ev.Kind = app.CallRinging
		if next == phaseAnswered {
			ev.Kind = app.CallAnswered
		}
		t.seq++
		t.dialogs[d.ID] = &tracked{phase: next, ev: ev, seq: t.seq}
		out = append(out, ev)
		if next == phaseAnswered && d.Local.Held() {
			out = t.hold(t.dialogs[d.ID], true, out, now)
		}
		return out
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
		t.remember(d.ID, ev.CallID)
		return append(out, ev)
	case next == phaseAnswered && cur.phase == phaseRinging:
		ev := merge(cur.ev, eventOf(d, now))
		ev.Kind = app.CallAnswered
		cur.phase, cur.ev = phaseAnswered, ev
		out = append(out, ev)
		if d.Local.Held() {
			out = t.hold(cur, true, out, now)
		}
		return out
	case next == phaseAnswered:
		return t.hold(cur, d.Local.Held(), out, now)
	case next < cur.phase:
		t.log.Debug("a state never goes backwards", "rule", RuleNoGoingBack,
			"dialog", d.ID, "state", d.State)
	}
	// Same phase again, or back from confirmed to early (a re-INVITE, a
	// forked leg): nothing new for the core.
	return out
}

// hold reports a change of the hold the phone system says the officer put
// on the connected call cur.
func (t *tracker) hold(cur *tracked, held bool, out []app.CallEvent, now time.Time) []app.CallEvent {
	if cur.held == held {
		return out
	}
	cur.held = held
	ev := cur.ev
	ev.Kind, ev.At, ev.Reason = app.CallResumed, now, ""
	if held {
		ev.Kind = app.CallHeld
	}
	return append(out, ev)
}

// end reports the dialog id as ended for reason.
func (t *tracker) end(id, reason string, now time.Time) app.CallEvent {
	ev := t.dialogs[id].ev
	ev.Kind, ev.Reason, ev.At = app.CallEnded, reason, now
	delete(t.dialogs, id)
	t.remember(id, ev.CallID)
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
		LocalTag: d.LocalTag,
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
	if cur.LocalTag == "" {
		cur.LocalTag = old.LocalTag // Kamailio sends the tags while early only
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
