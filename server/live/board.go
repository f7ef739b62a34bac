package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/wire"
)

// Bus carries records between server instances. store.Bus implements it on
// PostgreSQL; a single instance needs none.
type Bus interface {
	Publish(ctx context.Context, payload []byte) error
	Listen(ctx context.Context, handle func([]byte), resync func()) error
}

// Persister keeps each agent's last record, so a restarted or added
// instance starts with the board as it was.
type Persister interface {
	SaveRecord(ctx context.Context, r Record) error
	LoadRecords(ctx context.Context) ([]Record, error)
}

// Record is what the board knows of one agent, on the server's clock. It is
// what instances exchange and what is persisted; AgentState is derived
// from it.
type Record struct {
	Agent    string           `json:"agent"`
	Device   string           `json:"device"`
	LastSeen time.Time        `json:"last_seen"`
	State    string           `json:"state"`
	Reason   string           `json:"reason,omitempty"`
	Since    time.Time        `json:"since"`
	Link     string           `json:"link,omitempty"`
	Call     *server.LiveCall `json:"call,omitempty"`
	Pending  int              `json:"pending"`
	Refused  int              `json:"refused,omitempty"`
	// Updated is the desktop's clock of the newest fact applied, so an
	// event that was queued offline does not override a newer heartbeat.
	Updated time.Time `json:"updated"`
	// Origin is the instance that made the record.
	Origin string `json:"origin,omitempty"`
}

// Options configure a Board.
type Options struct {
	Policy *policy.Policy
	Clock  func() time.Time
	Logger *slog.Logger
	// OfflineAfter is how long without a heartbeat makes an agent offline
	// (default 35 s: three missed 10 s heartbeats and some slack).
	OfflineAfter time.Duration
	// Tick is how often alerts and offline are re-evaluated (default 1 s).
	Tick time.Duration
	Bus  Bus       // nil: a single instance
	Save Persister // nil: nothing persisted
	// Instance names this server instance in records it publishes.
	Instance string
	// SaveEvery bounds how long an unchanged record goes unsaved (default 1 min).
	SaveEvery time.Duration
}

// Message is one change for subscribers, already encoded as the JSON of an
// SSE data line: {"now":…, "agent":{…}}.
type Message struct {
	Agent string
	Data  []byte
}

// Subscription receives the board's changes. C is closed when the
// subscriber fell too far behind or the board stopped; reconnect then.
type Subscription struct {
	// Snapshot is every agent's state at the time of subscribing.
	Snapshot []server.AgentState
	Now      time.Time
	C        <-chan *Message

	c      chan *Message
	board  *Board
	closed bool
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.board.mu.Lock()
	defer s.board.mu.Unlock()
	s.board.drop(s)
}

// subscriberBuffer is how many changes a slow subscriber may lag behind
// before it is dropped (and reconnects for a fresh snapshot).
const subscriberBuffer = 4096

// Board is the live board. It is safe for concurrent use.
type Board struct {
	o Options

	mu      sync.Mutex
	agents  map[string]*agent
	subs    map[*Subscription]bool
	stopped bool
}

type agent struct {
	rec       Record
	offset    time.Duration // server clock minus the desktop's
	view      server.AgentState
	viewJSON  []byte // the view as last published, to detect changes
	lastSaved time.Time
}

// New returns a board; Run makes it live.
func New(o Options) *Board {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = 35 * time.Second
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.SaveEvery <= 0 {
		o.SaveEvery = time.Minute
	}
	return &Board{o: o, agents: map[string]*agent{}, subs: map[*Subscription]bool{}}
}

// Run loads the saved records, listens to the bus and re-evaluates alerts
// every Tick until ctx ends; then it closes every subscription.
func (b *Board) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if b.o.Bus != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.o.Bus.Listen(ctx, b.remote, func() { b.load(ctx) })
		}()
	} else {
		b.load(ctx)
	}
	t := time.NewTicker(b.o.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			b.mu.Lock()
			b.stopped = true
			for s := range b.subs {
				b.drop(s)
			}
			b.mu.Unlock()
			return nil
		case <-t.C:
			b.Reevaluate()
		}
	}
}

