package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
)

func load(t *testing.T, name string) *policy.Policy {
	t.Helper()
	b, err := assets.ExamplePolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func TestDefaultPolicyIsValid(t *testing.T) {
	p, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"payment", "therapist", "health", "caller-request"} {
		if p.PauseReason(id) == nil {
			t.Errorf("default policy lacks pause reason %q", id)
		}
	}
	if f := p.FlagReason("card"); f == nil || !f.RedactNow {
		t.Error("card details must be redacted at once (PCI DSS 3.3.1)")
	}
	if !p.Record.OutboundWaitsForNotice {
		t.Error("outbound calls must wait for the notice by default")
	}
	// Flagged and declined calls wait a week at most for a dpo's review.
	for _, c := range []policy.CallFacts{{Declined: true}, {FlagReasons: []string{"health"}}, {FlagReasons: []string{"therapist"}}, {FlagReasons: []string{"other"}}} {
		if period, rule := p.RetentionFor(c); period != (policy.Period{Days: 7}) || rule == "default" {
			t.Errorf("%+v: %v (%s), want 7 days", c, period, rule)
		}
	}
	if !p.Review.TwoPersonHoldLift {
		t.Error("lifting a hold must need two dpos by default")
	}
}

func TestRetentionRuleIDsAreUnique(t *testing.T) {
	p, _ := policy.Parse(assets.DefaultPolicy())
	for _, ids := range [][]string{{"a", "a"}, {"default"}, {"Bad"}} {
		q := *p
		q.Retention.Rules = nil
		for _, id := range ids {
			q.Retention.Rules = append(q.Retention.Rules, policy.RetentionRule{ID: id, Period: policy.Period{Days: 1}})
		}
		if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "retention.rules") {
			t.Errorf("rule ids %v accepted: %v", ids, err)
		}
	}
}

