package subjectaccess_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

// TestOnlyADPORunsACase: an agent, a supervisor and an admin can neither
// open, list, read, extend, move on, search nor bundle a case, on SQLite
// and PostgreSQL; nothing is stored or served for them.
func TestOnlyADPORunsACase(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c, err := e.svc.Open(ctx, e.dpo, request("07700 900123"))
		if err != nil {
			t.Fatal(err)
		}
		before := len(e.audits("subject-access."))
		for _, p := range []server.Principal{e.agent, e.supervisor, e.admin, {Username: "nobody"}} {
			attempts := map[string]error{}
			_, attempts["open"] = e.svc.Open(ctx, p, request("07700 900999"))
			_, attempts["list"] = e.svc.Cases(ctx, p)
			_, attempts["read"] = e.svc.Case(ctx, p, c.ID)
			_, _, attempts["calls"] = e.svc.Calls(ctx, p, c.ID)
			_, attempts["extend"] = e.svc.Extend(ctx, p, c.ID, c.Version, c.Deadline.AddDate(0, 0, 20), "complex")
			_, attempts["send"] = e.svc.SetStatus(ctx, p, c.ID, c.Version, server.SARSent, "")
			_, attempts["close"] = e.svc.SetStatus(ctx, p, c.ID, c.Version, server.SARClosed, "withdrawn")
			wrote := false
			attempts["bundle"] = e.svc.Bundle(ctx, p, c.ID, io.Discard, func() { wrote = true })
			for what, err := range attempts {
				if !errors.Is(err, server.ErrForbidden) {
					t.Errorf("%s (%s) could %s a case: %v", p.Username, p.Role, what, err)
				}
			}
			if wrote {
				t.Errorf("%s got a bundle started", p.Username)
			}
		}
		cs, err := e.svc.Cases(ctx, e.dpo)
		if err != nil || len(cs) != 1 || cs[0].Version != 1 || cs[0].Status != server.SAROpen {
			t.Fatalf("after the attempts: %+v, %v", cs, err)
		}
		if got := len(e.audits("subject-access.")); got != before+1 {
			t.Errorf("%d subject-access audit records after the refusals, want %d (only the dpo's list)", got, before+1)
		}
	})
}

