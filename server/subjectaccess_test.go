package server

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"
)

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// holidays are England and Wales's bank holidays the cases below meet.
func holidays(t *testing.T, days ...string) func(time.Time) bool {
	set := map[time.Time]bool{}
	for _, s := range days {
		set[day(t, s)] = true
	}
	return func(d time.Time) bool { return set[d] }
}

// TestSARDeadlineFollowsTheICOsGuidance: one calendar month from the day
// of receipt (that day counts), the month's last day when the next month
// is shorter, the next working day when it falls on a weekend or holiday.
func TestSARDeadlineFollowsTheICOsGuidance(t *testing.T) {
	hol := holidays(t, "2023-05-01", "2026-12-25", "2026-12-28")
	for _, c := range []struct {
		name, received string
		extra          int
		want           string
	}{
		{"ICO: received 3 September, due 3 October", "2025-09-03", 0, "2025-10-03"},
		{"ICO: received 31 January, due 28 February", "2025-01-31", 0, "2025-02-28"},
		{"ICO: 29 February in a leap year", "2024-01-31", 0, "2024-02-29"},
		{"ICO: 1 April, 1 May a bank holiday: the next working day", "2023-04-01", 0, "2023-05-02"},
		{"31 March: April has no 31st, so 30 April", "2025-03-31", 0, "2025-04-30"},
		{"31 December: into the next year (31 January 2026 a Saturday)", "2025-12-31", 0, "2026-02-02"},
		{"a Saturday due date (28 February 2026) moves to the Monday", "2026-01-28", 0, "2026-03-02"},
		{"month-end and weekend together: 31 January 2026 → 28 February (Saturday) → 2 March", "2026-01-31", 0, "2026-03-02"},
		{"Christmas, a weekend and a substitute Boxing Day: the Tuesday", "2026-11-25", 0, "2026-12-29"},
		{"extended by two months: three months from receipt, month-end rule", "2025-01-31", 2, "2025-04-30"},
		{"extended by one month", "2025-01-31", 1, "2025-03-31"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := SARDeadline(day(t, c.received), c.extra, hol)
			want := day(t, c.want)
			if !got.Equal(want) {
				t.Fatalf("received %s +%d: due %s, want %s", c.received, c.extra, got.Format(DateLayout), want.Format(DateLayout))
			}
		})
	}
}

func TestAddMonthsKeepsTheDayOrTakesTheMonthsLast(t *testing.T) {
	for _, c := range []struct {
		from   string
		months int
		want   string
	}{
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"},
		{"2026-01-30", 1, "2026-02-28"},
		{"2026-01-28", 1, "2026-02-28"},
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-05-15", 1, "2026-06-15"},
		{"2026-11-30", 3, "2027-02-28"},
		{"2026-12-31", 2, "2027-02-28"},
	} {
		if got := AddMonths(day(t, c.from), c.months); got.Format(DateLayout) != c.want {
			t.Errorf("%s + %d months = %s, want %s", c.from, c.months, got.Format(DateLayout), c.want)
		}
	}
}

func TestSARStatusChangesOnlyInOrder(t *testing.T) {
	allowed := map[[2]SARStatus]bool{
		{SAROpen, SARExtended}: true, {SAROpen, SARSent}: true, {SAROpen, SARClosed}: true,
		{SARExtended, SARExtended}: true, {SARExtended, SARSent}: true, {SARExtended, SARClosed}: true,
		{SARSent, SARClosed}: true,
	}
	all := append([]SARStatus{SARUnknown}, SARStatuses...)
	for _, from := range all {
		for _, to := range all {
			if got := from.CanBecome(to); got != allowed[[2]SARStatus{from, to}] {
				t.Errorf("%s → %s allowed = %v", from, to, got)
			}
		}
	}
	for _, s := range SARStatuses {
		back, err := ParseSARStatus(s.String())
		if err != nil || back != s {
			t.Errorf("ParseSARStatus(%q) = %v, %v", s, back, err)
		}
	}
	if _, err := ParseSARStatus("unknown"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseSARStatus(unknown) = %v, want ErrInvalid", err)
	}
	c := SARCase{Status: SARSent}
	if err := c.SetStatus(SAROpen, "", "dora", time.Now()); !errors.Is(err, ErrSARTransition) {
		t.Errorf("sent → open = %v, want ErrSARTransition", err)
	}
	c = SARCase{Status: SAROpen}
	if err := c.SetStatus(SARClosed, " ", "dora", time.Now()); !errors.Is(err, ErrInvalid) {
		t.Errorf("closing an unsent case without a note = %v, want ErrInvalid", err)
	}
	if err := c.SetStatus(SARExtended, "why", "dora", time.Now()); !errors.Is(err, ErrSARTransition) {
		t.Errorf("extended without a deadline = %v, want ErrSARTransition", err)
	}
	if err := c.SetStatus(SARSent, "", "dora", time.Now()); err != nil || c.Status != SARSent || len(c.History) != 1 {
		t.Errorf("open → sent = %v, status %s, history %v", err, c.Status, c.History)
	}
}

