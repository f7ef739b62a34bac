package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/wire"
)

// The words the view uses; plain functions, tested without a window.

func queueSummary(q server.ReviewQueue) string {
	var waiting, approval int
	for _, it := range q.Items {
		switch it.State {
		case server.ReviewAwaitingApproval:
			approval++
		case server.ReviewOpen, server.ReviewAutoRedacted, server.ReviewRedactionPending:
			waiting++
		}
	}
	s := fmt.Sprintf("%d waiting for a decision", waiting)
	if approval > 0 || q.TwoPersonDeletion {
		s += fmt.Sprintf(" · %d waiting for a second officer's approval", approval)
	}
	if q.TwoPersonDeletion {
		s += " · every deletion needs two data-protection officers"
	}
	if !q.ServerHasKey {
		s += " · the server has no organisation key: it cannot silence part of a recording"
	}
	return s
}

func itemReason(it server.ReviewItem) string {
	if it.Label != "" {
		return it.Label
	}
	return it.Reason
}

func itemTitle(it server.ReviewItem) string {
	return itemReason(it) + " — " + stateWords(it)
}

func itemLine(it server.ReviewItem) string {
	who := it.Remote
	if who == "" {
		who = "withheld"
	}
	return fmt.Sprintf("%s · %s %s · %s", it.Officer, it.Direction, who, when(it.At))
}

func callWords(it server.ReviewItem) string {
	who := it.Remote
	if who == "" {
		who = "withheld number"
	}
	dir := it.Direction
	if dir == "" {
		dir = "call"
	} else {
		dir += " call"
	}
	return fmt.Sprintf("%s %s %s at %s", dir, fromOrTo(it.Direction), who, when(it.Started))
}

func fromOrTo(direction string) string {
	if d, _ := wire.ParseDirection(direction); d == wire.DirectionOutbound {
		return "to"
	}
	return "from"
}

func stateWords(it server.ReviewItem) string {
	switch it.State {
	case server.ReviewOpen:
		return "waiting for a decision"
	case server.ReviewAwaitingApproval:
		return "waiting for a second officer's approval"
	case server.ReviewApproved:
		return "approved, being carried out"
	case server.ReviewRedactionPending:
		switch it.Pending {
		case server.PendingNoKey:
			return "card details: silenced once the server has its key"
		case server.PendingNoRecording:
			return "card details: silenced once the recording arrives"
		}
		return "card details: waiting to be silenced"
	case server.ReviewAutoRedacted:
		return "card details silenced: confirm"
	case server.ReviewDone:
		return "done (" + it.Outcome + ")"
	}
	return string(it.State)
}

func recordingWords(s string) string {
	switch s {
	case server.RecordingStored:
		return "on the server"
	case server.RecordingUploading:
		return "still uploading"
	case server.RecordingNone, "":
		return "not on the server"
	case server.RecordingDeleted:
		return "deleted"
	}
	return s
}

func retentionWords(it server.ReviewItem) string {
	if it.DeleteAfter == nil {
		return orDash(it.RetentionRule)
	}
	return fmt.Sprintf("%s: deleted after %s", it.RetentionRule, when(*it.DeleteAfter))
}

func decisionWords(action string, from, to *int64) string {
	switch action {
	case server.DecisionDelete:
		return "delete the whole recording"
	case server.DecisionDeleteInterval:
		return "silence " + interval(from, to)
	case server.DecisionKeep:
		return "keep the recording"
	case server.DecisionConfirm:
		return "confirm the redaction"
	}
	return action
}

func holdWhat(h server.Hold) string {
	var what string
	switch {
	case h.CallID != "":
		what = "call " + h.CallID
	case h.Number != "":
		what = "number " + h.Number
	case h.Agent != "":
		what = "officer " + h.Agent
	}
	switch {
	case h.From != nil && h.To != nil:
		what += fmt.Sprintf(", calls from %s to %s", day(*h.From), day(*h.To))
	case h.From != nil:
		what += ", calls from " + day(*h.From)
	case h.To != nil:
		what += ", calls until " + day(*h.To)
	}
	return what
}