// The example policies follow the five documents in shared/policies; each
// check names the clause it follows.
func TestExamplePoliciesFollowTheirDocuments(t *testing.T) {
	start := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	days := func(p *policy.Policy, c policy.CallFacts) int {
		period, _ := p.RetentionFor(c)
		return int(period.After(start).Sub(start).Hours() / 24)
	}
	in := policy.CallFacts{Direction: "inbound"}
	flagged := func(reason string) policy.CallFacts {
		return policy.CallFacts{Direction: "inbound", FlagReasons: []string{reason}}
	}
	declined := policy.CallFacts{Direction: "inbound", Declined: true}
	// Rules only ever shorten retention: a document's period is a maximum,
	// and only a hold (a complaint, an investigation) keeps a call longer.
	neverLonger := func(t *testing.T, p *policy.Policy) {
		t.Helper()
		max := p.Retention.Default.After(start)
		for _, r := range p.Retention.Rules {
			if r.Period.After(start).After(max) {
				t.Errorf("rule %s keeps calls %v, longer than the default %v", r.ID, r.Period, p.Retention.Default)
			}
		}
		// Two dpos lift a hold (docs/data-protection.md, "Holds").
		if !p.Review.TwoPersonHoldLift {
			t.Error("a single dpo can lift a hold")
		}
	}

	t.Run("membership body LIA", func(t *testing.T) {
		p := load(t, "bacp-membership")
		// "Data is collected at the time of the call and retained for 40 days"
		if d := days(p, in); d != 40 {
			t.Errorf("retention %d days, want 40", d)
		}
		// "PCI – Pause call when payment details are being given"; "Find a Therapist
		// enquiries – Officer to pause call"; "Members talking about health conditions"
		for _, id := range []string{"payment", "therapist", "health"} {
			if p.PauseReason(id) == nil {
				t.Errorf("no %q pause", id)
			}
		}
		// "The recording of outbound calls is only likely to happen after it has been
		// explained to the data subject and they have not objected."
		if !p.Record.OutboundWaitsForNotice {
			t.Error("outbound calls must wait for the notice")
		}
		// "find a therapist calls go to a channel that is not recorded"
		if p.NeverRecordRule("8001", "07700900001") == nil {
			t.Error("the therapist line must never be recorded")
		}
		// "Special category data will be deleted if recorded accidentally" and
		// "Any calls relating to the 'find a therapist service' should not be
		// recorded": a call flagged for either goes within a week unless a dpo
		// decides otherwise first.
		for _, reason := range []string{"health", "therapist"} {
			if d := days(p, flagged(reason)); d != 7 {
				t.Errorf("a call flagged %s is kept %d days, want 7", reason, d)
			}
		}
		// "Opt-out is not an option once call data has been recorded. However,
		// alternative contact methods can be used": an objection does not
		// shorten retention; the dpo still reviews the call.
		if d := days(p, declined); d != 40 {
			t.Errorf("declined call kept %d days, want 40", d)
		}
		// "unless there is another legal reason to retain the information (such as
		// a formal complaint or legal proceedings)": that is a hold, not a rule.
		neverLonger(t, p)
	})
	t.Run("council privacy notice", func(t *testing.T) {
		p := load(t, "council-contact-centre")
		// "Call recordings held by the Contact Centre are retained for up to 18 months."
		if period, _ := p.RetentionFor(in); period != (policy.Period{Months: 18}) {
			t.Errorf("retention %v, want 18 months", period)
		}
		// "with the exception of calls where payments are made"
		if p.PauseReason("payment") == nil {
			t.Error("no payment pause")
		}
		// "All calls to the Contact Centre are recorded": by the phone system,
		// which callguard must pause; the officers' PCs capture nothing.
		if p.Record.Location() != policy.RecordAtPhoneSystem || p.Record.AtDesktop() || !p.Record.AtPhoneSystem() {
			t.Errorf("record where %q, want pbx", p.Record.Where)
		}
		// ... so a caller keying a card number is not recorded either: the
		// recording pauses by itself.
		if !p.Keypad.PausesOnRun() {
			t.Errorf("keypad on_run %q, want pause", p.Keypad.OnRun)
		}
		// "Once this period of retention has expired, recordings will be deleted
		// and no longer retrievable": no category keeps a call longer.
		for _, c := range []policy.CallFacts{declined, flagged("other"), {Direction: "outbound"}} {
			if period, rule := p.RetentionFor(c); period != (policy.Period{Months: 18}) {
				t.Errorf("%+v: %v by rule %s, want 18 months", c, period, rule)
			}
		}
		neverLonger(t, p)
	})
	t.Run("housing and care provider", func(t *testing.T) {
		p := load(t, "housing-inbound-only")
		// "Only incoming calls to the contact centre are recorded."
		if !p.Record.Inbound || p.Record.Outbound {
			t.Errorf("record %+v, want inbound only", p.Record)
		}
		// "recordings will be retained for up to two months"
		if period, _ := p.RetentionFor(in); period != (policy.Period{Months: 2}) {
			t.Errorf("retention %v, want 2 months", period)
		}
		// "You may request that your call is not recorded" — the officer can pause
		// on request, and "Caller objected" declines the call.
		if p.PauseReason("caller-request") == nil {
			t.Error("no caller-request pause")
		}
		// ... and what was recorded before the request is not kept longer than
		// a week, unless the dpo reviews it and decides to keep it.
		if d := days(p, declined); d != 7 {
			t.Errorf("declined call kept %d days, want 7", d)
		}
		// "A recording may be held for longer if it forms part of evidence in an
		// ongoing investigation": a hold.
		neverLonger(t, p)
	})
	t.Run("county council DPIA", func(t *testing.T) {
		p := load(t, "county-council-dpia")
		// "For call recording this is a maximum of 6 months after the call."
		if period, _ := p.RetentionFor(in); period != (policy.Period{Months: 6}) {
			t.Errorf("retention %v, want 6 months", period)
		}
		// "Before every call, customers are informed that their calls are recorded"
		if p.Script("inbound", "en-GB") == nil || p.Script("outbound", "en-GB") == nil || !p.Record.OutboundWaitsForNotice {
			t.Error("a notice is needed before every call, in both directions")
		}
		// 32 "object to how we are using your information stop us using your
		// information in certain ways": a declined call goes within a week.
		if d := days(p, declined); d != 7 {
			t.Errorf("declined call kept %d days, want 7", d)
		}
		// Special category data: "Physical or mental health" of "vulnerable
		// clients": a call flagged for health goes within 30 days.
		if d := days(p, flagged("health")); d != 30 {
			t.Errorf("health-flagged call kept %d days, want 30", d)
		}
		// Sensitive data at large scale: two dpos agree on every deletion.
		if !p.Review.TwoPersonDeletion {
			t.Error("deletions need a second dpo")
		}
		// 26 "We will keep a record of what happens to the data at the end of the
		// retention period": tombstones (server/protect), checked in its tests.
		neverLonger(t, p)
	})
	t.Run("housing association policy", func(t *testing.T) {
		p := load(t, "housing-association")
		// 1.3 "Calls will be monitored and stored ... up to 90 days."
		if d := days(p, in); d != 90 {
			t.Errorf("retention %d days, want 90", d)
		}
		// 1.5 "All inbound and outbound external calls will be recorded by default ...
		// A recorded message will play at the start of the call"
		if !p.Record.Inbound || !p.Record.Outbound || p.Record.OutboundWaitsForNotice {
			t.Errorf("record %+v, want both directions, announced by the system", p.Record)
		}
		// 1.4 "The storage limitations of the BT Cloud system": the phone
		// system records, not the officer's PC.
		if p.Record.Location() != policy.RecordAtPhoneSystem {
			t.Errorf("record where %q, want pbx", p.Record.Where)
		}
		// 6 "there is to be no exchange of PCI data ... calls for payments must continue
		// to be diverted": no payment pause is offered, so none is taken on a recorded line.
		if p.PauseReason("payment") != nil {
			t.Error("payment pause offered although payments are diverted")
		}
		// ... and a caller who keys numbers anyway (an IVR reached by
		// mistake) is not recorded: the recording pauses by itself.
		if !p.Keypad.PausesOnRun() {
			t.Errorf("keypad on_run %q, want pause", p.Keypad.OnRun)
		}
		// 1.3 "Calls may be retained for a longer period of time, in some
		// circumstances, if staff have downloaded the calls within those 90
		// days": a hold with a reason, not a longer rule.
		for _, c := range []policy.CallFacts{declined, flagged("other"), {Direction: "outbound"}} {
			if d := days(p, c); d != 90 {
				t.Errorf("%+v kept %d days, want 90", c, d)
			}
		}
		neverLonger(t, p)
		// Appendix 1: six reasons for releasing a recording, each authorised
		// by the "Customer Service Team Leader / Assistant Director of
		// Communities / Data Protection Officer".
		if n := len(p.Release.Purposes); n != 6 {
			t.Errorf("%d release purposes, want the appendix's 6", n)
		}
		for _, id := range []string{"safety", "crime", "it-support", "staff-investigation", "training", "complaint"} {
			pu := p.ReleasePurpose(id)
			if pu == nil {
				t.Errorf("no release purpose %q", id)
				continue
			}
			for _, role := range []string{"Customer Service Team Leader", "Assistant Director of Communities", "Data Protection Officer"} {
				if !pu.Authorises(role) {
					t.Errorf("%s: %q may not authorise", id, role)
				}
			}
			if pu.Authorises("Customer Service Advisor") || pu.Authorises("") {
				t.Errorf("%s: a job role the appendix does not list authorises", id)
			}
			if pu.LawfulBasis == "" {
				t.Errorf("%s: no lawful basis", id)
			}
		}
		// The form: "Recordings shall remain the property of NWH and are only
		// to be used for the purposes agreed on release."
		if !strings.Contains(p.Release.Terms, "property of North Wales Housing") || !strings.Contains(p.Release.Terms, "purposes agreed on release") {
			t.Errorf("terms %q", p.Release.Terms)
		}
		// 1.3 "Calls may be retained for a longer period of time ... Their
		// retention will then become subject to the Document and Data
		// Retention Policy": a released call moves to the longer category.
		rel := policy.CallFacts{Direction: "inbound", Released: true}
		if period, rule := p.RetentionFor(rel); rule != policy.ReleasedRule || days(p, rel) <= 90 {
			t.Errorf("a released call keeps %v (%s), want longer than 90 days under %q", period, rule, policy.ReleasedRule)
		}
	})
	if got := assets.ExamplePolicies(); len(got) != 5 {
		t.Errorf("%d example policies, want 5: %v", len(got), got)
	}
}

