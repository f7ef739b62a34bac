package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// callPageRoutes registers one call's page, its player's stream and its
// download. Playing and downloading are different rights and different
// audit actions: supervisors and dpos may play, only dpos may take a copy.
func (w *Web) callPageRoutes() {
	w.handle(Page{Pattern: "GET /calls/{id}", Roles: Listeners}, w.callPage)
	w.handle(Page{Pattern: "GET /calls/{id}/audio", Roles: Listeners}, w.audio)
	w.handle(Page{Pattern: "POST /calls/{id}/download", Roles: DPOs}, w.download)
}

// callPage is the data of the call template.
type callPage struct {
	Call     callRow
	Local    string
	Notice   string
	Timeline []moment
	// Bar is the recording as stretches, recorded or paused, each with
	// its share of the call in percent (for the bar's width).
	Bar []stretch
	// Player: the recording can be played (PlayID is the player's play);
	// NoPlay says why not, in words.
	Playable bool
	PlayID   string
	NoPlay   string
	// Download is open to the session (a dpo); Purposes its choices.
	Download bool
	Purposes []policy.DownloadPurpose
	Flags    []flagView
	// HoldsLink is shown to dpos (the holds page).
	HoldsLink bool
	Declined  bool
	Excluded  bool
	Failed    bool
	Skewed    bool
	// Scores are the call's current scores (scores.go), Calibration the
	// differences between its evaluators; ScoresShown: the session is a
	// supervisor, who evaluates calls (a dpo is shown none).
	ScoresShown bool
	Scores      []scoreView
	Calibration []calibrationView
}

type moment struct {
	At, What string
	// Kind is a word for the bullet's tag: ring, answer, notice, pause,
	// resume, flag, declined, end.
	Kind string
	t    time.Time
}

type stretch struct {
	Paused bool
	Reason string
	From   string
	To     string
	Width  string
}

type flagView struct {
	Label, Note, At, Review, Outcome, Span string
}

func (w *Web) loadCall(r *http.Request, s *Session, id string) (server.Call, error) {
	if !server.ValidID(id) {
		return server.Call{}, problem(http.StatusNotFound, "There is no call with that id. Check the link, or search for the call.")
	}
	var c server.Call
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		var err error
		if c, err = w.o.Store.Call(ctx, id); err != nil {
			return Entry{}, err
		}
		if err := w.mayRead(ctx, s, c.Agent); err != nil {
			return Entry{}, err
		}
		return Entry{server.AuditCallRead, id, nil}, nil
	})
	return c, err
}

// mayRead fails with server.ErrNotFound when s may not read a call of
// agent: a supervisor reads only her teams' agents' calls (and her own),
// and another team's call answers as a missing one (the API's rule).
func (w *Web) mayRead(ctx context.Context, s *Session, agent string) error {
	if s.Role != server.RoleSupervisor || agent == s.Username {
		return nil
	}
	ok, err := w.o.Store.Supervises(ctx, s.Username, agent)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("call of %s: %w", agent, server.ErrNotFound)
	}
	return nil
}

func (w *Web) callPage(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	c, err := w.loadCall(r, s, r.PathValue("id"))
	if err != nil {
		return View{}, err
	}
	p := callPage{Call: w.row(c), Local: c.Local.Number, Notice: noticeWords(c.Notice), Declined: c.Declined, Excluded: c.Excluded,
		Failed: c.Failed, Skewed: c.ClockSkewed, Download: s.Role == server.RoleDPO, HoldsLink: s.Role == server.RoleDPO,
		Purposes: w.o.Policy.DownloadPurposeList()}
	p.ScoresShown = s.Role == server.RoleSupervisor
	if p.Scores, p.Calibration, err = w.callScores(r, s, c); err != nil {
		return View{}, err
	}
	p.Timeline = w.timeline(c)
	p.Bar = bar(c, w.pauseLabel)
	for _, f := range c.Flags {
		fv := flagView{Label: w.flagLabel(f.Reason), Note: f.Note, At: when(f.At), Review: string(f.Review), Outcome: f.Outcome}
		if f.FromMS != nil && f.ToMS != nil {
			fv.Span = duration(time.Duration(*f.FromMS)*time.Millisecond) + " to " + duration(time.Duration(*f.ToMS)*time.Millisecond)
		}
		p.Flags = append(p.Flags, fv)
	}
	switch {
	case c.Recording == server.RecordingStored && w.o.Protect != nil && w.o.Protect.HasKey():
		p.Playable, p.PlayID = true, newToken()[:22]
	case c.Recording == server.RecordingStored:
		p.NoPlay = "The server has no organisation key, so it cannot play recordings (IT starts it with --identity)."
	case c.Recording == server.RecordingUploading:
		p.NoPlay = "The recording is still being uploaded from the officer's computer."
	case c.Recording == server.RecordingDeleted:
		p.NoPlay = "The recording was deleted (by retention, a review or an erasure)."
	default:
		p.NoPlay = "This call has no recording."
	}
	return View{Template: "call", Title: "Call of " + c.Agent + ", " + when(c.Started), Data: p}, nil
}

