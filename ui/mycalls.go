package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
)

// ScoreHistory is what the "My calls" view asks of the server: the
// officer's own completed scores with their comments, and a way to add a
// comment or a dispute to one. *uplink.Client implements it.
type ScoreHistory interface {
	MyScores(ctx context.Context) ([]server.OfficerScore, error)
	CommentOnScore(ctx context.Context, scoreID int64, kind, text string) (server.ScoreComment, error)
}

// myCallsHotkey opens and closes the "My calls" view.
const myCallsHotkey = "Ctrl+Shift+C"

// MyCalls is the officer's "My calls" view: the calls a supervisor has
// scored, newest first, each criterion's answer in words and the
// evaluator's reasons, the comments, and a way to comment or dispute. It
// is read only but for the officer's own comments, and it has nothing to
// play: officers never hear recordings.
type MyCalls struct {
	history ScoreHistory
	calls   map[string]app.CallView // the calls the session still knows, by id
	parent  fyne.Window             // where the comment dialog opens

	bg *background // the loads and the comments sent

	summary *widget.Label
	problem *widget.Label
	rows    *fyne.Container
	content fyne.CanvasObject
}

// NewMyCalls builds the view. s is the session's snapshot: its live and
// recent calls describe the scored calls it still knows. Refresh loads
// the scores.
func NewMyCalls(history ScoreHistory, s app.Snapshot, parent fyne.Window) *MyCalls {
	m := &MyCalls{history: history, parent: parent, bg: newBackground(), calls: map[string]app.CallView{}}
	for _, c := range s.Recent {
		m.calls[c.ID] = c
	}
	for _, c := range s.Calls {
		m.calls[c.ID] = c
	}
	m.summary = widget.NewLabel("Loading your scored calls…")
	m.summary.Wrapping = fyne.TextWrapWord
	m.problem = dangerLabel()
	hint := widget.NewLabel("A score shows here once a supervisor has completed it. If you disagree, dispute it: your supervisor sees your words beside the score.")
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	m.rows = container.NewVBox()
	m.content = container.NewBorder(container.NewVBox(m.summary, m.problem), hint, nil, nil, container.NewVScroll(m.rows))
	return m
}

// Content is the view's root object.
func (m *MyCalls) Content() fyne.CanvasObject { return m.content }

// Refresh loads the scores from the server in the background and shows
// them, or why they could not be loaded. Call it on fyne's goroutine.
func (m *MyCalls) Refresh() {
	load(m.bg, m.history.MyScores, func(scores []server.OfficerScore, err error) {
		if err != nil {
			say(m.problem, scoresProblem(err, "list your scored calls"))
			if len(m.rows.Objects) == 0 {
				m.summary.Hide()
			}
			return
		}
		say(m.problem, "")
		m.show(scores)
	})
}

// Wait returns once every load and comment started so far has been
// answered and the answer shown.
func (m *MyCalls) Wait() { m.bg.Wait() }

// Stop cancels what is in flight and waits for it to end.
func (m *MyCalls) Stop() { m.bg.Stop() }

func (m *MyCalls) show(scores []server.OfficerScore) {
	scores = append([]server.OfficerScore(nil), scores...)
	sort.SliceStable(scores, func(i, j int) bool { return scores[i].CallStarted.After(scores[j].CallStarted) })
	var disputed int
	rows := make([]fyne.CanvasObject, 0, 2*len(scores))
	for i, s := range scores {
		if hasDispute(s) {
			disputed++
		}
		if i > 0 {
			rows = append(rows, widget.NewSeparator())
		}
		rows = append(rows, m.row(s))
	}
	m.rows.Objects = rows
	m.rows.Refresh()
	switch {
	case len(scores) == 0:
		m.summary.SetText("None of your calls has a completed score yet.")
	case disputed == 0:
		m.summary.SetText(fmt.Sprintf("Your scored calls, newest first: %d.", len(scores)))
	default:
		m.summary.SetText(fmt.Sprintf("Your scored calls, newest first: %d, %d of them disputed by you.", len(scores), disputed))
	}
	m.summary.Show()
}

// row is one score: the total and the scorecard in bold, which call and
// who scored it, each criterion in words, the comments, and the buttons.
func (m *MyCalls) row(s server.OfficerScore) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(scoreHeadline(s), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	if len(s.ZeroedBy) > 0 {
		head.Importance = widget.DangerImportance
	}
	which := "Call of " + when(s.CallStarted)
	if c, ok := m.calls[s.DesktopCallID]; ok {
		which = "Call: " + describe(c)
	}
	which += " · scored by " + s.Evaluator + " on " + when(s.Completed)
	parts := []string{which}
	if len(s.ZeroedBy) > 0 {
		parts = append(parts, "Scored 0 because of: "+strings.Join(s.ZeroedBy, ", ")+".")
	}
	section := ""
	for _, c := range s.Criteria {
		if c.Section != section {
			section = c.Section
			parts = append(parts, section+":")
		}
		parts = append(parts, "  • "+criterionWords(c))
	}
	for _, c := range s.Comments {
		parts = append(parts, commentWords(c))
	}
	body := widget.NewLabel(strings.Join(parts, "\n"))
	body.Wrapping = fyne.TextWrapWord
	id := s.ID
	comment := widget.NewButton("Comment…", func() { m.askComment(id, server.CommentNote) })
	dispute := widget.NewButton("Dispute…", func() { m.askComment(id, server.CommentDispute) })
	return container.NewVBox(head, body, container.NewHBox(comment, dispute))
}