// TestEveryPolicySaysHowABundleNamesOfficers: the default and every
// example policy choose how officers' names are reduced in a
// subject-access bundle, and list England and Wales's bank holidays for
// its deadline.
func TestEveryPolicySaysHowABundleNamesOfficers(t *testing.T) {
	names := append([]string{""}, assets.ExamplePolicies()...)
	for _, name := range names {
		p, err := policy.Parse(assets.DefaultPolicy())
		if name != "" {
			p = load(t, name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.SubjectAccess.OfficerNames == "" {
			t.Errorf("policy %q does not say how officers are named in a bundle", name)
		}
		if !p.SubjectAccess.Holiday(time.Date(2026, 12, 28, 15, 0, 0, 0, time.UTC)) || p.SubjectAccess.Holiday(time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("policy %q: 28 December 2026 (the substitute Boxing Day) should be its only holiday of the two", name)
		}
	}
	if got := (policy.SubjectAccess{}).OfficerNameRule(); got != policy.OfficerNamesWithheld {
		t.Errorf("unset officer_names = %q, want withheld", got)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	bad := `{
		"name": "bad", "recipients": ["ssh-rsa AAA"],
		"record": {"inbound": true, "outbound": true, "outbound_waits_for_notice": true, "where": "cloud", "confirm_within": "6s"},
		"never_record": [{"field": "queue", "pattern": "[", "reason": "x"}],
		"pause_reasons": [{"id": "Pay", "label": "", "remind_after": "0s"}, {"id": "hold", "label": "Hold", "remind_after": "1m"},
			{"id": "payment-detected", "label": "Keys", "remind_after": "1m"}],
		"notice": {"scripts": [{"direction": "sideways", "language": "en", "text": " "}]},
		"flag_reasons": [],
		"retention": {"default": {}},
		"review": {"two_person_deletion": false},
		"subject_access": {"officer_names": "nicknames", "public_holidays": ["25/12/2026"]},
		"keypad": {"guard": "2s", "run_tones": 1, "run_within": "11m", "on_run": "hang-up"},
		"allowed_origins": ["crm.example.org/"]
	}`
	_, err := policy.Parse([]byte(bad))
	if err == nil {
		t.Fatal("invalid policy accepted")
	}
	for _, want := range []string{
		"not an age recipient", "field \"queue\"", "not a valid glob", "id \"Pay\"", "label is empty",
		"remind_after must be positive", "reserved for calls on hold", "direction \"sideways\"",
		"text is empty", "no outbound script", "retention.default", "allowed_origins[0]",
		"officer_names: \"nicknames\"", "public_holidays[0]",
		"reserved for the pause a run of keypad tones makes", "keypad.guard", "keypad.run_tones", "keypad.run_within", "keypad.on_run",
		"record.where: \"cloud\"", "record.confirm_within: 6s",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// The keypad settings: defaults when the policy says nothing, a guard of
// zero when it says 0s, and the default policy asks the officer.
func TestKeypadSettings(t *testing.T) {
	p, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if g := p.Keypad.GuardOrDefault(); g != 40*time.Millisecond || p.Keypad.PausesOnRun() {
		t.Errorf("default policy: guard %v, pauses on run %v", g, p.Keypad.PausesOnRun())
	}
	var none policy.Keypad
	if n, w := none.Run(); n != 4 || w != 10*time.Second || none.GuardOrDefault() != 40*time.Millisecond {
		t.Errorf("unset keypad: run %d within %v, guard %v", n, w, none.GuardOrDefault())
	}
	zero, err := p.Overlay([]byte(`{"keypad": {"guard": "0s", "run_tones": 6, "run_within": "20s", "on_run": "pause"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, w := zero.Keypad.Run(); zero.Keypad.GuardOrDefault() != 0 || n != 6 || w != 20*time.Second || !zero.Keypad.PausesOnRun() {
		t.Errorf("overlaid keypad %+v", zero.Keypad)
	}
}

func TestParseRejectsUnknownFieldsAndTrailingData(t *testing.T) {
	for name, doc := range map[string]string{
		"typo":     strings.Replace(string(assets.DefaultPolicy()), `"never_record"`, `"nevr_record"`, 1),
		"trailing": string(assets.DefaultPolicy()) + "{}",
		"duration": strings.Replace(string(assets.DefaultPolicy()), `"3m"`, `"three minutes"`, 1),
	} {
		if _, err := policy.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestOverlayReplacesOnlyWhatItNames(t *testing.T) {
	base, _ := policy.Parse(assets.DefaultPolicy())
	got, err := base.Overlay([]byte(`{"retention": {"default": {"months": 6}}, "allowed_origins": ["https://crm.example.org"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Retention.Default != (policy.Period{Months: 6}) || len(got.AllowedOrigins) != 1 {
		t.Fatalf("overlay not applied: %+v %v", got.Retention, got.AllowedOrigins)
	}
	if len(got.PauseReasons) != len(base.PauseReasons) {
		t.Fatal("overlay dropped fields it did not name")
	}
	if base.Retention.Default != (policy.Period{Days: 90}) {
		t.Fatal("overlay changed the base policy")
	}
	if _, err := base.Overlay([]byte(`{"pause_reasons": []}`)); err == nil {
		t.Fatal("overlay that empties the pause reasons accepted")
	}
}

func TestNeverRecordRuleMatchesNumbersWhateverTheirSpacing(t *testing.T) {
	p, _ := policy.Parse(assets.DefaultPolicy())
	p.NeverRecord = []policy.Rule{
		{Field: "remote", Pattern: "+44 800 123*", Reason: "therapist line"},
		{Field: "local", Pattern: "80??", Reason: "unrecorded queue"},
	}
	cases := []struct {
		local, remote string
		want          string
	}{
		{"1001", "+448001234567", "therapist line"},
		{"1001", "+44 (800) 123-999", "therapist line"},
		{"8001", "07700900001", "unrecorded queue"},
		{"1001", "07700900001", ""},
		{"1001", "", ""},
	}
	for _, c := range cases {
		r := p.NeverRecordRule(c.local, c.remote)
		got := ""
		if r != nil {
			got = r.Reason
		}
		if got != c.want {
			t.Errorf("NeverRecordRule(%q, %q) = %q, want %q", c.local, c.remote, got, c.want)
		}
	}
}

func TestRetentionRulesFirstMatchWins(t *testing.T) {
	yes := true
	p, _ := policy.Parse(assets.DefaultPolicy())
	p.Retention.Rules = []policy.RetentionRule{
		{ID: "declined", Match: policy.Match{Declined: &yes}, Period: policy.Period{Days: 7}},
		{ID: "health", Match: policy.Match{FlagReason: "health"}, Period: policy.Period{Days: 1}},
		{ID: "outbound", Match: policy.Match{Direction: "outbound"}, Period: policy.Period{Months: 1}},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		facts policy.CallFacts
		rule  string
	}{
		{policy.CallFacts{Direction: "inbound"}, "default"},
		{policy.CallFacts{Direction: "outbound"}, "outbound"},
		{policy.CallFacts{Direction: "outbound", FlagReasons: []string{"health"}}, "health"},
		{policy.CallFacts{Direction: "outbound", Declined: true, FlagReasons: []string{"health"}}, "declined"},
	} {
		if _, rule := p.RetentionFor(c.facts); rule != c.rule {
			t.Errorf("RetentionFor(%+v) rule %q, want %q", c.facts, rule, c.rule)
		}
	}
}

func TestPeriodIsCalendarAware(t *testing.T) {
	start := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	if got := (policy.Period{Months: 18}).After(start); !got.Equal(time.Date(2027, 7, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("18 months after %s = %s", start, got)
	}
	if s := (policy.Period{Months: 1, Days: 2}).String(); s != "1 month 2 days" {
		t.Errorf("String = %q", s)
	}
}

func TestReleaseSectionIsChecked(t *testing.T) {
	base := func() *policy.Policy {
		p, err := policy.Parse(assets.DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		p.Release = policy.Release{
			Purposes: []policy.ReleasePurpose{{ID: "crime", Label: "Crime", LawfulBasis: "Art. 6(1)(f)", Authorisers: []string{"Data Protection Officer"}}},
			Terms:    "Property of the organisation.",
		}
		return p
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("a good release section refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(p *policy.Policy)
		want   string
	}{
		{"a purpose without a lawful basis", func(p *policy.Policy) { p.Release.Purposes[0].LawfulBasis = " " }, "lawful_basis is empty"},
		{"a purpose nobody may authorise", func(p *policy.Policy) { p.Release.Purposes[0].Authorisers = nil }, "authorisers is empty"},
		{"a blank job role", func(p *policy.Policy) { p.Release.Purposes[0].Authorisers = []string{"  "} }, "must be a job role"},
		{"a job role twice", func(p *policy.Policy) {
			p.Release.Purposes[0].Authorisers = []string{"Data Protection Officer", "data protection officer "}
		}, "named twice"},
		{"a purpose id twice", func(p *policy.Policy) {
			p.Release.Purposes = append(p.Release.Purposes, p.Release.Purposes[0])
		}, "must be unique"},
		{"a bad purpose id", func(p *policy.Policy) { p.Release.Purposes[0].ID = "Crime!" }, "release.purposes[0]"},
		{"a purpose without a label", func(p *policy.Policy) { p.Release.Purposes[0].Label = "" }, "label is empty"},
		{"purposes without terms", func(p *policy.Policy) { p.Release.Terms = "" }, "release.terms"},
		{"a release retention no longer than the default", func(p *policy.Policy) { p.Release.Retention = policy.Period{Months: 3} }, "not longer than retention.default"},
		{"a retention rule called released", func(p *policy.Policy) {
			p.Retention.Rules = append(p.Retention.Rules, policy.RetentionRule{ID: policy.ReleasedRule, Period: policy.Period{Days: 1}})
		}, "retention.rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.change(p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestReleasedCallsMoveToTheLongerCategoryOnly(t *testing.T) {
	p, err := policy.Parse(assets.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	p.Release.Retention = policy.Period{Months: 24}
	if period, rule := p.RetentionFor(policy.CallFacts{Released: true}); rule != policy.ReleasedRule || period != (policy.Period{Months: 24}) {
		t.Errorf("released: %v (%s), want 24 months (released)", period, rule)
	}
	if _, rule := p.RetentionFor(policy.CallFacts{}); rule != "default" {
		t.Errorf("not released: rule %s, want default", rule)
	}
	// No release retention: a released call keeps to its rules.
	p.Release.Retention = policy.Period{}
	if _, rule := p.RetentionFor(policy.CallFacts{Released: true}); rule != "default" {
		t.Errorf("no release retention: rule %s, want default", rule)
	}
}

func TestWhereRecordingHappens(t *testing.T) {
	for _, tc := range []struct {
		where             string
		location          string
		desktop, phone    bool
		confirm           string
		wantConfirmWithin time.Duration
	}{
		{"", policy.RecordAtDesktop, true, false, "", policy.DefaultConfirmWithin},
		{"desktop", policy.RecordAtDesktop, true, false, "", 500 * time.Millisecond},
		{"pbx", policy.RecordAtPhoneSystem, false, true, "250ms", 250 * time.Millisecond},
		{"both", policy.RecordAtBoth, true, true, "2s", 2 * time.Second},
	} {
		t.Run("where "+tc.location, func(t *testing.T) {
			doc := `{"record": {"inbound": true, "outbound": true, "outbound_waits_for_notice": true`
			if tc.where != "" {
				doc += `, "where": "` + tc.where + `"`
			}
			if tc.confirm != "" {
				doc += `, "confirm_within": "` + tc.confirm + `"`
			}
			doc += `}}`
			p, err := policy.Parse(assets.DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			p, err = p.Overlay([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			r := p.Record
			if r.Location() != tc.location || r.AtDesktop() != tc.desktop || r.AtPhoneSystem() != tc.phone {
				t.Errorf("where %q: location %q, desktop %v, phone system %v", tc.where, r.Location(), r.AtDesktop(), r.AtPhoneSystem())
			}
			if got := r.ConfirmWithinOrDefault(); got != tc.wantConfirmWithin {
				t.Errorf("confirm within %v, want %v", got, tc.wantConfirmWithin)
			}
		})
	}
}
