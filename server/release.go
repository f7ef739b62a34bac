package server

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/callguard/callguard/policy"
)

// Release states: a request is entered, then authorised by a second person
// who holds a job role the policy lists for its purpose, then released
// when the package is handed over.
const (
	ReleaseRequested  = "requested"
	ReleaseAuthorised = "authorised"
	ReleaseReleased   = "released"
)

// ReleaseStates lists the release states in their order.
var ReleaseStates = []string{ReleaseRequested, ReleaseAuthorised, ReleaseReleased}

// Release is one entry of the third-party release register: the request
// form of the policy's release procedure (NWH's appendix 1), who entered
// and who authorised it, and when the package was released.
type Release struct {
	ID int64 `json:"id"`
	// The call as the form describes it: date, and time and number if known.
	CallDate string `json:"call_date"`           // YYYY-MM-DD
	CallTime string `json:"call_time,omitempty"` // HH:MM
	Number   string `json:"number,omitempty"`
	// Calls are the ids of the calls whose recordings the package carries.
	Calls []string `json:"calls"`
	// Requester is the person requesting the recording (a name, an
	// organisation), as the form asks.
	Requester string `json:"requester"`
	// Purpose is the id of the policy's release purpose; PurposeLabel and
	// LawfulBasis are its words when the request was entered.
	Purpose      string `json:"purpose"`
	PurposeLabel string `json:"purpose_label"`
	LawfulBasis  string `json:"lawful_basis"`
	// OnBehalf is true when the request is on behalf of a third party,
	// whom ThirdParty describes.
	OnBehalf   bool   `json:"on_behalf"`
	ThirdParty string `json:"third_party,omitempty"`
	// RequestedOn is the date of the request (YYYY-MM-DD).
	RequestedOn string `json:"requested_on"`
	// The person in receipt of the recording.
	RecipientName  string `json:"recipient_name"`
	RecipientTitle string `json:"recipient_title"`

	State     string    `json:"state"`
	EnteredBy string    `json:"entered_by"`
	Entered   time.Time `json:"entered"`
	// AuthorisedBy is the account that authorised it, AuthorisedAs the job
	// role it held then.
	AuthorisedBy string     `json:"authorised_by,omitempty"`
	AuthorisedAs string     `json:"authorised_as,omitempty"`
	AuthorisedAt *time.Time `json:"authorised_at,omitempty"`
	// DisclosedOn is the date of disclosure (YYYY-MM-DD); ReleasedBy and
	// ReleasedAt say who first generated the package and when.
	DisclosedOn string     `json:"disclosed_on,omitempty"`
	ReleasedBy  string     `json:"released_by,omitempty"`
	ReleasedAt  *time.Time `json:"released_at,omitempty"`
	// PackageSHA256 is the sha256 of the zip first released.
	PackageSHA256 string `json:"package_sha256,omitempty"`
}

// ReleaseTarget is the audit target of a release: "release:<id>".
func ReleaseTarget(id int64) string { return "release:" + strconv.FormatInt(id, 10) }

// ReleaseRequest is the request form as it is filled in.
type ReleaseRequest struct {
	CallDate       string   `json:"call_date"`
	CallTime       string   `json:"call_time,omitempty"`
	Number         string   `json:"number,omitempty"`
	Calls          []string `json:"calls"`
	Requester      string   `json:"requester"`
	Purpose        string   `json:"purpose"`
	OnBehalf       bool     `json:"on_behalf"`
	ThirdParty     string   `json:"third_party,omitempty"`
	RequestedOn    string   `json:"requested_on"`
	RecipientName  string   `json:"recipient_name"`
	RecipientTitle string   `json:"recipient_title"`
}

// MaxReleaseCalls is how many calls one release may carry.
const MaxReleaseCalls = 50

var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// LatestToday is the latest calendar date it is anywhere now (UTC+14): a
// date after it is in the future wherever the organisation is.
func LatestToday(now time.Time) string { return now.UTC().Add(14 * time.Hour).Format(time.DateOnly) }

// EarliestDay is the earliest calendar date t falls on anywhere (UTC−12).
func EarliestDay(t time.Time) string { return t.UTC().Add(-12 * time.Hour).Format(time.DateOnly) }