// askComment asks for the text of a comment or a dispute and sends it.
func (m *MyCalls) askComment(scoreID int64, kind string) {
	text := widget.NewMultiLineEntry()
	text.Wrapping = fyne.TextWrapWord
	text.SetMinRowsVisible(4)
	title, prompt, confirm := "Comment on this score", "Your comment", "Send comment"
	if kind == server.CommentDispute {
		title, prompt, confirm = "Dispute this score", "Why the score is wrong (your supervisor reads this)", "Send dispute"
	}
	// The problem's line is always there, so the dialog never has to grow
	// when it says something.
	problem := dangerLabel()
	problem.Show()
	text.OnChanged = func(string) { problem.SetText("") }
	form := container.NewVBox(widget.NewLabel(prompt), text, problem)
	var d *dialog.CustomDialog
	send := widget.NewButton(confirm, nil)
	send.Importance = widget.HighImportance
	send.OnTapped = func() {
		words := strings.TrimSpace(text.Text)
		if words == "" {
			problem.SetText("Write something first.")
			return
		}
		send.Disable()
		post := func(ctx context.Context) (server.ScoreComment, error) {
			return m.history.CommentOnScore(ctx, scoreID, kind, words)
		}
		submit(m.bg, post, func(_ server.ScoreComment, err error) {
			if err != nil {
				send.Enable()
				problem.SetText(scoresProblem(err, "take your "+kindWord(kind)))
				return
			}
			d.Hide()
			m.Refresh()
		})
	}
	cancel := widget.NewButton("Cancel", func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons(title, form, m.parent)
	d.SetButtons([]fyne.CanvasObject{cancel, send})
	d.Resize(fyne.NewSize(400, 300))
	d.Show()
	m.parent.Canvas().Focus(text)
}

func kindWord(kind string) string {
	if kind == server.CommentDispute {
		return "dispute"
	}
	return "comment"
}

func hasDispute(s server.OfficerScore) bool {
	for _, c := range s.Comments {
		if c.Kind == server.CommentDispute {
			return true
		}
	}
	return false
}

// scoreHeadline is "78 % · Housing calls (version 2)".
func scoreHeadline(s server.OfficerScore) string {
	total := "No total"
	if s.Total != nil {
		total = fmt.Sprintf("%.0f %%", *s.Total)
	}
	return fmt.Sprintf("%s · %s (version %d)", total, s.Scorecard, s.ScorecardVersion)
}

// criterionWords says one criterion's answer, and why where there is a why.
func criterionWords(c server.OfficerCriterion) string {
	var answer string
	switch c.Status {
	case server.CriterionPass:
		answer = "met"
	case server.CriterionFail:
		answer = "not met"
	case server.CriterionPoints:
		answer = fmt.Sprintf("%.0f %% of its points", c.Points)
	case server.CriterionNA:
		answer = "does not apply to this call"
	case server.CriterionNotMeasured:
		answer = "not measured, so left out of the total"
	case server.CriterionUnanswered:
		answer = "not answered, so left out of the total"
	default:
		answer = fmt.Sprintf("answered (%q: this version of callguard has no words for it)", c.Status)
	}
	s := c.Name + ": " + answer
	switch {
	case c.Value != "" && c.Status == server.CriterionNotMeasured:
		s += ": " + c.Value // why, which may hold parentheses of its own
	case c.Value != "":
		s += " (" + c.Value + ")"
	}
	if c.Reason != "" {
		s += " — changed by the evaluator: " + c.Reason
	}
	return s
}

func commentWords(c server.ScoreComment) string {
	what := "Comment"
	if c.Kind == server.CommentDispute {
		what = "Dispute"
	}
	return fmt.Sprintf("%s by %s, %s: %s", what, c.Author, when(c.At), c.Text)
}

// scoresProblem says in plain words why the server could not do what was
// asked.
func scoresProblem(err error, what string) string {
	switch {
	case errors.Is(err, uplink.ErrUnauthorized):
		return "The server no longer accepts this computer: ask IT to enrol it again in Settings."
	case errors.Is(err, context.DeadlineExceeded):
		return "The server did not answer in time: try again in a moment."
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "Cannot reach the server: " + ue.Err.Error() + "."
	}
	if words := serverWords(err); words != "" {
		return "The server could not " + what + ": " + words
	}
	return "Cannot reach the server: " + innermost(err) + "."
}
