package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
)

// Policy is an organisation's recording policy.
type Policy struct {
	// Name and Source say whose policy this is and which document it follows.
	Name   string `json:"name"`
	Source string `json:"source,omitempty"`

	// Recipients are the organisation's age public keys ("age1…"). Recordings
	// are encrypted to them, so an officer's PC cannot play its own recordings.
	Recipients []string `json:"recipients"`

	Record       Record        `json:"record"`
	NeverRecord  []Rule        `json:"never_record"`
	PauseReasons []PauseReason `json:"pause_reasons"`
	Notice       Notice        `json:"notice"`
	FlagReasons  []FlagReason  `json:"flag_reasons"`
	Retention    Retention     `json:"retention"`
	Review       Review        `json:"review"`
	// DeviceTokenDays is how long a device token works after it was issued
	// or last rotated [90]; the desktop rotates it before then.
	DeviceTokenDays int `json:"device_token_days,omitempty"`
	// AllowedOrigins are the browser origins (CRM, payment pages) that may
	// call the local API, such as "https://crm.example.org".
	AllowedOrigins []string `json:"allowed_origins"`
}

// Record says which calls are recorded at all.
type Record struct {
	Inbound  bool `json:"inbound"`
	Outbound bool `json:"outbound"`
	// OutboundWaitsForNotice holds an answered outbound call in
	// awaiting-notice until the officer confirms the notice was read.
	OutboundWaitsForNotice bool `json:"outbound_waits_for_notice"`
}

// Rule matches calls that must never be recorded, such as the therapist-search line.
type Rule struct {
	// Field is "remote" (the other party's number), "local" (the number or
	// queue the call came in on or the extension) or "any".
	Field string `json:"field"`
	// Pattern is a glob over the number: "*" any run, "?" one character,
	// e.g. "0800123*" or "+44800*"; spaces in numbers are ignored.
	Pattern string `json:"pattern"`
	Reason  string `json:"reason"`
}

// PauseReason is one reason an officer can pause for.
type PauseReason struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Hotkey string `json:"hotkey,omitempty"` // e.g. "F5"
	// RemindAfter is when a pause for this reason starts to remind the officer.
	RemindAfter Duration `json:"remind_after"`
	// AutoResumeAfter resumes by itself after this long; zero never does.
	AutoResumeAfter Duration `json:"auto_resume_after,omitempty"`
}

// Notice holds the scripted privacy notices.
type Notice struct {
	Scripts []Script `json:"scripts"`
}

// Script is the notice an officer reads (or the phone system plays) for
// calls of one direction in one language.
type Script struct {
	Direction string `json:"direction"` // "inbound" or "outbound"
	Language  string `json:"language"`  // BCP 47, e.g. "en-GB"
	Text      string `json:"text"`
}

// FlagReason is one reason an officer can flag a call for deletion.
type FlagReason struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// RedactNow deletes the marked interval at once instead of waiting for
	// review (card details: PCI DSS 3.3.1).
	RedactNow bool `json:"redact_now,omitempty"`
}

// Retention says how long recordings are kept.
type Retention struct {
	Default Period          `json:"default"`
	Rules   []RetentionRule `json:"rules,omitempty"`
}

// RetentionRule keeps calls that match it for its own period. The first
// matching rule wins; calls matching none keep Default. A rule on a flag
// reason or on declined calls holds while the call awaits a dpo's review:
// once the dpo decides (keep, redact), the call returns to the rule its
// other facts give. Holds, not rules, keep calls longer.
type RetentionRule struct {
	ID     string `json:"id"`
	Match  Match  `json:"match"`
	Period Period `json:"period"`
}

// Match selects calls by category. Empty fields match anything.
type Match struct {
	Direction  string `json:"direction,omitempty"`   // inbound | outbound
	Queue      string `json:"queue,omitempty"`       // glob over the local number
	FlagReason string `json:"flag_reason,omitempty"` // id of a flag reason
	Declined   *bool  `json:"declined,omitempty"`
}

// Review configures the data-protection officers' deletion review.
type Review struct {
	// TwoPersonDeletion requires a second dpo to approve every deletion a
	// dpo decides (a whole recording, an interval, a subject's erasure).
	// Retention expiry and the immediate redaction of card details are not
	// decisions and need no approval.
	TwoPersonDeletion bool `json:"two_person_deletion"`
	// TwoPersonHoldLift requires a second dpo to lift a hold: one asks, a
	// different one lifts. The default policy sets it; an organisation with
	// a single dpo turns it off.
	TwoPersonHoldLift bool `json:"two_person_hold_lift"`
	// IndependentAfterDays: the two dpos of a two-person action must be
	// independent: neither created the other's account or gave it its role,
	// and, when one person set up both, both have held their role for at
	// least this many days [30].
	IndependentAfterDays int `json:"independent_after_days,omitempty"`
}

