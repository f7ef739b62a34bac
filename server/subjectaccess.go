package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SARStatus is where a subject-access request stands. The zero value is
// SARUnknown, which no case is ever in.
type SARStatus int

// The statuses of a subject-access case.
const (
	SARUnknown  SARStatus = iota
	SAROpen               // received, being worked on
	SARExtended           // the deadline was extended (Art. 12(3)), still being worked on
	SARSent               // the bundle was sent to the requester
	SARClosed             // nothing more to do
)

// SARStatuses lists the statuses a case can be in.
var SARStatuses = []SARStatus{SAROpen, SARExtended, SARSent, SARClosed}

// String returns the status's name: open, extended, sent, closed ("unknown").
func (s SARStatus) String() string {
	switch s {
	case SAROpen:
		return "open"
	case SARExtended:
		return "extended"
	case SARSent:
		return "sent"
	case SARClosed:
		return "closed"
	}
	return "unknown"
}

// MarshalText writes the status's name.
func (s SARStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status's name.
func (s *SARStatus) UnmarshalText(b []byte) error {
	v, err := ParseSARStatus(string(b))
	*s = v
	return err
}

// ParseSARStatus returns the status called s.
func ParseSARStatus(s string) (SARStatus, error) {
	for _, st := range SARStatuses {
		if st.String() == s {
			return st, nil
		}
	}
	return SARUnknown, fmt.Errorf("status %q: want open, extended, sent or closed: %w", s, ErrInvalid)
}

// sarNext are the status changes a case may make. Extended is reached
// only by an extension (SARCase.Extend), which is also how an extended
// case is extended a second time.
var sarNext = map[SARStatus][]SARStatus{
	SAROpen:     {SARExtended, SARSent, SARClosed},
	SARExtended: {SARExtended, SARSent, SARClosed},
	SARSent:     {SARClosed},
}

// CanBecome reports whether a case in s may move to to.
func (s SARStatus) CanBecome(to SARStatus) bool {
	for _, n := range sarNext[s] {
		if n == to {
			return true
		}
	}
	return false
}

// Active reports whether the case still runs against its deadline.
func (s SARStatus) Active() bool { return s == SAROpen || s == SARExtended }

// SAR errors; they wrap ErrInvalid or ErrConflict.
var (
	ErrSARTransition = fmt.Errorf("this status change is not allowed: %w", ErrConflict)
	ErrSARExtension  = fmt.Errorf("this extension is not allowed: %w", ErrInvalid)
)

// MaxSARExtensions is how many times a case's deadline may be extended;
// MaxSARExtensionMonths is by how much in total (UK GDPR Art. 12(3): "by
// two further months").
const (
	MaxSARExtensions      = 2
	MaxSARExtensionMonths = 2
)

// DateLayout is how a calendar date is written: in the store, in forms
// and in the bundle.
const DateLayout = "2006-01-02"

// Date returns the calendar date of t in loc, as midnight UTC of that date:
// a date without a time, which compares and adds by the calendar.
func Date(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ParseDate reads a date written "2006-01-02".
func ParseDate(s string) (time.Time, error) {
	d, err := time.Parse(DateLayout, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date like 2026-01-31: %w", s, ErrInvalid)
	}
	return d, nil
}

// AddMonths returns the date months calendar months after date d: the same
// day of the month, or the last day of the month when it has no such day
// (31 January + 1 month is 28 February, or 29 in a leap year). d is a Date.
func AddMonths(d time.Time, months int) time.Time {
	y, m, day := d.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(day, last), 0, 0, 0, 0, time.UTC)
}

// SARDeadline is the day a subject-access request received on date
// received must be answered by, when the one month of UK GDPR Art. 12(3)
// is extended by extraMonths: counted, as the ICO says, from the day of
// receipt to the corresponding calendar date 1+extraMonths months later;
// the last day of that month when it has no such date (received 31
// January, due 28 February, 29 in a leap year); and, when that falls on a
// weekend or a public holiday (holiday says; nil: weekends only), the next
// working day.
func SARDeadline(received time.Time, extraMonths int, holiday func(time.Time) bool) time.Time {
	return NextWorkingDay(AddMonths(received, 1+extraMonths), holiday)
}

// NextWorkingDay is d, or when d is a Saturday, a Sunday or a holiday, the
// first day after it that is none of them.
func NextWorkingDay(d time.Time, holiday func(time.Time) bool) time.Time {
	for i := 0; i < 31; i++ {
		wd := d.Weekday()
		if wd != time.Saturday && wd != time.Sunday && (holiday == nil || !holiday(d)) {
			return d
		}
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// SARExtension is one extension of a case's deadline, with its reason.
type SARExtension struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	From   time.Time `json:"from"` // the deadline before
	To     time.Time `json:"to"`   // the deadline after
	Reason string    `json:"reason"`
}

// SARStep is one entry of a case's history: a status change or an
// extension, who made it and why.
type SARStep struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Note string    `json:"note,omitempty"`
}

// SARCase is a subject-access request run as a case by a dpo: who asked,
// how their identity was checked, what is searched, and where it stands
// against its legal deadline.
type SARCase struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference,omitempty"`
	// The requester and how to reach them (an address, an email).
	RequesterName    string `json:"requester_name"`
	RequesterContact string `json:"requester_contact"`
	// IdentityMethod is how the requester's identity was checked (a
	// document seen, a call back to a known number); IdentityCheckedBy who
	// checked it.
	IdentityMethod    string `json:"identity_method"`
	IdentityCheckedBy string `json:"identity_checked_by"`
	// Received is the date the request was received; the deadline runs
	// from it.
	Received time.Time `json:"received"`
	// Numbers are the phone numbers searched, as written by the dpo (they
	// are matched in E.164, see E164);
	// From and To the dates of the calls searched (both included; zero:
	// open-ended).
	Numbers []string  `json:"numbers"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`

	Status     SARStatus      `json:"status"`
	Deadline   time.Time      `json:"deadline"`
	Extensions []SARExtension `json:"extensions"`
	History    []SARStep      `json:"history"`

	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	// Version counts the changes; a change made on an older version than
	// the stored one is refused, so two concurrent changes never both win.
	Version int64 `json:"version"`
}