// Validate checks a request against the policy's release purposes and
// returns the register entry it makes, or every problem at once in words
// the person filling in the form understands (errors wrap ErrInvalid).
func (r ReleaseRequest) Validate(p *policy.Policy, now time.Time) (Release, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	trim := strings.TrimSpace
	rel := Release{CallDate: trim(r.CallDate), CallTime: trim(r.CallTime), Number: trim(r.Number), Requester: trim(r.Requester),
		Purpose: trim(r.Purpose), OnBehalf: r.OnBehalf, ThirdParty: trim(r.ThirdParty), RequestedOn: trim(r.RequestedOn),
		RecipientName: trim(r.RecipientName), RecipientTitle: trim(r.RecipientTitle), State: ReleaseRequested}
	today := LatestToday(now)
	date := func(field, v string) {
		switch d, err := time.Parse(time.DateOnly, v); {
		case v == "":
			bad("%s is required", field)
		case err != nil:
			bad("%s %q is not a date (YYYY-MM-DD)", field, v)
		case d.Format(time.DateOnly) > today:
			bad("%s %s is in the future", field, v)
		}
	}
	date("the date of the call", rel.CallDate)
	date("the date of the request", rel.RequestedOn)
	if rel.CallDate != "" && rel.RequestedOn != "" && rel.RequestedOn < rel.CallDate && len(errs) == 0 {
		bad("the request (%s) is dated before the call (%s)", rel.RequestedOn, rel.CallDate)
	}
	if rel.CallTime != "" && !clockPattern.MatchString(rel.CallTime) {
		bad("the time of the call %q is not a time (HH:MM, 24-hour)", rel.CallTime)
	}
	if rel.Number != "" && (NumberKey(rel.Number) == "" || len(rel.Number) > maxNumberLen) {
		bad("%q is not a phone number", rel.Number)
	}
	text := func(field, v string, required bool) {
		switch {
		case required && v == "":
			bad("%s is required", field)
		case len(v) > maxNameLen:
			bad("%s is longer than %d characters", field, maxNameLen)
		}
	}
	text("the person requesting the recording", rel.Requester, true)
	text("the name of the person receiving the recording", rel.RecipientName, true)
	text("the job title of the person receiving the recording", rel.RecipientTitle, true)
	switch {
	case rel.OnBehalf && rel.ThirdParty == "":
		bad("the request is on behalf of a third party: say who")
	case !rel.OnBehalf && rel.ThirdParty != "":
		bad("third-party details are given but the request is not on behalf of a third party")
	case len(rel.ThirdParty) > maxNoteLen:
		bad("the third-party details are longer than %d characters", maxNoteLen)
	}
	switch pu := p.ReleasePurpose(rel.Purpose); {
	case len(p.Release.Purposes) == 0:
		bad("the organisation's policy lists no purpose for releasing recordings, so none can be released")
	case rel.Purpose == "":
		bad("the purpose is required (one of the policy's: %s)", purposeIDs(p))
	case pu == nil:
		bad("%q is not a purpose the policy allows a release for (%s)", rel.Purpose, purposeIDs(p))
	default:
		rel.PurposeLabel, rel.LawfulBasis = pu.Label, pu.LawfulBasis
	}
	seen := map[string]bool{}
	for _, c := range r.Calls {
		c = trim(c)
		switch {
		case c == "":
		case !validID(c):
			bad("%q is not a call id", c)
		case !seen[c]:
			seen[c] = true
			rel.Calls = append(rel.Calls, c)
		}
	}
	switch {
	case len(rel.Calls) == 0:
		bad("name at least one call whose recording is requested")
	case len(rel.Calls) > MaxReleaseCalls:
		bad("one release carries at most %d calls", MaxReleaseCalls)
	}
	if len(errs) > 0 {
		return Release{}, fmt.Errorf("%w: %w", errors.Join(errs...), ErrInvalid)
	}
	return rel, nil
}

func purposeIDs(p *policy.Policy) string {
	ids := make([]string, 0, len(p.Release.Purposes))
	for _, pu := range p.Release.Purposes {
		ids = append(ids, pu.ID)
	}
	return strings.Join(ids, ", ")
}

// ReleaseFilter selects register entries. Empty fields match everything.
type ReleaseFilter struct {
	// Text matches the requester, the recipient, the third party or a
	// call id, as a substring.
	Text    string
	Number  string // the number as the form gave it, whatever its spacing
	Purpose string
	State   string
	// Supervisor, if set, keeps to the releases all of whose calls are of
	// agents who share a team with her (see CallFilter.Supervisor).
	Supervisor string
	// From and To bound the date of the request (YYYY-MM-DD, inclusive).
	From, To string
	// Limit caps the result (default 100, at most 1000); Offset pages on.
	Limit  int
	Offset int
}
