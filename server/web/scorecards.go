package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/autoscore"
)

// scorecardRoutes registers the scorecards page: the list, a scorecard's
// versions and its editor, saving, import and export in the policy format.
func (w *Web) scorecardRoutes() {
	w.handle(Page{Pattern: "GET /scorecards", Roles: Supervisors, Nav: "Scorecards"}, w.scorecardsPage)
	w.handle(Page{Pattern: "GET /scorecards/export", Roles: Supervisors}, w.exportScorecards)
	w.handle(Page{Pattern: "GET /scorecards/{id}", Roles: Supervisors}, w.scorecardPage)
	w.handle(Page{Pattern: "POST /scorecards", Roles: Supervisors}, w.saveScorecard)
	w.handle(Page{Pattern: "POST /scorecards/import", Roles: Supervisors}, w.importScorecards)
}

type scorecardsPage struct {
	Active []server.ScorecardVersion
	// Editing is the scorecard the editor shows (nil on the list), with
	// its versions; JSON is the editor's text.
	Editing  *server.ScorecardVersion
	Versions []server.ScorecardVersion
	JSON     string
	New      bool
	Import   string
	Problems []string
	Notice   string
	Example  string
	// Waiting calls are still to be scored; Stuck ones could not be (the
	// server's log says why).
	Waiting, Stuck int
}

// exampleScorecard is the new scorecard's starting text.
const exampleScorecard = `{
  "id": "service",
  "name": "Customer service",
  "categories": [],
  "sections": [
    {"name": "Conversation", "weight": 60, "criteria": [
      {"id": "talk", "name": "Talk ratio 30–70 %", "weight": 50, "kind": "automatic", "measure": "talk-ratio", "band": {"min": 30, "max": 70}},
      {"id": "silence", "name": "No silence longer than 20 s", "weight": 50, "kind": "automatic", "measure": "longest-silence", "band": {"max": 20}}
    ]},
    {"name": "Care", "weight": 40, "criteria": [
      {"id": "empathy", "name": "Showed empathy", "weight": 100, "kind": "manual", "scale": "1-5", "guidance": "Did the officer acknowledge how the caller felt?"},
      {"id": "ethics", "name": "Gave no ethical advice", "kind": "fail-all", "scale": "yes-no"}
    ]}
  ]
}`

func (w *Web) scorecardsPage(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	active, err := w.o.Store.ActiveScorecards(r.Context())
	if err != nil {
		return View{}, err
	}
	d := scorecardsPage{Active: active, New: true, JSON: exampleScorecard, Example: exampleScorecard}
	if d.Waiting, d.Stuck, err = w.o.Store.ScoringQueued(r.Context()); err != nil {
		return View{}, err
	}
	d.Waiting -= d.Stuck
	if r.URL.Query().Get("saved") != "" {
		d.Notice = "Saved. Every call with a recording is being scored again by it; the old scores are kept."
	}
	return View{Template: "scorecards", Title: "Scorecards", Data: d}, nil
}

func (w *Web) scorecardPage(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id := r.PathValue("id")
	versions, err := w.o.Store.ScorecardVersions(r.Context(), id)
	if err != nil {
		return View{}, err
	}
	show := versions[0]
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return View{}, BadInput("The version must be a number.")
		}
		if show, err = w.o.Store.Scorecard(r.Context(), id, n); err != nil {
			return View{}, err
		}
	}
	d := scorecardsPage{Editing: &show, Versions: versions, JSON: indent(show.Body)}
	if r.URL.Query().Get("saved") != "" {
		d.Notice = fmt.Sprintf("Saved as version %d. Every call with a recording is being scored again by it; the old scores are kept.", versions[0].Version)
	}
	return View{Template: "scorecards", Title: "Scorecard: " + show.Name, Data: d}, nil
}

func indent(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// parseScorecard reads a scorecard in the policy's format and checks it
// by the policy's rules (the categories included); the problems come in
// words, one per line.
func (w *Web) parseScorecard(text string) (policy.Scorecard, []string) {
	var c policy.Scorecard
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, []string{"The scorecard is not valid JSON in the policy's format: " + err.Error()}
	}
	if dec.More() {
		return c, []string{"There is more text after the scorecard's closing brace."}
	}
	return c, w.checkScorecards([]policy.Scorecard{c})
}