func noticeWords(n string) string {
	switch n {
	case "announced":
		return "announced by the phone system"
	case "read":
		return "read by the officer"
	case "objected":
		return "the caller objected to recording"
	case "pending", "":
		return "not given"
	}
	return n
}

// timeline is the call's moments in order: ring, answer, notice, each pause
// with its reason and its end, flags, the caller declining, the end.
func (w *Web) timeline(c server.Call) []moment {
	var out []moment
	add := func(t *time.Time, kind, what string) {
		if t != nil && !t.IsZero() {
			out = append(out, moment{At: when(*t), What: what, Kind: kind, t: *t})
		}
	}
	start := c.Started
	add(&start, "ring", "Ringing ("+c.Direction+")")
	add(c.Answered, "answer", "Answered")
	if c.Notice != "pending" && c.Notice != "" && c.Answered != nil {
		add(c.Answered, "notice", "Privacy notice: "+noticeWords(c.Notice))
	}
	for _, p := range c.Pauses {
		st := p.Start
		add(&st, "pause", "Recording paused: "+w.pauseLabel(p.Reason))
		if p.End != nil {
			add(p.End, "resume", fmt.Sprintf("Recording resumed (paused %s)", duration(p.End.Sub(p.Start))))
		}
	}
	for _, f := range c.Flags {
		at := f.At
		add(&at, "flag", "Flagged by the officer: "+w.flagLabel(f.Reason))
	}
	for _, k := range c.KeypadMasks {
		at := k.At
		add(&at, "keypad", fmt.Sprintf("Keypad tones masked in the recording (%s – %s of it)",
			duration(time.Duration(k.FromMS)*time.Millisecond), duration(time.Duration(k.ToMS)*time.Millisecond)))
	}
	add(c.DeclinedAt, "declined", "The caller declined recording")
	add(c.Ended, "end", "Ended")
	sort.SliceStable(out, func(i, j int) bool { return out[i].t.Before(out[j].t) })
	return out
}

func (w *Web) pauseLabel(id string) string {
	if w.o.Policy != nil {
		if p := w.o.Policy.PauseReason(id); p != nil {
			return p.Label
		}
	}
	if id == policy.HoldReason {
		return "call on hold"
	}
	return id
}

// bar splits the answered call into recorded and paused stretches.
func bar(c server.Call, label func(string) string) []stretch {
	if c.Answered == nil || c.Ended == nil || !c.Ended.After(*c.Answered) {
		return nil
	}
	from, to := *c.Answered, *c.Ended
	total := to.Sub(from)
	var out []stretch
	pct := func(d time.Duration) string { return fmt.Sprintf("%.2f%%", 100*float64(d)/float64(total)) }
	at := from
	for _, p := range c.Pauses {
		ps, pe := p.Start, to
		if p.End != nil {
			pe = *p.End
		}
		ps, pe = clamp(ps, from, to), clamp(pe, from, to)
		if !pe.After(ps) {
			continue
		}
		if ps.After(at) {
			out = append(out, stretch{From: duration(at.Sub(from)), To: duration(ps.Sub(from)), Width: pct(ps.Sub(at))})
		}
		out = append(out, stretch{Paused: true, Reason: label(p.Reason), From: duration(ps.Sub(from)), To: duration(pe.Sub(from)), Width: pct(pe.Sub(ps))})
		at = pe
	}
	if to.After(at) {
		out = append(out, stretch{From: duration(at.Sub(from)), To: duration(to.Sub(from)), Width: pct(to.Sub(at))})
	}
	return out
}

func clamp(t, lo, hi time.Time) time.Time {
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
}