// TokenLifetime is how long a device token works after it was issued or
// rotated: DeviceTokenDays, default 90 days.
func (p *Policy) TokenLifetime() time.Duration {
	if p == nil || p.DeviceTokenDays <= 0 {
		return 90 * 24 * time.Hour
	}
	return time.Duration(p.DeviceTokenDays) * 24 * time.Hour
}

// IndependenceWindow is IndependentAfterDays as a duration (default 30 days).
func (r Review) IndependenceWindow() time.Duration {
	if r.IndependentAfterDays <= 0 {
		return 30 * 24 * time.Hour
	}
	return time.Duration(r.IndependentAfterDays) * 24 * time.Hour
}

// Period is a retention period in calendar months plus days.
type Period struct {
	Months int `json:"months,omitempty"`
	Days   int `json:"days,omitempty"`
}

// UnmarshalJSON replaces the whole period, so an overlay that says
// {"months": 6} does not keep the days of the policy below it.
func (p *Period) UnmarshalJSON(b []byte) error {
	type plain Period
	var v plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("period: %w", err)
	}
	if v.Months < 0 || v.Days < 0 {
		return fmt.Errorf("period %d months %d days is negative", v.Months, v.Days)
	}
	*p = Period(v)
	return nil
}

// After returns the moment t plus the period, by the calendar.
func (p Period) After(t time.Time) time.Time { return t.AddDate(0, p.Months, p.Days) }

// IsZero reports whether the period is empty.
func (p Period) IsZero() bool { return p.Months == 0 && p.Days == 0 }

