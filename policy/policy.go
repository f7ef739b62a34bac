package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"reflect"
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
	// SubjectAccess configures subject-access cases and their bundles.
	SubjectAccess SubjectAccess `json:"subject_access"`
	// Release is the procedure for releasing recordings to third parties.
	Release Release `json:"release"`
	// Keypad says how keypad tones are silenced in recordings and what a
	// run of them does.
	Keypad Keypad `json:"keypad,omitzero"`
	// Audio is the recordings' format and bitrate [Opus at 24 kbit/s].
	Audio Audio `json:"audio,omitzero"`
	// DeviceTokenDays is how long a device token works after it was issued
	// or last rotated [90]; the desktop rotates it before then.
	DeviceTokenDays int `json:"device_token_days,omitempty"`
	// AllowedOrigins are the browser origins (CRM, payment pages) that may
	// call the local API, such as "https://crm.example.org".
	AllowedOrigins []string `json:"allowed_origins"`
	// DownloadPurposes are why a recording may be downloaded from the web
	// workspace (see DownloadPurposeList for the default).
	DownloadPurposes []DownloadPurpose `json:"download_purposes,omitempty"`
	// Scorecards are the evaluation forms calls are scored by (see
	// Scorecard); Measures the settings of what they measure.
	Scorecards []Scorecard `json:"scorecards,omitempty"`
	Measures   Measures    `json:"measures,omitzero"`
}

// Record says which calls are recorded at all.
type Record struct {
	Inbound  bool `json:"inbound"`
	Outbound bool `json:"outbound"`
	// OutboundWaitsForNotice holds an answered outbound call in
	// awaiting-notice until the officer confirms the notice was read.
	OutboundWaitsForNotice bool `json:"outbound_waits_for_notice"`
	// Where is where the calls are recorded: RecordAtDesktop ("desktop",
	// the default when empty), RecordAtPhoneSystem ("pbx") or RecordAtBoth
	// ("both"). See docs/phone-systems.md, When the phone system records.
	Where string `json:"where,omitempty"`
	// ConfirmWithin is how long the phone system's recorder has to confirm
	// a pause, a resume or a start [500ms]; after it, or on a refusal, the
	// officer is warned that the phone system may still be recording.
	ConfirmWithin Duration `json:"confirm_within,omitempty"`
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

// Keypad is the policy for keypad (DTMF) tones, which are card data when a
// caller keys a card number: every tone is silenced in the stored audio,
// always; these settings say how, and what a run of tones does.
type Keypad struct {
	// Guard is the silence before and after each tone [40ms], 0 to 1 s.
	Guard *Duration `json:"guard,omitempty"`
	// RunTones tones beginning within RunWithin mean the caller is keying
	// numbers [4 within 10s].
	RunTones  int      `json:"run_tones,omitempty"`
	RunWithin Duration `json:"run_within,omitempty"`
	// OnRun is what a run does while recording: KeypadAsk [default] asks
	// the officer to pause; KeypadPause pauses the recording with reason
	// PaymentDetectedReason until the officer resumes it.
	OnRun string `json:"on_run,omitempty"`
}

// What a run of keypad tones does (Keypad.OnRun).
const (
	KeypadAsk   = "ask"
	KeypadPause = "pause"
)

// PaymentDetectedReason is the pause reason of a recording the core paused
// by itself because the caller was keying numbers. It is not an officer's
// reason; the officer resumes such a pause as any other.
const PaymentDetectedReason = "payment-detected"

// Defaults of Keypad.
const (
	DefaultKeypadGuard     = 40 * time.Millisecond
	DefaultKeypadRunTones  = 4
	DefaultKeypadRunWithin = 10 * time.Second
	maxKeypadGuard         = time.Second
)

// GuardOrDefault is Guard, or 40 ms when it is not set.
func (k Keypad) GuardOrDefault() time.Duration {
	if k.Guard == nil {
		return DefaultKeypadGuard
	}
	return k.Guard.D()
}

// Run is how many tones within how long make a run, defaults filled in.
func (k Keypad) Run() (tones int, within time.Duration) {
	tones, within = k.RunTones, k.RunWithin.D()
	if tones == 0 {
		tones = DefaultKeypadRunTones
	}
	if within == 0 {
		within = DefaultKeypadRunWithin
	}
	return tones, within
}

// PausesOnRun reports whether a run pauses the recording by itself.
func (k Keypad) PausesOnRun() bool { return k.OnRun == KeypadPause }

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

// Release is how recordings are released to third parties (the police,
// an IT provider, a complaint handler): the purposes a release may serve,
// each with its lawful basis and the job roles that may authorise it, the
// terms the package carries, and how long a released call is kept. A
// policy with no purposes allows no release.
type Release struct {
	Purposes []ReleasePurpose `json:"purposes,omitempty"`
	// Terms are printed on the package's cover page, e.g. "Recordings shall
	// remain the property of the organisation and are only to be used for
	// the purposes agreed on release."
	Terms string `json:"terms,omitempty"`
	// Retention is how long a released call is kept, counted from its
	// start like every retention period: it must be longer than
	// retention.default (a released call moves to a longer category). Zero
	// leaves released calls on their rules.
	Retention Period `json:"retention,omitempty"`
}

// ReleasePurpose is one purpose a recording may be released for.
type ReleasePurpose struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// LawfulBasis is the basis under UK GDPR (and the Data Protection Act
	// 2018) a release for this purpose relies on, shown on the form and
	// the package.
	LawfulBasis string `json:"lawful_basis"`
	// Authorisers are the job roles that may authorise a release for this
	// purpose ("Data Protection Officer"), as the policy names them; a
	// server account holds at most one (callguard-server user authoriser).
	Authorisers []string `json:"authorisers"`
}