// audio serves the recording to the page's player: ranged (seeking works),
// from one decryption per play, audited once per play (see plays.go).
func (w *Web) audio(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id := r.PathValue("id")
	playID := r.URL.Query().Get("play")
	if !server.ValidID(id) || len(playID) != 22 || strings.Trim(playID, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return View{}, problem(http.StatusNotFound, "There is no such recording. Open the call's page again.")
	}
	if w.o.Protect == nil || !w.o.Protect.HasKey() {
		w.auditRefusal(r, s, server.AuditPlay, id, map[string]any{"refused": "no organisation key on the server"})
		return View{}, server.ErrNoKey
	}
	p, _, err := w.plays.get(s.hash+"/"+id+"/"+playID, s.hash, id, func(out io.Writer) error {
		// Audited before a byte is decrypted for the browser: a play cut
		// short was still a play.
		err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
			c, err := w.o.Store.Call(ctx, id)
			if err != nil {
				return Entry{}, err
			}
			if err := w.mayRead(ctx, s, c.Agent); err != nil {
				return Entry{}, err
			}
			return Entry{server.AuditPlay, id, map[string]any{"play": playID}}, w.o.Protect.CheckRedacted(ctx, id)
		})
		if errors.Is(err, server.ErrRedactionPending) {
			w.auditRefusal(r, s, server.AuditPlay, id, map[string]any{"refused": "card details not yet silenced"})
		}
		if err != nil {
			return err
		}
		_, err = w.o.Protect.Play(context.WithoutCancel(r.Context()), id, out, nil)
		return err
	})
	if errors.Is(err, errTooManyPlays) {
		return View{}, problem(http.StatusServiceUnavailable, "Too many recordings are being played on this server just now. Try again in a few minutes.")
	}
	if err != nil {
		return View{}, err
	}
	// The first bytes say what the recording is: Ogg Opus (audio/ogg, which
	// browsers play natively) or a WAV.
	head := make([]byte, 4)
	n, _ := p.ReadAt(head, 0)
	ct, ext := artefact.MediaType(head[:n])
	rw.Header().Set("Content-Type", ct)
	rw.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="call-%s%s"`, id, ext))
	http.ServeContent(rw, r, "", time.Time{}, io.NewSectionReader(p, 0, p.size))
	return View{}, nil
}

// download hands a dpo a copy of the recording as it is stored (an Ogg
// Opus file, or a WAV for older recordings), for a
// purpose from the policy's list, audited as recording.download with it.
func (w *Web) download(rw http.ResponseWriter, r *http.Request, s *Session) (View, error) {
	id := r.PathValue("id")
	if !server.ValidID(id) {
		return View{}, problem(http.StatusNotFound, "There is no call with that id.")
	}
	purpose := w.o.Policy.DownloadPurpose(r.PostFormValue("purpose"))
	if purpose == nil {
		return View{}, BadInput("Choose why you are downloading the recording: the purpose is recorded in the audit, and a download without one is not allowed.")
	}
	if w.o.Protect == nil || !w.o.Protect.HasKey() {
		return View{}, server.ErrNoKey
	}
	err := w.audited(r, s, func(ctx context.Context) (Entry, error) {
		if _, err := w.o.Store.Call(ctx, id); err != nil {
			return Entry{}, err
		}
		// The file is the recording as stored: Opus, or a WAV for one made
		// before Opus (its manifest has no codec).
		format := "wav"
		if rec, err := w.o.Store.Recording(ctx, id); err == nil {
			if m, err := artefact.ParseManifest(rec.Manifest); err == nil && m.AudioCodec() == artefact.CodecOpus {
				format = "opus"
			}
		}
		return Entry{server.AuditDownload, id, map[string]any{"purpose": purpose.ID, "format": format}}, w.o.Protect.CheckRedacted(ctx, id)
	})
	if err != nil {
		return View{}, err
	}
	_, err = w.o.Protect.Play(r.Context(), id, &firstWriter{w: rw, first: func(head []byte) {
		ct, ext := artefact.MediaType(head)
		rw.Header().Set("Content-Type", ct)
		rw.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="call-%s%s"`, id, ext))
		rw.WriteHeader(http.StatusOK)
	}}, nil)
	if err != nil && rw.Header().Get("Content-Disposition") == "" {
		return View{}, err
	}
	if err != nil {
		w.o.Logger.Warn("download cut short", "call", id, "err", err)
	}
	return View{}, nil
}

// firstWriter calls first with the first bytes written, before they are
// written to w.
type firstWriter struct {
	w     io.Writer
	first func([]byte)
}

func (f *firstWriter) Write(p []byte) (int, error) {
	if f.first != nil && len(p) > 0 {
		f.first(p)
		f.first = nil
	}
	return f.w.Write(p)
}