// TestACaseRunsFromOpenToClosedInOrder: a case is opened with its deadline,
// extended twice with reasons, sent and closed; every step out of order is
// refused and changes nothing; every step is audited with the case id.
func TestACaseRunsFromOpenToClosedInOrder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c, err := e.svc.Open(ctx, e.dpo, request("07700 900123", "+44 1632 960555"))
		if err != nil {
			t.Fatal(err)
		}
		// Received 10 March 2026: due 10 April, a Friday.
		if c.Status != server.SAROpen || c.Deadline.Format(server.DateLayout) != "2026-04-10" || c.Version != 1 {
			t.Fatalf("opened %+v", c)
		}
		if _, err := e.svc.SetStatus(ctx, e.dpo, c.ID, c.Version, server.SAROpen, ""); !errors.Is(err, server.ErrConflict) {
			t.Errorf("open → open = %v, want refused", err)
		}
		if _, err := e.svc.Extend(ctx, e.dpo, c.ID, c.Version, c.Deadline, "complex"); !errors.Is(err, server.ErrInvalid) {
			t.Errorf("extension to the same day = %v, want refused", err)
		}
		c, err = e.svc.Extend(ctx, e.dpo, c.ID, c.Version, server.Date(t0, nil).AddDate(0, 2, 0), "complex: calls across two numbers")
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != server.SARExtended || c.Deadline.Format(server.DateLayout) != "2026-05-10" || len(c.Extensions) != 1 {
			t.Fatalf("extended %+v", c)
		}
		c, err = e.svc.Extend(ctx, e.dpo, c.ID, c.Version, c.MaxDeadline(e.svc.Holiday), "more calls found")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Extend(ctx, e.dpo, c.ID, c.Version, c.Deadline.AddDate(0, 0, 1), "again"); !errors.Is(err, server.ErrInvalid) {
			t.Errorf("a third extension = %v, want refused", err)
		}
		if c, err = e.svc.SetStatus(ctx, e.dpo2, c.ID, c.Version, server.SARSent, "posted recorded delivery"); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []server.SARStatus{server.SAROpen, server.SARExtended, server.SARSent} {
			if _, err := e.svc.SetStatus(ctx, e.dpo, c.ID, c.Version, bad, "x"); !errors.Is(err, server.ErrConflict) {
				t.Errorf("sent → %s = %v, want refused", bad, err)
			}
		}
		if _, err := e.svc.Extend(ctx, e.dpo, c.ID, c.Version, c.Deadline.AddDate(0, 0, 1), "late"); !errors.Is(err, server.ErrConflict) {
			t.Errorf("extending a sent case = %v, want refused", err)
		}
		if c, err = e.svc.SetStatus(ctx, e.dpo, c.ID, c.Version, server.SARClosed, ""); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Case(ctx, e.dpo, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != server.SARClosed || got.Version != 5 || len(got.History) != 5 || got.RequesterName != "Ann Caller" ||
			len(got.Numbers) != 2 || got.History[3].By != "dan" || got.History[3].Note != "posted recorded delivery" {
			t.Fatalf("closed case %+v", got)
		}
		var actions []string
		for _, r := range e.audits("subject-access.") {
			if r.Target != c.Target() {
				t.Errorf("audit %s has target %q, want %q", r.Action, r.Target, c.Target())
			}
			if strings.Contains(r.Detail, "Ann Caller") || strings.Contains(r.Detail, "900123") {
				t.Errorf("audit %s holds the requester's name or number: %s", r.Action, r.Detail)
			}
			actions = append(actions, r.Action)
		}
		want := []string{server.AuditSAROpen, server.AuditSARExtend, server.AuditSARExtend, server.AuditSARStatus, server.AuditSARStatus, server.AuditSARRead}
		if strings.Join(actions, " ") != strings.Join(want, " ") {
			t.Errorf("audited %v, want %v", actions, want)
		}
		if _, err := e.st.VerifyAuditChain(ctx, nil); err != nil && !strings.Contains(err.Error(), "no signed checkpoint") {
			t.Errorf("audit chain: %v", err)
		}
	})
}

// TestOverdueCasesComeFirst: the list puts running cases first, soonest
// deadline first (so overdue ones lead), then sent and closed ones.
func TestOverdueCasesComeFirst(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		open := func(received string, number string) server.SARCase {
			r := request(number)
			r.Received, _ = server.ParseDate(received)
			c, err := e.svc.Open(ctx, e.dpo, r)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		soon := open("2026-02-20", "07700 900001")
		sent := open("2026-01-05", "07700 900002")
		if _, err := e.svc.SetStatus(ctx, e.dpo, sent.ID, sent.Version, server.SARSent, ""); err != nil {
			t.Fatal(err)
		}
		overdue := open("2026-01-20", "07700 900003")
		later := open("2026-03-09", "07700 900004")
		cs, err := e.svc.Cases(ctx, e.dpo)
		if err != nil {
			t.Fatal(err)
		}
		var order []int64
		for _, c := range cs {
			order = append(order, c.ID)
		}
		want := []int64{overdue.ID, soon.ID, later.ID, sent.ID}
		if len(order) != 4 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] || order[3] != want[3] {
			t.Fatalf("order %v, want %v", order, want)
		}
		if !cs[0].Overdue(e.svc.Today()) || cs[1].Overdue(e.svc.Today()) {
			t.Errorf("overdue flags: %v %v", cs[0].Overdue(e.svc.Today()), cs[1].Overdue(e.svc.Today()))
		}
	})
}