// Target is the case's audit target: "sar:<id>".
func (c *SARCase) Target() string { return SARTarget(c.ID) }

// SARTarget is the audit target of case id: "sar:<id>".
func SARTarget(id int64) string { return "sar:" + strconv.FormatInt(id, 10) }

// DaysLeft is how many days from today (a Date) to the deadline: 0 on the
// day it is due, negative once it has passed.
func (c *SARCase) DaysLeft(today time.Time) int {
	return int(c.Deadline.Sub(today).Hours() / 24)
}

// Overdue reports whether the case is still running after its deadline.
func (c *SARCase) Overdue(today time.Time) bool { return c.Status.Active() && c.DaysLeft(today) < 0 }

// MaxDeadline is the latest the deadline may be extended to: two further
// months after the first month.
func (c *SARCase) MaxDeadline(holiday func(time.Time) bool) time.Time {
	return SARDeadline(c.Received, MaxSARExtensionMonths, holiday)
}

// Extend moves the deadline to the date to, for reason, as by on today.
// It is refused (ErrSARExtension) without a reason, once the case has
// been extended MaxSARExtensions times, when to is not after the present
// deadline, is in the past, or is later than two further months allow,
// and once the first month has run out (the requester must be told of an
// extension within it).
func (c *SARCase) Extend(to time.Time, reason, by string, now, today time.Time, holiday func(time.Time) bool) error {
	first := SARDeadline(c.Received, 0, holiday)
	refuse := func(format string, a ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), ErrSARExtension)
	}
	switch {
	case !c.Status.CanBecome(SARExtended):
		return fmt.Errorf("a case that is %s cannot be extended: %w", c.Status, ErrSARTransition)
	case strings.TrimSpace(reason) == "":
		return refuse("an extension needs a reason (why the request is complex or the requests numerous)")
	case len(reason) > maxNoteLen:
		return refuse("the reason is longer than %d bytes", maxNoteLen)
	case len(c.Extensions) >= MaxSARExtensions:
		return refuse("the deadline has been extended %d times already, the most allowed", len(c.Extensions))
	case today.After(first):
		return refuse("the first month ran out on %s: an extension must be decided, and the requester told, within it", first.Format(DateLayout))
	case to.Before(today):
		return refuse("the new deadline %s is in the past", to.Format(DateLayout))
	case !to.After(c.Deadline):
		return refuse("the new deadline %s is not after the present one, %s", to.Format(DateLayout), c.Deadline.Format(DateLayout))
	case to.After(c.MaxDeadline(holiday)):
		return refuse("the new deadline %s is more than two further months: the latest allowed is %s", to.Format(DateLayout), c.MaxDeadline(holiday).Format(DateLayout))
	}
	c.Extensions = append(c.Extensions, SARExtension{At: now, By: by, From: c.Deadline, To: to, Reason: strings.TrimSpace(reason)})
	c.History = append(c.History, SARStep{At: now, By: by, From: c.Status.String(), To: SARExtended.String(), Note: strings.TrimSpace(reason)})
	c.Deadline, c.Status, c.Updated = to, SARExtended, now
	return nil
}

