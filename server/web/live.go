package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/callguard/callguard/server"
)

// liveRoutes registers the supervisors' live board: the page (the board
// as it is, rendered on the server) and its stream (Server-Sent Events,
// read by assets/live.js). The attention rules are the board's own
// (server/live derives each row's alerts), as on the desktop board.
func (w *Web) liveRoutes() {
	w.handle(Page{Pattern: "GET /live", Roles: Listeners, Nav: "Live board"}, w.livePage)
	w.handle(Page{Pattern: "GET /live/events", Roles: Listeners}, w.liveEvents)
}

// liveRow is one officer on the board.
type liveRow struct {
	Agent, State, Reason, Since, Call string
	Online                            bool
	Alerts                            []string
}

type livePage struct {
	Rows                                    []liveRow
	Online, OnCalls, Paused, NeedsAttention int
}

// visible returns who s may see on the board: a supervisor her teams'
// agents, a dpo everyone (the API's rule).
func (w *Web) visible(r *http.Request, s *Session) (func(string) bool, error) {
	if s.Role != server.RoleSupervisor {
		return func(string) bool { return true }, nil
	}
	all, agents, err := w.o.Store.Supervised(r.Context(), s.Username)
	if err != nil {
		return nil, err
	}
	return func(a string) bool { return all || agents[a] }, nil
}

// attentionFirst orders the board as the desktop's "Attention first":
// more alerts first, then offline, then by name.
func attentionFirst(rows []server.AgentState) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if len(a.Alerts) != len(b.Alerts) {
			return len(a.Alerts) > len(b.Alerts)
		}
		if a.Online != b.Online {
			return !a.Online
		}
		return a.Agent < b.Agent
	})
}

func (w *Web) livePage(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	if w.o.Board == nil {
		return View{}, problem(http.StatusServiceUnavailable, "The live board is not running on this server.")
	}
	visible, err := w.visible(r, s)
	if err != nil {
		return View{}, err
	}
	sub := w.o.Board.Subscribe()
	sub.Close()
	var states []server.AgentState
	for _, st := range sub.Snapshot {
		if visible(st.Agent) {
			states = append(states, st)
		}
	}
	attentionFirst(states)
	p := livePage{}
	for _, st := range states {
		row := liveRow{Agent: st.Agent, State: stateWords(st), Since: st.Since.Local().Format("15:04:05"), Online: st.Online}
		if st.Call != nil {
			row.Call = st.Call.Direction + " call with " + st.Call.Remote
			p.OnCalls++
		}
		for _, a := range st.Alerts {
			row.Alerts = append(row.Alerts, a.Message)
		}
		if st.Online {
			p.Online++
		}
		if st.State == "paused" {
			p.Paused++
		}
		if len(st.Alerts) > 0 {
			p.NeedsAttention++
		}
		p.Rows = append(p.Rows, row)
	}
	return View{Template: "live", Title: "Live board", Data: p}, nil
}

// stateWords is the row's state as the board says it.
func stateWords(st server.AgentState) string {
	if !st.Online {
		return "offline"
	}
	if st.State == "paused" && st.ReasonLabel != "" {
		return "paused: " + st.ReasonLabel
	}
	return st.State
}

// liveEvents streams the board's changes the session may see: a snapshot,
// then one event an agent change, with comments to keep proxies open.
func (w *Web) liveEvents(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	if w.o.Board == nil {
		return View{}, problem(http.StatusServiceUnavailable, "The live board is not running on this server.")
	}
	fl, ok := rw.(http.Flusher)
	if !ok {
		return View{}, fmt.Errorf("streaming unsupported")
	}
	visible, err := w.visible(r, s)
	if err != nil {
		return View{}, err
	}
	rc := http.NewResponseController(rw)
	rc.SetReadDeadline(time.Time{})
	sub := w.o.Board.Subscribe()
	defer sub.Close()
	rw.Header().Set("Content-Type", "text/event-stream")
	rw.Header().Set("X-Accel-Buffering", "no")
	rw.WriteHeader(http.StatusOK)
	agents := make([]server.AgentState, 0, len(sub.Snapshot))
	for _, st := range sub.Snapshot {
		if visible(st.Agent) {
			agents = append(agents, st)
		}
	}
	snap, _ := json.Marshal(map[string]any{"now": sub.Now.UTC(), "agents": agents})
	stall := 30 * time.Second
	rc.SetWriteDeadline(time.Now().Add(stall))
	fmt.Fprintf(rw, "retry: 2000\nevent: snapshot\ndata: %s\n\n", snap)
	fl.Flush()
	keep := time.NewTicker(w.o.Keepalive)
	defer keep.Stop()
	// A supervisor's teams are read again now and then, so a team change
	// reaches an open board.
	reload := time.NewTicker(30 * time.Second)
	defer reload.Stop()
	for {
		select {
		case <-r.Context().Done():
			return View{}, nil
		case <-reload.C:
			if v, err := w.visible(r, s); err == nil {
				visible = v
			}
		case <-keep.C:
			rc.SetWriteDeadline(time.Now().Add(stall))
			if _, err := io.WriteString(rw, ": keepalive\n\n"); err != nil {
				return View{}, nil
			}
			fl.Flush()
		case m, ok := <-sub.C:
			if !ok {
				return View{}, nil // the browser reconnects and gets a fresh snapshot
			}
			rc.SetWriteDeadline(time.Now().Add(stall))
			if visible(m.Agent) {
				if _, err := fmt.Fprintf(rw, "event: agent\ndata: %s\n\n", m.Data); err != nil {
					return View{}, nil
				}
			}
			fl.Flush()
		}
	}
}