// String returns e.g. "18 months" or "40 days".
func (p Period) String() string {
	var parts []string
	if p.Months != 0 {
		parts = append(parts, plural(p.Months, "month"))
	}
	if p.Days != 0 || p.Months == 0 {
		parts = append(parts, plural(p.Days, "day"))
	}
	return strings.Join(parts, " ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Duration is a time.Duration written in JSON as "90s", "2m" or "1h30m".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string such as "2m30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"2m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// Parse decodes a complete policy document and validates it.
func Parse(b []byte) (*Policy, error) {
	var p Policy
	if err := decodeStrict(b, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Overlay returns a copy of p with the fields present in the JSON document
// override replacing p's. A list in the override replaces the whole list.
// This is how the machine-wide policy IT deploys and the server's policy
// take priority over the defaults.
func (p *Policy) Overlay(override []byte) (*Policy, error) {
	base, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("copy policy: %w", err)
	}
	var out Policy
	if err := json.Unmarshal(base, &out); err != nil {
		return nil, fmt.Errorf("copy policy: %w", err)
	}
	if err := decodeStrict(override, &out); err != nil {
		return nil, err
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return &out, nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if dec.More() {
		return errors.New("policy: trailing data after the JSON object")
	}
	return nil
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Validate reports every problem in the policy at once.
func (p *Policy) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	for i, r := range p.Recipients {
		if !strings.HasPrefix(r, "age1") {
			bad("recipients[%d]: %q is not an age recipient (age1…)", i, r)
		}
	}
	seen := map[string]bool{}
	for i, r := range p.PauseReasons {
		switch {
		case !idPattern.MatchString(r.ID):
			bad("pause_reasons[%d]: id %q must be lower-case letters, digits and '-'", i, r.ID)
		case seen[r.ID]:
			bad("pause_reasons[%d]: id %q is used twice", i, r.ID)
		case r.ID == HoldReason:
			bad("pause_reasons[%d]: id %q is reserved for calls on hold", i, r.ID)
		}
		seen[r.ID] = true
		if r.Label == "" {
			bad("pause_reasons[%d] (%s): label is empty", i, r.ID)
		}
		if r.RemindAfter <= 0 {
			bad("pause_reasons[%d] (%s): remind_after must be positive", i, r.ID)
		}
	}
	if len(p.PauseReasons) == 0 {
		bad("pause_reasons: at least one reason is needed")
	}
	for i, s := range p.Notice.Scripts {
		if s.Direction != "inbound" && s.Direction != "outbound" {
			bad("notice.scripts[%d]: direction %q must be inbound or outbound", i, s.Direction)
		}
		if strings.TrimSpace(s.Text) == "" {
			bad("notice.scripts[%d]: text is empty", i)
		}
	}
	if p.Record.Outbound && p.Record.OutboundWaitsForNotice && p.Script("outbound", "") == nil {
		bad("notice: outbound calls wait for the notice but there is no outbound script")
	}
	for i, r := range p.NeverRecord {
		switch r.Field {
		case "remote", "local", "any":
		default:
			bad("never_record[%d]: field %q must be remote, local or any", i, r.Field)
		}
		if _, err := path.Match(r.Pattern, ""); err != nil || r.Pattern == "" {
			bad("never_record[%d]: pattern %q is not a valid glob", i, r.Pattern)
		}
	}
	seen = map[string]bool{}
	for i, r := range p.FlagReasons {
		if !idPattern.MatchString(r.ID) || seen[r.ID] {
			bad("flag_reasons[%d]: id %q must be unique, lower-case letters, digits and '-'", i, r.ID)
		}
		seen[r.ID] = true
		if r.Label == "" {
			bad("flag_reasons[%d] (%s): label is empty", i, r.ID)
		}
	}
	if p.Retention.Default.IsZero() {
		bad("retention.default: a period is needed (months and/or days)")
	}
	seen = map[string]bool{"default": true}
	for i, r := range p.Retention.Rules {
		if !idPattern.MatchString(r.ID) || seen[r.ID] {
			bad("retention.rules[%d]: id %q must be unique, not \"default\", lower-case letters, digits and '-'", i, r.ID)
		}
		seen[r.ID] = true
		if r.Period.IsZero() || r.Period.Months < 0 || r.Period.Days < 0 {
			bad("retention.rules[%d] (%s): period must be positive", i, r.ID)
		}
		if d := r.Match.Direction; d != "" && d != "inbound" && d != "outbound" {
			bad("retention.rules[%d] (%s): direction %q must be inbound or outbound", i, r.ID, d)
		}
		if fr := r.Match.FlagReason; fr != "" && p.FlagReason(fr) == nil {
			bad("retention.rules[%d] (%s): flag_reason %q is not a flag reason", i, r.ID, fr)
		}
	}
	for i, o := range p.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			bad("allowed_origins[%d]: %q %v", i, o, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid policy: %w", errors.Join(errs...))
	}
	return nil
}

// checkOrigin says what is wrong with a browser origin for the local API's
// allowlist, or nil. A page served over plain HTTP can be changed by
// anyone on the way to the browser, so http:// is allowed only for pages
// served from this computer.
func checkOrigin(o string) error {
	if strings.HasSuffix(o, "/") {
		return errors.New("must not end with '/'")
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("must be an origin like https://crm.example.org")
	}
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return errors.New("is not an origin: an origin has no path, query or user, only https://host[:port]")
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return errors.New("is refused: http:// is allowed only for localhost (a page on plain HTTP can be changed on its way to the browser); use https://")
		}
	}
	return nil
}

// HoldReason is the pause reason the core uses for a call put on hold while
// the officer takes another. It is not an officer's reason.
const HoldReason = "hold"

// PauseReason returns the reason with the given id, or nil.
func (p *Policy) PauseReason(id string) *PauseReason {
	for i := range p.PauseReasons {
		if p.PauseReasons[i].ID == id {
			return &p.PauseReasons[i]
		}
	}
	return nil
}

// FlagReason returns the flag reason with the given id, or nil.
func (p *Policy) FlagReason(id string) *FlagReason {
	for i := range p.FlagReasons {
		if p.FlagReasons[i].ID == id {
			return &p.FlagReasons[i]
		}
	}
	return nil
}

// Script returns the notice for direction in language, falling back to the
// first script of that direction; nil if there is none.
func (p *Policy) Script(direction, language string) *Script {
	var first *Script
	for i := range p.Notice.Scripts {
		s := &p.Notice.Scripts[i]
		if s.Direction != direction {
			continue
		}
		if s.Language == language {
			return s
		}
		if first == nil {
			first = s
		}
	}
	return first
}

// NeverRecordRule returns the first rule that excludes a call between local
// and remote numbers, or nil when the call may be recorded.
func (p *Policy) NeverRecordRule(local, remote string) *Rule {
	local, remote = normaliseNumber(local), normaliseNumber(remote)
	for i := range p.NeverRecord {
		r := &p.NeverRecord[i]
		pat := normaliseNumber(r.Pattern)
		m := func(s string) bool { ok, _ := path.Match(pat, s); return ok && s != "" }
		switch r.Field {
		case "remote":
			if m(remote) {
				return r
			}
		case "local":
			if m(local) {
				return r
			}
		case "any":
			if m(local) || m(remote) {
				return r
			}
		}
	}
	return nil
}

func normaliseNumber(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.':
			return -1
		}
		return r
	}, s)
}

// CallFacts are the facts about a call that retention rules look at.
type CallFacts struct {
	Direction string
	Local     string
	// FlagReasons are the reasons of the officers' flags still awaiting a
	// dpo's review.
	FlagReasons []string
	// Declined is true while a declined call awaits a dpo's review.
	Declined bool
}

// RetentionFor returns the period for a call and the id of the rule that set
// it ("default" when no rule matched).
func (p *Policy) RetentionFor(c CallFacts) (Period, string) {
	for _, r := range p.Retention.Rules {
		if r.Match.matches(c) {
			return r.Period, r.ID
		}
	}
	return p.Retention.Default, "default"
}

func (m Match) matches(c CallFacts) bool {
	if m.Direction != "" && m.Direction != c.Direction {
		return false
	}
	if m.Queue != "" {
		if ok, _ := path.Match(normaliseNumber(m.Queue), normaliseNumber(c.Local)); !ok {
			return false
		}
	}
	if m.FlagReason != "" {
		found := false
		for _, f := range c.FlagReasons {
			found = found || f == m.FlagReason
		}
		if !found {
			return false
		}
	}
	if m.Declined != nil && *m.Declined != c.Declined {
		return false
	}
	return true
}
