package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// FlagHistory is what the "My flags" view asks of the server: the
// officer's own flags of the last 30 days, newest first, with what came of
// each. *uplink.Client implements it.
type FlagHistory interface {
	MyFlags(ctx context.Context) ([]server.FlagOutcome, error)
}

// myFlagsHotkey opens and closes the "My flags" view.
const myFlagsHotkey = "Ctrl+Shift+F"

// MyFlags is the officer's "My flags" view: the calls they flagged for
// deletion in the last 30 days and what the data-protection officer did
// with each, in words. It never shows the officer's note or the dpo's
// reason: the server sends neither.
type MyFlags struct {
	history FlagHistory
	pol     *policy.Policy
	calls   map[string]app.CallView // the calls the session still knows, by id

	bg *background // the loads

	summary *widget.Label
	problem *widget.Label
	rows    *fyne.Container
	content fyne.CanvasObject
}

// NewMyFlags builds the view. s is the session's snapshot: its live and
// recent calls describe the flagged calls it still knows. Refresh loads
// the flags.
func NewMyFlags(history FlagHistory, pol *policy.Policy, s app.Snapshot) *MyFlags {
	m := &MyFlags{history: history, pol: pol, bg: newBackground(), calls: map[string]app.CallView{}}
	for _, c := range s.Recent {
		m.calls[c.ID] = c
	}
	for _, c := range s.Calls {
		m.calls[c.ID] = c
	}
	m.summary = widget.NewLabel("Loading your flags…")
	m.summary.Wrapping = fyne.TextWrapWord
	m.problem = dangerLabel()
	hint := widget.NewLabel("A flag you have just raised shows here once it has reached the server.")
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	m.rows = container.NewVBox()
	m.content = container.NewBorder(container.NewVBox(m.summary, m.problem), hint, nil, nil, container.NewVScroll(m.rows))
	return m
}

// Content is the view's root object.
func (m *MyFlags) Content() fyne.CanvasObject { return m.content }

// Refresh loads the flags from the server in the background and shows
// them, or why they could not be loaded. Call it on fyne's goroutine.
func (m *MyFlags) Refresh() {
	load(m.bg, m.history.MyFlags, func(flags []server.FlagOutcome, err error) {
		if err != nil {
			say(m.problem, flagsProblem(err))
			if len(m.rows.Objects) == 0 {
				m.summary.Hide()
			}
			return
		}
		say(m.problem, "")
		m.show(flags)
	})
}

// Wait returns once every load started so far has been answered and the
// answer shown.
func (m *MyFlags) Wait() { m.bg.Wait() }

// Stop cancels the loads in flight and waits for them to end.
func (m *MyFlags) Stop() { m.bg.Stop() }

func (m *MyFlags) show(flags []server.FlagOutcome) {
	flags = append([]server.FlagOutcome(nil), flags...)
	sort.SliceStable(flags, func(i, j int) bool { return flags[i].At.After(flags[j].At) })
	var waiting int
	rows := make([]fyne.CanvasObject, 0, 2*len(flags))
	for i, f := range flags {
		if f.Outcome == server.OutcomePending {
			waiting++
		}
		if i > 0 {
			rows = append(rows, widget.NewSeparator())
		}
		rows = append(rows, m.row(f))
	}
	m.rows.Objects = rows
	m.rows.Refresh()
	switch {
	case len(flags) == 0:
		m.summary.SetText("You have not flagged a call in the last 30 days.")
	case waiting == 0:
		m.summary.SetText(fmt.Sprintf("Your flags of the last 30 days, newest first: %d, all decided.", len(flags)))
	default:
		m.summary.SetText(fmt.Sprintf("Your flags of the last 30 days, newest first: %d, %d waiting for the data-protection officer.", len(flags), waiting))
	}
	m.summary.Show()
}

// row is one flag: what came of it in bold, then why and which call.
func (m *MyFlags) row(f server.FlagOutcome) fyne.CanvasObject {
	title := outcomeWords(f.Outcome)
	if f.Decided != nil && f.Outcome != server.OutcomePending {
		title += " · " + when(*f.Decided)
	}
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	if f.Outcome == server.OutcomePending {
		head.Importance = widget.WarningImportance
	}
	what := m.reasonLabel(f.Reason)
	if f.FromMS != nil && f.ToMS != nil {
		what += " · the part from " + interval(f.FromMS, f.ToMS)
	}
	which := "Flagged " + when(f.At)
	if c, ok := m.calls[f.CallID]; ok {
		which += " · call: " + describe(c)
	}
	body := widget.NewLabel(what + "\n" + which)
	body.Wrapping = fyne.TextWrapWord
	return container.NewVBox(head, body)
}

func (m *MyFlags) reasonLabel(id string) string {
	if m.pol != nil {
		if r := m.pol.FlagReason(id); r != nil {
			return r.Label
		}
	}
	return id
}

// outcomeWords says what came of a flag in words for the officer.
func outcomeWords(outcome string) string {
	switch outcome {
	case server.OutcomePending:
		return "Waiting for the data-protection officer"
	case server.OutcomeDeleted:
		return "Deleted"
	case server.OutcomeRedacted:
		return "The flagged part was silenced"
	case server.OutcomeKept:
		return "Kept after review"
	}
	return fmt.Sprintf("Decided (%q: this version of callguard has no words for it)", outcome)
}

// flagsProblem says in plain words why the flags could not be loaded; the
// flags themselves are on the server or in the outbox either way.
func flagsProblem(err error) string {
	const safe = "; your flags are safe and will be reviewed."
	switch {
	case errors.Is(err, uplink.ErrUnauthorized):
		return "The server no longer accepts this computer: ask IT to enrol it again in Settings" + safe
	case errors.Is(err, context.DeadlineExceeded):
		return "The server did not answer in time: try again in a moment" + safe
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "Cannot reach the server: " + ue.Err.Error() + safe
	}
	if words := serverWords(err); words != "" {
		return "The server could not list your flags: " + words + safe
	}
	return "Cannot reach the server: " + innermost(err) + safe
}