func holdTitle(h server.Hold) string {
	return fmt.Sprintf("#%d %s — %s", h.ID, h.Reason, holdWhat(h))
}

func (r *Review) holdLine(h server.Hold) string {
	parts := []string{"owner " + orDash(h.Owner)}
	if h.ReviewAt != nil {
		review := "review by " + day(*h.ReviewAt)
		if !r.report.Until.IsZero() && h.ReviewAt.Before(r.report.Until) {
			review += " (due)"
		}
		parts = append(parts, review)
	}
	parts = append(parts, fmt.Sprintf("covers %d call(s)", h.Calls))
	if h.Note != "" {
		parts = append(parts, h.Note)
	}
	if h.LiftRequestedBy != "" {
		parts = append(parts, fmt.Sprintf("lift asked by %s: %s", h.LiftRequestedBy, h.LiftReason))
	}
	return strings.Join(parts, " · ")
}

func when(t time.Time) string { return t.Local().Format("2 Jan 2006 15:04") }

func day(t time.Time) string { return t.Local().Format("2 Jan 2006") }

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// seconds shows ms as seconds for the interval entries ("" for none).
func seconds(ms *int64) string {
	if ms == nil {
		return ""
	}
	return strconv.FormatFloat(float64(*ms)/1000, 'f', -1, 64)
}

func interval(from, to *int64) string {
	if from == nil || to == nil {
		return "none marked"
	}
	return fmt.Sprintf("%s s to %s s", seconds(from), seconds(to))
}

// parseSeconds reads a time into the recording, "75", "75.5" or "1:15",
// as milliseconds.
func parseSeconds(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("give it in seconds from the start of the recording, e.g. 75 or 1:15")
	}
	var mins float64
	if m, rest, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.ParseUint(m, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not minutes:seconds, e.g. 1:15", s)
		}
		mins, s = float64(n), rest
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || sec < 0 || math.IsInf(sec, 0) || math.IsNaN(sec) || (mins > 0 && sec >= 60) {
		return 0, fmt.Errorf("%q is not a number of seconds, e.g. 75 or 1:15", s)
	}
	return int64(math.Round((mins*60 + sec) * 1000)), nil
}

// explainServer says in plain words why a request failed, with the
// server's own words when it gave any.
func explainServer(err error) string {
	var plain string
	switch {
	case errors.Is(err, uplink.ErrForbidden):
		plain = "this account may not do that; only data-protection officers may"
	case errors.Is(err, uplink.ErrUnauthorized):
		plain = "the server no longer accepts this computer: enrol it again in Settings"
	case errors.Is(err, uplink.ErrNoKey):
		plain = "the server has no organisation key, so it cannot play or silence recordings (IT starts it with --identity)"
	case errors.Is(err, uplink.ErrGone):
		plain = "the recording has already been deleted"
	case errors.Is(err, uplink.ErrConflict):
		plain = "the server's records have moved on: another officer acted on it, a second officer must act, or the recording is not on the server yet"
	case errors.Is(err, context.DeadlineExceeded):
		return "the server did not answer in time; try again"
	case errors.Is(err, context.Canceled):
		return "the view was closed"
	}
	var ue *url.Error
	if plain == "" && errors.As(err, &ue) {
		return "the server cannot be reached (" + ue.Err.Error() + ")"
	}
	words := serverWords(err)
	switch {
	case plain == "" && words == "":
		return innermost(err)
	case plain == "":
		return words
	case words == "":
		return plain
	}
	return plain + " (the server said: " + words + ")"
}

// serverWords is the server's message in err, or "" when err is not the
// server's refusal.
func serverWords(err error) string {
	var he *uplink.HTTPError
	if errors.As(err, &he) {
		return he.Message
	}
	return ""
}

// innermost is the error at the end of err's chain, without the context
// wrapped around it on the way up.
func innermost(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}
