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
		// 6 "there is to be no exchange of PCI data ... calls for payments must continue
		// to be diverted": no payment pause is offered, so none is taken on a recorded line.
		if p.PauseReason("payment") != nil {
			t.Error("payment pause offered although payments are diverted")
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
	})
	if got := assets.ExamplePolicies(); len(got) != 5 {
		t.Errorf("%d example policies, want 5: %v", len(got), got)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	bad := `{
		"name": "bad", "recipients": ["ssh-rsa AAA"],
		"record": {"inbound": true, "outbound": true, "outbound_waits_for_notice": true},
		"never_record": [{"field": "queue", "pattern": "[", "reason": "x"}],
		"pause_reasons": [{"id": "Pay", "label": "", "remind_after": "0s"}, {"id": "hold", "label": "Hold", "remind_after": "1m"}],
		"notice": {"scripts": [{"direction": "sideways", "language": "en", "text": " "}]},
		"flag_reasons": [],
		"retention": {"default": {}},
		"review": {"two_person_deletion": false},
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
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
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
