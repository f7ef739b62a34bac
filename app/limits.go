package app

import "github.com/callguard/callguard/wire"

// The server refuses an event with a field past the contract's limits
// (wire), and a refused event reaches no one. What the phone system sends
// is not ours to refuse, so the core cuts it to the limits, at a character
// boundary, as it comes in; every event is fitted once more on its way out,
// so none can carry anything the server would refuse.

// FitParty returns p with its number, name and URI cut to the limits.
func FitParty(p Party) Party {
	return Party{Number: wire.Cut(p.Number, wire.MaxNumberLen), Name: wire.Cut(p.Name, wire.MaxNameLen), URI: wire.Cut(p.URI, wire.MaxURILen)}
}

// FitCallEvent returns ev with its parties, SIP Call-ID and reason cut to
// the limits.
func FitCallEvent(ev CallEvent) CallEvent {
	ev.Local, ev.Remote = FitParty(ev.Local), FitParty(ev.Remote)
	ev.CallID = wire.Cut(ev.CallID, wire.MaxURILen)
	ev.Reason = wire.Cut(ev.Reason, wire.MaxReasonLen)
	return ev
}

// fitEvent cuts every free-text field of ev to the limits. Ids are the
// core's own (NewID) and always fit.
func fitEvent(ev *Event) {
	ev.Agent = wire.Cut(ev.Agent, wire.MaxNameLen)
	ev.Reason = wire.Cut(ev.Reason, wire.MaxReasonLen)
	ev.Note = wire.Cut(ev.Note, wire.MaxNoteLen)
	if c := ev.Call; c != nil {
		fitted := *c
		fitted.Local, fitted.Remote = FitParty(c.Local), FitParty(c.Remote)
		fitted.SIPCallID = wire.Cut(c.SIPCallID, wire.MaxURILen)
		ev.Call = &fitted
	}
}