func TestSARExtensionsAreRefusedBeyondTheLaw(t *testing.T) {
	now := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	today := Date(now, nil)
	fresh := func() SARCase {
		return NewSARCase(SARRequest{Received: day(t, "2026-02-02"), Numbers: []string{"+447700900123"}}, "dora", now, nil)
	}
	c := fresh()
	if c.Deadline.Format(DateLayout) != "2026-03-02" {
		t.Fatalf("deadline %s", c.Deadline.Format(DateLayout))
	}
	for _, bad := range []struct {
		name, to, reason string
		today            time.Time
		want             error
	}{
		{"no reason", "2026-04-02", "  ", today, ErrSARExtension},
		{"a deadline in the past", "2026-02-09", "complex", today, ErrSARExtension},
		{"not after the present deadline", "2026-03-02", "complex", today, ErrSARExtension},
		{"past two further months", "2026-05-05", "complex", today, ErrSARExtension},
		{"after the first month ran out", "2026-04-02", "complex", day(t, "2026-03-03"), ErrSARExtension},
	} {
		c := fresh()
		if err := c.Extend(day(t, bad.to), bad.reason, "dora", now, bad.today, nil); !errors.Is(err, bad.want) {
			t.Errorf("%s: Extend = %v, want %v", bad.name, err, bad.want)
		}
		if c.Status != SAROpen || len(c.Extensions) != 0 || c.Deadline.Format(DateLayout) != "2026-03-02" {
			t.Errorf("%s: a refused extension changed the case: %+v", bad.name, c)
		}
	}
	if err := c.Extend(day(t, "2026-04-02"), "numerous requests", "dora", now, today, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Extend(day(t, "2026-05-04"), "complex: 40 calls to review", "dora", now, today, nil); err != nil {
		t.Fatalf("second extension to the latest day (2 May is a Saturday): %v", err)
	}
	if c.Status != SARExtended || len(c.Extensions) != 2 || c.Deadline.Format(DateLayout) != "2026-05-04" {
		t.Fatalf("after two extensions: %+v", c)
	}
	err := c.Extend(day(t, "2026-05-05"), "more", "dora", now, today, nil)
	if !errors.Is(err, ErrSARExtension) || !strings.Contains(err.Error(), "2 times") {
		t.Fatalf("third extension = %v, want refused", err)
	}
}

func TestSARRequestSaysEveryProblem(t *testing.T) {
	today := day(t, "2026-03-10")
	r := SARRequest{Received: day(t, "2026-03-11"), Numbers: []string{"07700 900123", "not a number"},
		From: day(t, "2026-02-01"), To: day(t, "2026-01-01")}
	err := r.Validate(today)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate = %v", err)
	}
	for _, want := range []string{"requester's name is required", "identity was checked is required", "received in the future",
		`"not a number" is not a phone number`, "date range is reversed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q missing from %q", want, err)
		}
	}
	if strings.Contains(err.Error(), "07700") {
		t.Errorf("a good number was reported: %v", err)
	}
	ok := SARRequest{RequesterName: "Ann Caller", RequesterContact: "ann@example.org", IdentityMethod: "passport seen",
		IdentityCheckedBy: "dora", Received: today, Numbers: []string{"(01632) 960555"}}
	if err := ok.Validate(today); err != nil {
		t.Fatalf("a good request: %v", err)
	}
}

func TestDaysLeftCountsCalendarDays(t *testing.T) {
	c := SARCase{Status: SAROpen, Deadline: day(t, "2026-03-31")}
	for _, x := range []struct {
		today   string
		left    int
		overdue bool
	}{{"2026-03-26", 5, false}, {"2026-03-31", 0, false}, {"2026-04-03", -3, true}, {"2026-03-28", 3, false}} {
		if got := c.DaysLeft(day(t, x.today)); got != x.left || c.Overdue(day(t, x.today)) != x.overdue {
			t.Errorf("on %s: %d days left, overdue %v", x.today, got, c.Overdue(day(t, x.today)))
		}
	}
	// Across the clocks going forward (29 March 2026 in London) it still counts whole days.
	london, err := time.LoadLocation("Europe/London") // time/tzdata: found on any machine
	if err != nil {
		t.Fatal(err)
	}
	today := Date(time.Date(2026, 3, 28, 23, 30, 0, 0, london), london)
	if got := c.DaysLeft(today); got != 3 {
		t.Errorf("late on 28 March in London: %d days left, want 3", got)
	}
}