// TestTwoConcurrentChangesDoNotBothWin: two dpos act on the same version
// of a case at once (send and extend, send and send); exactly one change
// is stored, the other is told the case changed, on both databases.
func TestTwoConcurrentChangesDoNotBothWin(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for round := 0; round < 8; round++ {
			c, err := e.svc.Open(ctx, e.dpo, request("07700 900123"))
			if err != nil {
				t.Fatal(err)
			}
			var (
				wg   sync.WaitGroup
				errs [2]error
				gate = make(chan struct{})
			)
			moves := []func() error{
				func() error {
					_, err := e.svc.SetStatus(ctx, e.dpo, c.ID, c.Version, server.SARSent, "")
					return err
				},
				func() error {
					if round%2 == 0 {
						_, err := e.svc.SetStatus(ctx, e.dpo2, c.ID, c.Version, server.SARSent, "")
						return err
					}
					_, err := e.svc.Extend(ctx, e.dpo2, c.ID, c.Version, c.Deadline.AddDate(0, 1, 0), "complex")
					return err
				},
			}
			for i, move := range moves {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					errs[i] = move()
				}()
			}
			close(gate)
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, server.ErrConflict):
					t.Fatalf("round %d: a losing change failed otherwise: %v", round, err)
				}
			}
			got, err := e.svc.Case(ctx, e.dpo, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if won != 1 || got.Version != 2 || len(got.History) != 2 {
				t.Fatalf("round %d: %d changes won (%v), case at version %d with history %+v", round, won, errs, got.Version, got.History)
			}
		}
	})
}

// TestACaseStepWithoutItsAuditChangesNothing: with the audit log
// unwritable (a trigger raises, as a full disk does), no case is opened,
// extended or moved on, and no bundle starts; once it is mended the same
// steps work.
func TestACaseStepWithoutItsAuditChangesNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c, err := e.svc.Open(ctx, e.dpo, request("07700 900123"))
		if err != nil {
			t.Fatal(err)
		}
		mend := breakAudit(t, e.st)
		if _, err := e.svc.Open(ctx, e.dpo, request("07700 900999")); !errors.Is(err, server.ErrAuditFailed) {
			t.Errorf("open without audit = %v", err)
		}
		if _, err := e.svc.Extend(ctx, e.dpo, c.ID, c.Version, c.Deadline.AddDate(0, 1, 0), "complex"); !errors.Is(err, server.ErrAuditFailed) {
			t.Errorf("extend without audit = %v", err)
		}
		if _, err := e.svc.SetStatus(ctx, e.dpo, c.ID, c.Version, server.SARSent, ""); !errors.Is(err, server.ErrAuditFailed) {
			t.Errorf("send without audit = %v", err)
		}
		if _, err := e.svc.Case(ctx, e.dpo, c.ID); !errors.Is(err, server.ErrAuditFailed) {
			t.Errorf("a read without audit = %v", err)
		}
		started := false
		if err := e.svc.Bundle(ctx, e.dpo, c.ID, io.Discard, func() { started = true }); !errors.Is(err, server.ErrAuditFailed) || started {
			t.Errorf("bundle without audit = %v (started %v)", err, started)
		}
		mend()
		got, err := e.st.SAR(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 1 || got.Status != server.SAROpen || !got.Deadline.Equal(c.Deadline) || len(got.History) != 1 {
			t.Fatalf("the case changed without its audit: %+v", got)
		}
		if cs, _ := e.st.SARs(ctx, 0); len(cs) != 1 {
			t.Fatalf("%d cases, want 1: a case was opened without its audit", len(cs))
		}
		if _, err := e.svc.SetStatus(ctx, e.dpo, c.ID, c.Version, server.SARSent, ""); err != nil {
			t.Fatalf("once mended: %v", err)
		}
	})
}

// TestBadRequestsAreRefusedInWords: a request in the future, a reversed
// range and a malformed number are refused with what is wrong, and no
// case is stored.
func TestBadRequestsAreRefusedInWords(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := request("0770 ABC")
		r.Received = server.Date(t0, nil).AddDate(0, 0, 1)
		r.From, r.To = server.Date(t0, nil), server.Date(t0, nil).AddDate(0, 0, -3)
		_, err := e.svc.Open(ctx, e.dpo, r)
		if !errors.Is(err, server.ErrInvalid) {
			t.Fatalf("Open = %v", err)
		}
		for _, want := range []string{"in the future", "reversed", `"0770 ABC" is not a phone number`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q missing from %v", want, err)
			}
		}
		if cs, _ := e.st.SARs(ctx, 0); len(cs) != 0 {
			t.Fatalf("a bad request was stored: %+v", cs)
		}
		e.clk.Set(t0.Add(24 * time.Hour))
		if _, err := e.svc.Open(ctx, e.dpo, request("07700 900123")); err != nil {
			t.Fatal(err)
		}
	})
}