// ReleasedRule is the retention rule id a released call is kept under.
const ReleasedRule = "released"

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

// How the officers' names appear in a subject-access bundle
// (SubjectAccess.OfficerNames).
const (
	// OfficerNamesWithheld replaces each officer's name with "Officer 1",
	// "Officer 2"…, the same officer the same number within one bundle.
	OfficerNamesWithheld = "withheld"
	// OfficerNamesInitials keeps only the initials ("A. S." for alice.smith).
	OfficerNamesInitials = "initials"
	// OfficerNamesFull keeps the names: officers acting in their work
	// capacity, where the organisation decided their names are disclosed.
	OfficerNamesFull = "full"
)

// SubjectAccess configures subject-access cases (UK GDPR Art. 15).
type SubjectAccess struct {
	// OfficerNames is how the officers' names are reduced in a bundle:
	// withheld, initials or full [withheld]. The officers are third
	// parties to the requester (DPA 2018 Sch. 2 para. 16); the recording
	// itself still carries their voices.
	OfficerNames string `json:"officer_names,omitempty"`
	// PublicHolidays are the dates ("2026-12-25") on which a deadline that
	// falls moves to the next working day, as weekends do.
	PublicHolidays []string `json:"public_holidays,omitempty"`
}

// OfficerNameRule returns OfficerNames, withheld when unset.
func (s SubjectAccess) OfficerNameRule() string {
	if s.OfficerNames == "" {
		return OfficerNamesWithheld
	}
	return s.OfficerNames
}

// Holiday reports whether d (a date, any time of day) is one of the
// PublicHolidays.
func (s SubjectAccess) Holiday(d time.Time) bool {
	day := d.Format(time.DateOnly)
	for _, h := range s.PublicHolidays {
		if h == day {
			return true
		}
	}
	return false
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

// OverlayFile is Overlay with the JSON document in the file path; "" gives
// p itself. The organisation's policy file a program is started with
// (--policy) is laid over the defaults this way.
func (p *Policy) OverlayFile(path string) (*Policy, error) {
	if path == "" {
		return p, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	out, err := p.Overlay(b)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return out, nil
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
	dropReplacedLists(reflect.ValueOf(&out), override)
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
		case r.ID == PaymentDetectedReason:
			bad("pause_reasons[%d]: id %q is reserved for the pause a run of keypad tones makes", i, r.ID)
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
	p.Record.validateWhere(bad)
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
	seen = map[string]bool{"default": true, ReleasedRule: true}
	for i, r := range p.Retention.Rules {
		if !idPattern.MatchString(r.ID) || seen[r.ID] {
			bad("retention.rules[%d]: id %q must be unique, not \"default\" or \"released\", lower-case letters, digits and '-'", i, r.ID)
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
	switch p.SubjectAccess.OfficerNames {
	case "", OfficerNamesWithheld, OfficerNamesInitials, OfficerNamesFull:
	default:
		bad("subject_access.officer_names: %q must be withheld, initials or full", p.SubjectAccess.OfficerNames)
	}
	for i, h := range p.SubjectAccess.PublicHolidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			bad("subject_access.public_holidays[%d]: %q is not a date like 2026-12-25", i, h)
		}
	}
	p.validateRelease(bad)
	p.Audio.validate(bad)
	if g := p.Keypad.Guard; g != nil && (g.D() < 0 || g.D() > maxKeypadGuard) {
		bad("keypad.guard: %v must be between 0 and %v", g.D(), maxKeypadGuard)
	}
	if n := p.Keypad.RunTones; n != 0 && (n < 2 || n > 64) {
		bad("keypad.run_tones: %d must be between 2 and 64", n)
	}
	if w := p.Keypad.RunWithin.D(); w < 0 || w > 10*time.Minute {
		bad("keypad.run_within: %v must be between 0 (the default, 10 s) and 10 minutes", w)
	}
	switch p.Keypad.OnRun {
	case "", KeypadAsk, KeypadPause:
	default:
		bad("keypad.on_run: %q must be %q or %q", p.Keypad.OnRun, KeypadAsk, KeypadPause)
	}
	for i, o := range p.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			bad("allowed_origins[%d]: %q %v", i, o, err)
		}
	}
	seen = map[string]bool{}
	for i, d := range p.DownloadPurposes {
		if !idPattern.MatchString(d.ID) || seen[d.ID] || d.Label == "" {
			bad("download_purposes[%d]: id %q must be unique, lower-case letters, digits and '-', with a label", i, d.ID)
		}
		seen[d.ID] = true
	}
	p.validateScoring(bad)
	if len(errs) > 0 {
		return fmt.Errorf("invalid policy: %w", errors.Join(errs...))
	}
	return nil
}