// load merges the persisted records into the board.
func (b *Board) load(ctx context.Context) {
	if b.o.Save == nil {
		return
	}
	recs, err := b.o.Save.LoadRecords(ctx)
	if err != nil {
		b.o.Logger.Warn("live board: cannot load saved states", "err", err)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range recs {
		b.merge(r, false)
	}
}

// remote applies a record published by any instance.
func (b *Board) remote(payload []byte) {
	var r Record
	if err := json.Unmarshal(payload, &r); err != nil || r.Agent == "" {
		b.o.Logger.Warn("live board: bad record on the bus", "err", err)
		return
	}
	if r.Origin == b.o.Instance {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.merge(r, false)
}

// merge takes r if it is newer than what the board has; the caller holds mu.
func (b *Board) merge(r Record, local bool) {
	a := b.agents[r.Agent]
	if a == nil {
		a = &agent{}
		b.agents[r.Agent] = a
	} else if !local && r.LastSeen.Before(a.rec.LastSeen) && !r.Updated.After(a.rec.Updated) {
		return
	}
	a.rec = r
	b.publish(a, b.o.Clock())
}

// Heartbeat applies a desktop's heartbeat for agent.
func (b *Board) Heartbeat(ctx context.Context, agentID, device string, hb server.Heartbeat) {
	now := b.o.Clock()
	b.mu.Lock()
	a := b.agents[agentID]
	if a == nil {
		a = &agent{}
		b.agents[agentID] = a
	}
	a.offset = now.Sub(hb.At)
	r := Record{
		Agent: agentID, Device: device, LastSeen: now, State: hb.State, Reason: hb.Reason,
		Since: hb.Since.Add(a.offset), Link: hb.Link, Pending: hb.Pending, Refused: hb.Refused, Updated: hb.At, Origin: b.o.Instance,
	}
	if hb.Since.IsZero() {
		r.Since = now
	}
	if c := hb.Call; c != nil {
		r.Call = &server.LiveCall{ID: c.ID, Direction: c.Direction, Remote: server.MaskNumber(c.Remote), Started: c.Started.Add(a.offset), KeypadMasked: c.KeypadMasked}
		if old := a.rec.Call; old != nil && old.ID == c.ID {
			// Events may have counted more since the desktop's count.
			r.Call.KeypadMasked = max(r.Call.KeypadMasked, old.KeypadMasked)
		}
	}
	a.rec = r
	b.publish(a, now)
	save := now.Sub(a.lastSaved) >= b.o.SaveEvery || a.lastSaved.IsZero()
	b.mu.Unlock()
	b.share(ctx, r, save)
}

// Events applies the state changes among a desktop's events: they reach
// the board faster than the next heartbeat. Events older than what the
// board shows (queued while offline) change nothing.
func (b *Board) Events(ctx context.Context, agentID, device string, evs []server.Event) {
	now := b.o.Clock()
	b.mu.Lock()
	a := b.agents[agentID]
	if a == nil {
		a = &agent{rec: Record{Agent: agentID, State: "unknown", Since: now}}
		b.agents[agentID] = a
	}
	r := a.rec
	r.Device, r.LastSeen, r.Origin = device, now, b.o.Instance
	changed := false
	cutoff := r.Updated
	for _, e := range evs {
		if !e.Time.After(cutoff) {
			continue
		}
		at := e.Time.Add(a.offset)
		switch e.Type {
		case server.EventRecordingState:
			if r.State != e.State || r.Reason != e.Reason {
				r.State, r.Reason, r.Since = e.State, e.Reason, at
			}
		case server.EventCallRinging, server.EventCallAnswered:
			if e.Call != nil {
				r.Call = &server.LiveCall{ID: e.CallID, Direction: e.Call.Direction, Remote: server.MaskNumber(e.Call.Remote.Number), Started: e.Call.Started.Add(a.offset)}
			}
		case server.EventKeypadMasked:
			if r.Call == nil || r.Call.ID != e.CallID {
				continue
			}
			c := *r.Call
			c.KeypadMasked++
			r.Call = &c
		case server.EventCallEnded:
			if r.Call == nil || r.Call.ID == e.CallID {
				r.Call = nil
				r.State, r.Reason, r.Since = "idle", "", at
			}
		case server.EventLink:
			r.Link = e.State
			switch e.State {
			case "lost":
				r.State, r.Reason, r.Since = "unknown", e.Reason, at
			case "up", "manual":
				if r.State == "unknown" {
					r.State, r.Reason, r.Since = "idle", "", at
				}
			}
		default:
			continue
		}
		if e.Time.After(r.Updated) {
			r.Updated = e.Time
		}
		changed = true
	}
	a.rec = r
	b.publish(a, now)
	b.mu.Unlock()
	if changed {
		b.share(ctx, r, true)
	}
}

// share persists r (when save) and publishes it to the other instances.
func (b *Board) share(ctx context.Context, r Record, save bool) {
	if save && b.o.Save != nil {
		if err := b.o.Save.SaveRecord(ctx, r); err != nil {
			b.o.Logger.Warn("live board: cannot save state", "agent", r.Agent, "err", err)
		} else {
			b.mu.Lock()
			if a := b.agents[r.Agent]; a != nil {
				a.lastSaved = b.o.Clock()
			}
			b.mu.Unlock()
		}
	}
	if b.o.Bus != nil {
		payload, _ := json.Marshal(r)
		if err := b.o.Bus.Publish(ctx, payload); err != nil {
			b.o.Logger.Warn("live board: cannot publish to other instances", "agent", r.Agent, "err", err)
		}
	}
}

// Reevaluate recomputes every agent's alerts and online status and sends
// the changes; Run calls it every Tick.
func (b *Board) Reevaluate() {
	now := b.o.Clock()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.agents {
		b.publish(a, now)
	}
}

// publish derives a's view and sends it to subscribers if it changed; the
// caller holds mu.
func (b *Board) publish(a *agent, now time.Time) {
	v := b.derive(a.rec, now)
	data, _ := json.Marshal(v)
	if string(data) == string(a.viewJSON) {
		return
	}
	a.view, a.viewJSON = v, data
	msg := &Message{Agent: v.Agent, Data: encodeUpdate(now, data)}
	for s := range b.subs {
		select {
		case s.c <- msg:
		default:
			b.o.Logger.Warn("live board: subscriber too slow; dropping it")
			b.drop(s)
		}
	}
}

func encodeUpdate(now time.Time, agentJSON []byte) []byte {
	ts, _ := json.Marshal(now)
	out := make([]byte, 0, len(agentJSON)+64)
	out = append(out, `{"now":`...)
	out = append(out, ts...)
	out = append(out, `,"agent":`...)
	out = append(out, agentJSON...)
	out = append(out, '}')
	return out
}

// derive turns a record into the row a supervisor sees.
func (b *Board) derive(r Record, now time.Time) server.AgentState {
	v := server.AgentState{
		Agent: r.Agent, Device: r.Device, LastSeen: r.LastSeen, State: r.State, Reason: r.Reason,
		Since: r.Since, Link: r.Link, Call: r.Call, Pending: r.Pending, Refused: r.Refused, Alerts: []server.Alert{},
	}
	v.Online = now.Sub(r.LastSeen) <= b.o.OfflineAfter
	var remind time.Duration
	if r.State == "paused" {
		if b.o.Policy != nil {
			if pr := b.o.Policy.PauseReasonFor(r.Reason); pr != nil {
				v.ReasonLabel = pr.Label
				remind = pr.RemindAfter.D()
			}
		}
		if r.Reason == policy.HoldReason {
			v.ReasonLabel = "On hold"
		} else if remind == 0 {
			remind = 5 * time.Minute // a reason the server's policy does not know
		}
	}
	if !v.Online {
		v.Alerts = append(v.Alerts, server.Alert{Kind: server.AlertOffline, Since: r.LastSeen.Add(b.o.OfflineAfter),
			Message: "no heartbeat since " + r.LastSeen.Format("15:04:05") + " UTC"})
	}
	if remind > 0 && now.Sub(r.Since) > remind {
		label := v.ReasonLabel
		if label == "" {
			label = r.Reason
		}
		v.Alerts = append(v.Alerts, server.Alert{Kind: server.AlertPauseLong, Since: r.Since.Add(remind),
			Message: "paused for " + label + " longer than " + remind.String()})
	}
	if r.State == "failed" {
		msg := "recording failed"
		if r.Reason != "" {
			msg += ": " + r.Reason
		}
		v.Alerts = append(v.Alerts, server.Alert{Kind: server.AlertRecordingFailed, Since: r.Since, Message: msg})
	}
	if r.State == "unconfirmed" {
		v.Alerts = append(v.Alerts, server.Alert{Kind: server.AlertRecordingUnconfirmed, Since: r.Since,
			Message: server.UnconfirmedText})
	}
	if r.Refused > 0 {
		v.Alerts = append(v.Alerts, server.Alert{Kind: server.AlertEventsRefused, Since: r.LastSeen,
			Message: wire.RefusedText(r.Refused)})
	}
	if r.State == "unknown" || r.Link == "lost" {
		msg := "recording state unknown: the desktop cannot hear the phone system"
		if r.Reason != "" {
			msg += " (" + r.Reason + ")"
		}
		v.Alerts = append(v.Alerts, server.Alert{Kind: server.AlertStateUnknown, Since: r.Since, Message: msg})
	}
	return v
}

// Subscribe returns the board as it is and a channel of its changes.
func (b *Board) Subscribe() *Subscription {
	c := make(chan *Message, subscriberBuffer)
	s := &Subscription{C: c, c: c, board: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	s.Now = b.o.Clock()
	s.Snapshot = b.snapshot()
	if b.stopped {
		s.closed = true
		close(c)
		return s
	}
	b.subs[s] = true
	return s
}

// Snapshot returns every agent's state, by agent.
func (b *Board) Snapshot() []server.AgentState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.snapshot()
}

func (b *Board) snapshot() []server.AgentState {
	out := make([]server.AgentState, 0, len(b.agents))
	for _, a := range b.agents {
		if a.viewJSON == nil {
			continue
		}
		out = append(out, a.view)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Agent < out[j].Agent })
	return out
}

// Subscribers returns how many subscriptions are open.
func (b *Board) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// drop ends a subscription; the caller holds mu.
func (b *Board) drop(s *Subscription) {
	if s.closed {
		return
	}
	s.closed = true
	delete(b.subs, s)
	close(s.c)
}