// SetStatus moves the case to status to (sent or closed; extended only by
// Extend), as by at now, with a note. Closing a case that was never sent
// (withdrawn, refused) needs a note saying why.
func (c *SARCase) SetStatus(to SARStatus, note, by string, now time.Time) error {
	if to == SARExtended {
		return fmt.Errorf("a case is extended with a new deadline and a reason: %w", ErrSARTransition)
	}
	if !c.Status.CanBecome(to) {
		return fmt.Errorf("a case that is %s cannot become %s: %w", c.Status, to, ErrSARTransition)
	}
	note = strings.TrimSpace(note)
	if to == SARClosed && c.Status != SARSent && note == "" {
		return fmt.Errorf("closing a case that was never sent needs a note saying why (withdrawn, refused…): %w", ErrInvalid)
	}
	if len(note) > maxNoteLen {
		return fmt.Errorf("the note is longer than %d bytes: %w", maxNoteLen, ErrInvalid)
	}
	c.History = append(c.History, SARStep{At: now, By: by, From: c.Status.String(), To: to.String(), Note: note})
	c.Status, c.Updated = to, now
	return nil
}

// SARRequest is what a dpo enters to open a case.
type SARRequest struct {
	Reference         string
	RequesterName     string
	RequesterContact  string
	IdentityMethod    string
	IdentityCheckedBy string
	Received          time.Time // a Date
	Numbers           []string
	From, To          time.Time // Dates, zero: open-ended
}

// Validate checks a new case against today (a Date), saying every problem
// at once in words for the page; errors wrap ErrInvalid.
func (r *SARRequest) Validate(today time.Time) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	need := func(what, v string, max int) {
		switch {
		case strings.TrimSpace(v) == "":
			bad("%s is required", what)
		case len(v) > max:
			bad("%s is longer than %d characters", what, max)
		}
	}
	need("the requester's name", r.RequesterName, maxNameLen)
	need("how to contact the requester", r.RequesterContact, maxNoteLen)
	need("how the requester's identity was checked", r.IdentityMethod, maxNoteLen)
	need("who checked the requester's identity", r.IdentityCheckedBy, maxNameLen)
	if len(r.Reference) > maxNameLen {
		bad("the reference is longer than %d characters", maxNameLen)
	}
	switch {
	case r.Received.IsZero():
		bad("the date the request was received is required")
	case r.Received.After(today):
		bad("the request cannot have been received in the future (%s)", r.Received.Format(DateLayout))
	}
	if len(r.Numbers) == 0 {
		bad("at least one phone number to search is required")
	}
	if len(r.Numbers) > 20 {
		bad("at most 20 phone numbers per case")
	}
	for _, n := range r.Numbers {
		if len(n) > maxNumberLen {
			bad("a phone number is longer than %d characters", maxNumberLen)
		} else if _, err := E164(n); err != nil {
			bad("%s", strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error()))
		}
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		bad("the date range is reversed: %s is before %s", r.To.Format(DateLayout), r.From.Format(DateLayout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errors.Join(errs...), ErrInvalid)
	}
	return nil
}

// NewSARCase is the case opened from r by by at now, with its first deadline.
func NewSARCase(r SARRequest, by string, now time.Time, holiday func(time.Time) bool) SARCase {
	return SARCase{
		Reference: strings.TrimSpace(r.Reference), RequesterName: strings.TrimSpace(r.RequesterName),
		RequesterContact: strings.TrimSpace(r.RequesterContact), IdentityMethod: strings.TrimSpace(r.IdentityMethod),
		IdentityCheckedBy: strings.TrimSpace(r.IdentityCheckedBy), Received: r.Received, Numbers: r.Numbers,
		From: r.From, To: r.To, Status: SAROpen, Deadline: SARDeadline(r.Received, 0, holiday),
		Extensions: []SARExtension{}, History: []SARStep{{At: now, By: by, To: SAROpen.String()}},
		CreatedBy: by, Created: now, Updated: now,
	}
}

// Audit actions of subject-access cases (target "sar:<id>"): listed,
// opened, read, extended, moved on, their calls searched, a bundle made,
// and each recording decrypted into a bundle (target the call, the case
// in the detail).
const (
	AuditSARList      = "subject-access.list"
	AuditSAROpen      = "subject-access.open"
	AuditSARRead      = "subject-access.read"
	AuditSARExtend    = "subject-access.extend"
	AuditSARStatus    = "subject-access.status"
	AuditSARSearch    = "subject-access.search"
	AuditSARBundle    = "subject-access.bundle"
	AuditSARRecording = "subject-access.recording"
)