// maxJobRole is the longest job role an authoriser list may name.
const maxJobRole = 128

func (p *Policy) validateRelease(bad func(format string, a ...any)) {
	r := p.Release
	seen := map[string]bool{}
	for i, pu := range r.Purposes {
		if !idPattern.MatchString(pu.ID) || seen[pu.ID] {
			bad("release.purposes[%d]: id %q must be unique, lower-case letters, digits and '-'", i, pu.ID)
		}
		seen[pu.ID] = true
		if strings.TrimSpace(pu.Label) == "" {
			bad("release.purposes[%d] (%s): label is empty", i, pu.ID)
		}
		if strings.TrimSpace(pu.LawfulBasis) == "" {
			bad("release.purposes[%d] (%s): lawful_basis is empty: say which basis under UK GDPR a release for this purpose relies on", i, pu.ID)
		}
		if len(pu.Authorisers) == 0 {
			bad("release.purposes[%d] (%s): authorisers is empty: name the job roles that may authorise it", i, pu.ID)
		}
		roles := map[string]bool{}
		for j, a := range pu.Authorisers {
			k := strings.ToLower(strings.TrimSpace(a))
			switch {
			case k == "" || len(a) > maxJobRole:
				bad("release.purposes[%d] (%s): authorisers[%d] must be a job role of 1–%d characters", i, pu.ID, j, maxJobRole)
			case roles[k]:
				bad("release.purposes[%d] (%s): authoriser %q is named twice", i, pu.ID, a)
			}
			roles[k] = true
		}
	}
	if len(r.Purposes) > 0 && strings.TrimSpace(r.Terms) == "" {
		bad("release.terms: the terms the package carries are needed when purposes are listed")
	}
	if !r.Retention.IsZero() {
		// Compared from a day whose months are all long enough to tell.
		from := time.Date(2001, 1, 31, 0, 0, 0, 0, time.UTC)
		if !r.Retention.After(from).After(p.Retention.Default.After(from)) {
			bad("release.retention: %v is not longer than retention.default (%v): a released call moves to a longer category", r.Retention, p.Retention.Default)
		}
	}
}

// ReleasePurpose returns the release purpose with the given id, or nil.
func (p *Policy) ReleasePurpose(id string) *ReleasePurpose {
	for i := range p.Release.Purposes {
		if p.Release.Purposes[i].ID == id {
			return &p.Release.Purposes[i]
		}
	}
	return nil
}

// Authorises reports whether a holder of jobRole may authorise a release
// for the purpose (job roles compare without regard to case or the spaces
// around them).
func (pu *ReleasePurpose) Authorises(jobRole string) bool {
	k := strings.TrimSpace(jobRole)
	if k == "" {
		return false
	}
	for _, a := range pu.Authorisers {
		if strings.EqualFold(strings.TrimSpace(a), k) {
			return true
		}
	}
	return false
}

// JobRoles returns every job role any release purpose lists, as the
// policy first spells each.
func (p *Policy) JobRoles() []string {
	var out []string
	seen := map[string]bool{}
	for _, pu := range p.Release.Purposes {
		for _, a := range pu.Authorisers {
			k := strings.ToLower(strings.TrimSpace(a))
			if !seen[k] {
				seen[k] = true
				out = append(out, strings.TrimSpace(a))
			}
		}
	}
	return out
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

// PaymentDetectedLabel is the words for a PaymentDetectedReason pause.
const PaymentDetectedLabel = "Caller keying numbers"

// PauseReasonFor is PauseReason, and for PaymentDetectedReason (which no
// policy lists) a reason labelled PaymentDetectedLabel that reminds after
// the "payment" reason's remind_after, or 3 minutes.
func (p *Policy) PauseReasonFor(id string) *PauseReason {
	if id != PaymentDetectedReason {
		return p.PauseReason(id)
	}
	r := PauseReason{ID: id, Label: PaymentDetectedLabel, RemindAfter: Duration(3 * time.Minute)}
	if pay := p.PauseReason("payment"); pay != nil {
		r.RemindAfter = pay.RemindAfter
	}
	return &r
}

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
	// Released is true once the call was released to a third party.
	Released bool
}

// RetentionFor returns the period for a call and the id of the rule that set
// it ("default" when no rule matched).
//
// A released call keeps release.retention ("released") when that is
// longer than what its rules give (NWH 1.3: a call staff took out keeps
// to the longer retention of the document it became part of).
func (p *Policy) RetentionFor(c CallFacts) (Period, string) {
	period, id := p.Retention.Default, "default"
	for _, r := range p.Retention.Rules {
		if r.Match.matches(c) {
			period, id = r.Period, r.ID
			break
		}
	}
	if rel := p.Release.Retention; c.Released && !rel.IsZero() {
		from := time.Date(2001, 1, 31, 0, 0, 0, 0, time.UTC)
		if rel.After(from).After(period.After(from)) {
			return rel, ReleasedRule
		}
	}
	return period, id
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