// checkScorecards checks scorecards by the policy's rules, its
// categories included (policy.ValidateScorecard); whether an id is taken
// is the store's to say, so each card may replace its own id.
func (w *Web) checkScorecards(cards []policy.Scorecard) []string {
	base := w.o.Policy
	if base == nil {
		base = &policy.Policy{}
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range cards {
		if seen[c.ID] {
			out = append(out, fmt.Sprintf("scorecard %q is in the text twice.", c.ID))
		}
		seen[c.ID] = true
		err := base.ValidateScorecard(c, c.ID)
		if err == nil {
			continue
		}
		where := "scorecard"
		if c.ID != "" {
			where = fmt.Sprintf("scorecard %q", c.ID)
		}
		for _, p := range strings.Split(strings.TrimPrefix(err.Error(), "invalid scorecard: "), "; ") {
			out = append(out, where+strings.TrimPrefix(p, "scorecard"))
		}
	}
	return out
}

func (w *Web) saveScorecard(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	text := r.PostFormValue("json")
	isNew := r.PostFormValue("new") != ""
	card, problems := w.parseScorecard(text)
	if len(problems) == 0 && isNew {
		if _, err := w.o.Store.Scorecard(r.Context(), card.ID, 0); err == nil {
			problems = append(problems, fmt.Sprintf("A scorecard with the id %q exists already: open it from the list to change it, or choose another id.", card.ID))
		} else if !errors.Is(err, server.ErrNotFound) {
			return View{}, err
		}
	}
	if !isNew && len(problems) == 0 && card.ID != r.PostFormValue("id") {
		problems = append(problems, fmt.Sprintf("The id of a scorecard cannot change (it was %q). To make another scorecard, start a new one.", r.PostFormValue("id")))
	}
	if len(problems) > 0 {
		d := scorecardsPage{JSON: text, New: isNew, Problems: problems, Example: exampleScorecard}
		if !isNew {
			versions, err := w.o.Store.ScorecardVersions(r.Context(), r.PostFormValue("id"))
			if err != nil {
				return View{}, err
			}
			d.Editing, d.Versions = &versions[0], versions
		} else {
			active, err := w.o.Store.ActiveScorecards(r.Context())
			if err != nil {
				return View{}, err
			}
			d.Active = active
		}
		return View{Template: "scorecards", Title: "Scorecards", Data: d, Status: http.StatusBadRequest}, nil
	}
	body, _ := json.Marshal(card)
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		v, err := w.o.Store.SaveScorecard(ctx, server.ScorecardVersion{ID: card.ID, Name: card.Name, Body: body}, s.Username, server.ScorecardFromWorkspace)
		if err != nil {
			return Entry{}, err
		}
		return Entry{server.AuditScorecardSave, "scorecard:" + v.ID, map[string]any{"version": v.Version, "source": v.Source}}, nil
	})
	if err != nil {
		return View{}, err
	}
	http.Redirect(rw, r, "/scorecards/"+card.ID+"?saved=1", http.StatusSeeOther)
	return View{}, nil
}

// scorecardsDoc is the policy format's part that holds scorecards: a
// whole policy file imports (its other fields are left alone), and the
// export is a policy fragment that "callguard-server" and the desktop's
// policy overlay read.
type scorecardsDoc struct {
	Scorecards []policy.Scorecard `json:"scorecards"`
}

func (w *Web) importScorecards(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	text := r.PostFormValue("policy")
	var (
		doc      scorecardsDoc
		fields   map[string]json.RawMessage
		problems []string
	)
	err := json.Unmarshal([]byte(text), &fields)
	if err == nil && fields["scorecards"] != nil {
		// Strictly: a misspelt field in a scorecard is an error, not a
		// criterion silently left without its band.
		dec := json.NewDecoder(bytes.NewReader(fields["scorecards"]))
		dec.DisallowUnknownFields()
		err = dec.Decode(&doc.Scorecards)
	}
	if err != nil {
		problems = append(problems, "The text is not a policy file in the policy's format (JSON): "+err.Error())
	} else if len(doc.Scorecards) == 0 {
		problems = append(problems, `The policy has no scorecards: they are its "scorecards" list.`)
	} else {
		problems = append(problems, w.checkScorecards(doc.Scorecards)...)
	}
	if len(problems) > 0 {
		active, _ := w.o.Store.ActiveScorecards(r.Context())
		d := scorecardsPage{Active: active, New: true, JSON: exampleScorecard, Import: text, Problems: problems, Example: exampleScorecard}
		return View{Template: "scorecards", Title: "Scorecards", Data: d, Status: http.StatusBadRequest}, nil
	}
	err = w.audited(r, s, func(ctx context.Context) (Entry, error) {
		saved := []string{}
		for _, c := range doc.Scorecards {
			body, _ := json.Marshal(c)
			if cur, err := w.o.Store.Scorecard(ctx, c.ID, 0); err == nil {
				if old, err := autoscore.ReadCard(cur); err == nil && old.Digest() == c.Digest() {
					continue // the same as the active version: no new version
				}
			}
			v, err := w.o.Store.SaveScorecard(ctx, server.ScorecardVersion{ID: c.ID, Name: c.Name, Body: body}, s.Username, server.ScorecardFromImport)
			if err != nil {
				return Entry{}, err
			}
			saved = append(saved, fmt.Sprintf("%s v%d", v.ID, v.Version))
		}
		return Entry{server.AuditScorecardSave, "scorecards", map[string]any{"source": server.ScorecardFromImport, "saved": saved}}, nil
	})
	if err != nil {
		return View{}, err
	}
	http.Redirect(rw, r, "/scorecards?saved=1", http.StatusSeeOther)
	return View{}, nil
}

// exportScorecards answers the active scorecards as a policy fragment.
func (w *Web) exportScorecards(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	active, err := w.o.Store.ActiveScorecards(r.Context())
	if err != nil {
		return View{}, err
	}
	doc := scorecardsDoc{Scorecards: []policy.Scorecard{}}
	for _, v := range active {
		var c policy.Scorecard
		if err := json.Unmarshal(v.Body, &c); err != nil {
			return View{}, fmt.Errorf("scorecard %s: %w", v.ID, err)
		}
		doc.Scorecards = append(doc.Scorecards, c)
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Content-Disposition", `attachment; filename="scorecards.json"`)
	rw.Write(append(b, '\n'))
	return View{}, nil
}
