package protect_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/protect"
	"github.com/callguard/callguard/server/store"
)

// nwhPolicy is North Wales Housing's example policy: six release purposes,
// each authorised by its three job roles, released calls kept 72 months.
func nwhPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	b, err := assets.ExamplePolicy("housing-association")
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// releaseEnv is an env on the NWH policy with a team leader (supervisor)
// who enters requests and two dpos with job roles set as the CLI sets them.
type releaseEnv struct {
	*env
	sue server.Principal // Customer Service Team Leader
}

func newReleaseEnv(t *testing.T, url string) *releaseEnv {
	e := &releaseEnv{env: newEnv(t, url, nwhPolicy(t))}
	e.sue = principal(t, e.st, "sue", server.RoleSupervisor)
	e.jobRole("sue", "Customer Service Team Leader")
	return e
}

func (e *releaseEnv) jobRole(user, role string) {
	e.t.Helper()
	if _, err := e.st.SetJobRole(context.Background(), user, role); err != nil {
		e.t.Fatal(err)
	}
}

// form is a complete, valid request for the calls.
func form(calls ...string) server.ReleaseRequest {
	return server.ReleaseRequest{CallDate: t0.Format(time.DateOnly), CallTime: "10:00", Number: "+44 1632 960123", Calls: calls,
		Requester: "PC 1234 Jones, North Wales Police", Purpose: "crime", OnBehalf: false, RequestedOn: t0.AddDate(0, 0, 1).Format(time.DateOnly),
		RecipientName: "Gareth Jones", RecipientTitle: "Police Constable"}
}

func auditActions(t testing.TB, st *store.Store, target string) []server.AuditRecord {
	t.Helper()
	recs, err := st.SearchAudit(context.Background(), server.AuditFilter{Target: target, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func count(recs []server.AuditRecord, action string) int {
	n := 0
	for _, r := range recs {
		if r.Action == action {
			n++
		}
	}
	return n
}

// TestAThirdPartyReleaseFromRequestToPackage walks NWH's appendix 1: the
// team leader enters the police's request; a dpo whose job role the
// appendix does not list is refused (and the refusal audited); the
// package cannot be had before authorisation; the Data Protection Officer
// authorises; the package carries the recording, the terms and checksums
// that match, its sha256 is in the register and the audit, and the call
// moves to the released retention category, so the 90-day expiry passes it
// by while an unreleased call of the same day goes.
func TestAThirdPartyReleaseFromRequestToPackage(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			e := newReleaseEnv(t, d.url(t))
			ctx := context.Background()
			e.ingest(call{id: "rel1", start: t0, remote: "+441632960123"})
			audio, manifest, _ := e.recording("rel1", 3)
			e.upload("rel1", audio, manifest)
			e.ingest(call{id: "other1", start: t0, remote: "+441632960999"})
			e.clk.Set(t0.AddDate(0, 0, 1))

			rel, err := e.svc.RequestRelease(ctx, e.sue, form("rel1"))
			if err != nil {
				t.Fatal(err)
			}
			if rel.State != server.ReleaseRequested || rel.LawfulBasis == "" || rel.PurposeLabel == "" || rel.EnteredBy != "sue" {
				t.Fatalf("entered %+v", rel)
			}
			var sink bytes.Buffer
			if _, err := e.svc.ReleasePackage(ctx, e.sue, rel.ID, "", &sink); !errors.Is(err, protect.ErrNotAuthorised) || sink.Len() > 0 {
				t.Fatalf("package before authorisation: %v, %d bytes", err, sink.Len())
			}

			e.jobRole("dee", "Customer Service Advisor")
			_, err = e.svc.AuthoriseRelease(ctx, e.dpo, rel.ID)
			if !errors.Is(err, protect.ErrNotAuthoriser) || !errors.Is(err, server.ErrForbidden) || !strings.Contains(err.Error(), "Data Protection Officer") {
				t.Fatalf("wrong job role: %v", err)
			}
			if _, err := e.svc.AuthoriseRelease(ctx, e.dpo2, rel.ID); !errors.Is(err, protect.ErrNotAuthoriser) {
				t.Fatalf("no job role at all: %v", err)
			}
			if got, _ := e.st.Release(ctx, rel.ID); got.State != server.ReleaseRequested || got.AuthorisedBy != "" {
				t.Fatalf("after refusals: %+v", got)
			}

			e.jobRole("dan", "data protection officer") // as typed at the CLI: case does not matter
			e.clk.Set(t0.AddDate(0, 0, 2))
			rel, err = e.svc.AuthoriseRelease(ctx, e.dpo2, rel.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rel.State != server.ReleaseAuthorised || rel.AuthorisedBy != "dan" || rel.AuthorisedAs != "data protection officer" || rel.AuthorisedAt == nil {
				t.Fatalf("authorised %+v", rel)
			}

			var zipped bytes.Buffer
			rel, err = e.svc.ReleasePackage(ctx, e.sue, rel.ID, "", &zipped)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(zipped.Bytes())
			if rel.State != server.ReleaseReleased || rel.PackageSHA256 != hex.EncodeToString(sum[:]) || rel.DisclosedOn != t0.AddDate(0, 0, 2).Format(time.DateOnly) || rel.ReleasedBy != "sue" {
				t.Fatalf("released %+v (zip sha256 %x)", rel, sum)
			}
			files := unzip(t, zipped.Bytes())
			checkSums(t, files)
			if !bytes.Equal(files["recordings/rel1.wav"], e.decrypt("rel1")) {
				t.Error("the recording in the package is not the call's recording")
			}
			cover := string(files[protect.PackageCover])
			for _, want := range []string{"Recordings shall remain the property of North Wales Housing and are only to be used for the purposes agreed on release.",
				"PC 1234 Jones", "Gareth Jones, Police Constable", "dan (data protection officer)", rel.LawfulBasis, "recordings/rel1.wav"} {
				if !strings.Contains(cover, want) {
					t.Errorf("the cover page lacks %q:\n%s", want, cover)
				}
			}
			if len(files) != 3 {
				t.Errorf("package holds %d files, want the cover, one recording and SHA256SUMS", len(files))
			}

			recs := auditActions(t, e.st, server.ReleaseTarget(rel.ID))
			if count(recs, server.AuditReleaseRequest) != 1 || count(recs, server.AuditReleaseRefused) != 2 || count(recs, server.AuditReleaseAuthorise) != 1 || count(recs, server.AuditReleasePackage) != 1 {
				t.Errorf("audit of the release: %+v", recs)
			}
			for _, r := range recs {
				if strings.Contains(r.Detail, "1632960123") {
					t.Errorf("the audit holds the whole number: %s", r.Detail)
				}
				if r.Action == server.AuditReleasePackage {
					var det struct {
						SHA   string            `json:"package_sha256"`
						Files map[string]string `json:"files"`
					}
					json.Unmarshal([]byte(r.Detail), &det)
					wav := sha256.Sum256(files["recordings/rel1.wav"])
					if det.SHA != rel.PackageSHA256 || det.Files["recordings/rel1.wav"] != hex.EncodeToString(wav[:]) {
						t.Errorf("the audit's package record %s does not name what was sent", r.Detail)
					}
				}
			}

			// NWH 1.3: the released call moves to the longer category.
			c := e.call("rel1")
			if c.RetentionRule != policy.ReleasedRule || c.DeleteAfter == nil || !c.DeleteAfter.Equal(t0.AddDate(0, 72, 0)) {
				t.Errorf("released call: rule %s, delete after %v; want %s, %v", c.RetentionRule, c.DeleteAfter, policy.ReleasedRule, t0.AddDate(0, 72, 0))
			}
			e.clk.Set(t0.AddDate(0, 0, 91))
			e.expire()
			if c := e.call("rel1"); c.Erased != nil {
				t.Error("the released call was deleted after 90 days")
			}
			if c := e.call("other1"); c.Erased == nil {
				t.Error("the unreleased call of the same day was kept past 90 days")
			}
			verifyAudit(t, e.st)
		})
	}
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = body
	}
	return out
}

// checkSums checks every file of a package against SHA256SUMS, as
// sha256sum -c does, and that it lists every other file.
func checkSums(t *testing.T, files map[string][]byte) {
	t.Helper()
	listed := 0
	for _, line := range strings.Split(strings.TrimSpace(string(files[protect.PackageSums])), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		body, found := files[name]
		got := sha256.Sum256(body)
		if !ok || !found || hex.EncodeToString(got[:]) != sum {
			t.Errorf("SHA256SUMS line %q does not match the package", line)
		}
		listed++
	}
	if listed != len(files)-1 {
		t.Errorf("SHA256SUMS lists %d files of %d", listed, len(files)-1)
	}
}

// TestARequesterCannotAuthoriseTheirOwnRelease: two people, always. The
// Data Protection Officer who entered a request cannot authorise it, and
// the database refuses it too if the service were bypassed.
func TestARequesterCannotAuthoriseTheirOwnRelease(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			e := newReleaseEnv(t, d.url(t))
			ctx := context.Background()
			e.ingest(call{id: "own1", start: t0})
			e.jobRole("dee", "Data Protection Officer")
			e.clk.Set(t0.AddDate(0, 0, 1))
			rel, err := e.svc.RequestRelease(ctx, e.dpo, form("own1"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.AuthoriseRelease(ctx, e.dpo, rel.ID); !errors.Is(err, protect.ErrOwnRequest) {
				t.Fatalf("own request: %v", err)
			}
			if _, err := e.st.AuthoriseRelease(ctx, rel.ID, "dee", "Data Protection Officer"); err == nil {
				t.Fatal("the database let the requester authorise")
			}
			if got, _ := e.st.Release(ctx, rel.ID); got.State != server.ReleaseRequested {
				t.Fatalf("after the refusal: %+v", got)
			}
			if recs := auditActions(t, e.st, server.ReleaseTarget(rel.ID)); count(recs, server.AuditReleaseRefused) != 1 || count(recs, server.AuditReleaseAuthorise) != 0 {
				t.Errorf("audit: %+v", recs)
			}
		})
	}
}

// TestTwoAuthorisersAtOnceAuthoriseOnce: the team leader and the DPO press
// "authorise" at the same moment; one authorisation stands, the other is
// told it was authorised already, and the audit has one record.
func TestTwoAuthorisersAtOnceAuthoriseOnce(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			e := newReleaseEnv(t, d.url(t))
			ctx := context.Background()
			e.ingest(call{id: "race1", start: t0})
			e.jobRole("dee", "Data Protection Officer")
			e.jobRole("dan", "Assistant Director of Communities")
			e.clk.Set(t0.AddDate(0, 0, 1))
			for round := range 5 {
				rel, err := e.svc.RequestRelease(ctx, e.sue, form("race1"))
				if err != nil {
					t.Fatal(err)
				}
				var (
					wg   sync.WaitGroup
					errs [2]error
				)
				start := make(chan struct{})
				for i, p := range []server.Principal{e.dpo, e.dpo2} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = e.svc.AuthoriseRelease(ctx, p, rel.ID)
					}()
				}
				close(start)
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case !errors.Is(err, store.ErrReleaseState):
						t.Errorf("round %d: the losing authoriser got %v, want ErrReleaseState", round, err)
					}
				}
				if ok != 1 {
					t.Fatalf("round %d: %d authorisations succeeded (%v)", round, ok, errs)
				}
				if n := count(auditActions(t, e.st, server.ReleaseTarget(rel.ID)), server.AuditReleaseAuthorise); n != 1 {
					t.Errorf("round %d: %d authorisation records", round, n)
				}
			}
		})
	}
}

// TestReleaseFormsThatAreRefused: each bad form is refused with words the
// person filling it in understands, and nothing is entered.
func TestReleaseFormsThatAreRefused(t *testing.T) {
	e := newReleaseEnv(t, dialects[0].url(t))
	ctx := context.Background()
	e.ingest(call{id: "form1", start: t0})
	e.clk.Set(t0.AddDate(0, 0, 1))
	tomorrow := t0.AddDate(0, 0, 3).Format(time.DateOnly)
	for _, tc := range []struct {
		name   string
		change func(r *server.ReleaseRequest)
		want   string
	}{
		{"an unknown purpose", func(r *server.ReleaseRequest) { r.Purpose = "curiosity" }, `"curiosity" is not a purpose the policy allows`},
		{"no purpose", func(r *server.ReleaseRequest) { r.Purpose = "" }, "the purpose is required"},
		{"a request dated in the future", func(r *server.ReleaseRequest) { r.RequestedOn = tomorrow }, "the date of the request " + tomorrow + " is in the future"},
		{"a call in the future", func(r *server.ReleaseRequest) { r.CallDate = tomorrow }, "the date of the call " + tomorrow + " is in the future"},
		{"a request before the call", func(r *server.ReleaseRequest) { r.RequestedOn = t0.AddDate(0, 0, -1).Format(time.DateOnly) }, "dated before the call"},
		{"a date that is not one", func(r *server.ReleaseRequest) { r.CallDate = "05/01/2026" }, "is not a date (YYYY-MM-DD)"},
		{"a time that is not one", func(r *server.ReleaseRequest) { r.CallTime = "25:00" }, "is not a time"},
		{"a number that is not one", func(r *server.ReleaseRequest) { r.Number = "()" }, "is not a phone number"},
		{"on behalf of nobody", func(r *server.ReleaseRequest) { r.OnBehalf = true }, "on behalf of a third party: say who"},
		{"no recipient", func(r *server.ReleaseRequest) { r.RecipientName = " " }, "the name of the person receiving the recording is required"},
		{"no recipient job title", func(r *server.ReleaseRequest) { r.RecipientTitle = "" }, "job title"},
		{"no requester", func(r *server.ReleaseRequest) { r.Requester = "" }, "the person requesting the recording is required"},
		{"no call", func(r *server.ReleaseRequest) { r.Calls = nil }, "at least one call"},
		{"a call id that is not one", func(r *server.ReleaseRequest) { r.Calls = []string{"../../etc/passwd"} }, "is not a call id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := form("form1")
			tc.change(&r)
			_, err := e.svc.RequestRelease(ctx, e.sue, r)
			if !errors.Is(err, server.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an invalid-input error saying %q", err, tc.want)
			}
		})
	}
	if _, err := e.svc.RequestRelease(ctx, e.sue, form("nosuchcall")); !errors.Is(err, server.ErrNotFound) {
		t.Errorf("an unknown call: %v", err)
	}
	for _, p := range []server.Principal{e.agent, principal(t, e.st, "ian", server.RoleAdmin)} {
		if _, err := e.svc.RequestRelease(ctx, p, form("form1")); !errors.Is(err, server.ErrForbidden) {
			t.Errorf("%s (%s) entered a release: %v", p.Username, p.Role, err)
		}
		if _, err := e.svc.Releases(ctx, p, server.ReleaseFilter{}); !errors.Is(err, server.ErrForbidden) {
			t.Errorf("%s (%s) read the register: %v", p.Username, p.Role, err)
		}
	}
	if rs, _ := e.st.Releases(ctx, server.ReleaseFilter{}); len(rs) != 0 {
		t.Errorf("refused forms were entered: %+v", rs)
	}
}

// TestTheDateOfDisclosureFollowsTheAuthorisation: a package dated before
// its authorisation or in the future is refused and nothing is released.
func TestTheDateOfDisclosureFollowsTheAuthorisation(t *testing.T) {
	e := newReleaseEnv(t, dialects[0].url(t))
	ctx := context.Background()
	e.ingest(call{id: "disc1", start: t0})
	audio, manifest, _ := e.recording("disc1", 1)
	e.upload("disc1", audio, manifest)
	e.jobRole("dee", "Data Protection Officer")
	e.clk.Set(t0.AddDate(0, 0, 5))
	rel, err := e.svc.RequestRelease(ctx, e.sue, form("disc1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthoriseRelease(ctx, e.dpo, rel.ID); err != nil {
		t.Fatal(err)
	}
	for date, want := range map[string]string{
		t0.AddDate(0, 0, 2).Format(time.DateOnly): "before the authorisation",
		t0.AddDate(0, 0, 7).Format(time.DateOnly): "in the future",
		"yesterday": "is not a date",
	} {
		var sink bytes.Buffer
		_, err := e.svc.ReleasePackage(ctx, e.sue, rel.ID, date, &sink)
		if !errors.Is(err, server.ErrInvalid) || !strings.Contains(err.Error(), want) || sink.Len() > 0 {
			t.Errorf("disclosed on %s: %v (%d bytes), want %q", date, err, sink.Len(), want)
		}
	}
	if got, _ := e.st.Release(ctx, rel.ID); got.State != server.ReleaseAuthorised {
		t.Errorf("after refused dates: %s", got.State)
	}
}

// TestAFailingAuditChangesNothingInTheRegister: with the audit log
// unwritable, no request is entered, no authorisation stands, no package
// is sent and no call changes retention.
func TestAFailingAuditChangesNothingInTheRegister(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			e := newReleaseEnv(t, d.url(t))
			ctx := context.Background()
			e.ingest(call{id: "af1", start: t0})
			audio, manifest, _ := e.recording("af1", 1)
			e.upload("af1", audio, manifest)
			e.jobRole("dee", "Data Protection Officer")
			e.clk.Set(t0.AddDate(0, 0, 1))

			mend := breakAudit(t, e.st)
			if _, err := e.svc.RequestRelease(ctx, e.sue, form("af1")); !errors.Is(err, server.ErrAuditFailed) {
				t.Fatalf("request with the audit broken: %v", err)
			}
			if rs, _ := e.st.Releases(ctx, server.ReleaseFilter{}); len(rs) != 0 {
				t.Fatalf("entered without its audit record: %+v", rs)
			}
			mend()
			rel, err := e.svc.RequestRelease(ctx, e.sue, form("af1"))
			if err != nil {
				t.Fatal(err)
			}

			mend = breakAudit(t, e.st)
			if _, err := e.svc.AuthoriseRelease(ctx, e.dpo, rel.ID); !errors.Is(err, server.ErrAuditFailed) {
				t.Fatalf("authorise with the audit broken: %v", err)
			}
			if got, _ := e.st.Release(ctx, rel.ID); got.State != server.ReleaseRequested {
				t.Fatalf("authorised without its audit record: %+v", got)
			}
			mend()
			if _, err := e.svc.AuthoriseRelease(ctx, e.dpo, rel.ID); err != nil {
				t.Fatal(err)
			}

			mend = breakAudit(t, e.st)
			var sink bytes.Buffer
			if _, err := e.svc.ReleasePackage(ctx, e.sue, rel.ID, "", &sink); !errors.Is(err, server.ErrAuditFailed) || sink.Len() > 0 {
				t.Fatalf("package with the audit broken: %v, %d bytes sent", err, sink.Len())
			}
			if got, _ := e.st.Release(ctx, rel.ID); got.State != server.ReleaseAuthorised {
				t.Fatalf("released without its audit record: %+v", got)
			}
			if c := e.call("af1"); c.RetentionRule == policy.ReleasedRule {
				t.Fatal("the call moved to the released category without an audit record")
			}
			var csvOut bytes.Buffer
			if _, err := e.svc.ExportReleases(ctx, e.dpo, server.ReleaseFilter{}, &csvOut); !errors.Is(err, server.ErrAuditFailed) || csvOut.Len() > 0 {
				t.Fatalf("export with the audit broken: %v, %d bytes", err, csvOut.Len())
			}
			mend()
		})
	}
}

// TestTheRegisterIsSearchedAndExported: search by text, number in another
// spelling, purpose, state and date; the CSV has every entry and a
// spreadsheet cannot run a formula typed into the form.
func TestTheRegisterIsSearchedAndExported(t *testing.T) {
	e := newReleaseEnv(t, dialects[0].url(t))
	ctx := context.Background()
	e.ingest(call{id: "s1", start: t0})
	e.ingest(call{id: "s2", start: t0})
	e.clk.Set(t0.AddDate(0, 0, 3))
	a := form("s1")
	b := form("s2")
	b.Purpose, b.Requester, b.Number, b.RequestedOn = "complaint", "=HYPERLINK(\"http://evil\")", "01632 960555", t0.AddDate(0, 0, 2).Format(time.DateOnly)
	for _, r := range []server.ReleaseRequest{a, b} {
		if _, err := e.svc.RequestRelease(ctx, e.sue, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		f    server.ReleaseFilter
		want int
	}{
		{server.ReleaseFilter{}, 2},
		{server.ReleaseFilter{Text: "north wales police"}, 1},
		{server.ReleaseFilter{Text: "s2"}, 1},
		{server.ReleaseFilter{Number: "+441632960123"}, 1},
		{server.ReleaseFilter{Number: "(01632) 960-555"}, 1},
		{server.ReleaseFilter{Purpose: "complaint"}, 1},
		{server.ReleaseFilter{State: server.ReleaseAuthorised}, 0},
		{server.ReleaseFilter{From: b.RequestedOn, To: b.RequestedOn}, 1},
	} {
		rs, err := e.svc.Releases(ctx, e.dpo, tc.f)
		if err != nil || len(rs) != tc.want {
			t.Errorf("%+v: %d entries (%v), want %d", tc.f, len(rs), err, tc.want)
		}
	}
	var out bytes.Buffer
	n, err := e.svc.ExportReleases(ctx, e.dpo, server.ReleaseFilter{}, &out)
	if err != nil || n != 2 {
		t.Fatalf("export: %d, %v", n, err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(protect.ReleaseCSVHeader, ",") {
		t.Fatalf("csv: %v %v", rows, err)
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("a cell a spreadsheet would run: %q", cell)
			}
		}
	}
	if n := count(auditActions(t, e.st, "releases"), server.AuditReleaseExport); n != 1 {
		t.Errorf("%d export records, want 1", n)
	}
}

// breakAudit makes every insert into the audit log fail inside the
// database, as a full disk would; the returned func mends it.
func breakAudit(t *testing.T, st *store.Store) func() {
	t.Helper()
	var create, drop []string
	if st.Dialect() == store.PostgreSQL {
		create = []string{
			`CREATE FUNCTION audit_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_refuse()`,
		}
		drop = []string{`DROP TRIGGER audit_refuse ON audit`, `DROP FUNCTION audit_refuse()`}
	} else {
		create = []string{`CREATE TRIGGER audit_refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`}
		drop = []string{`DROP TRIGGER audit_refuse`}
	}
	for _, q := range create {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		for _, q := range drop {
			if _, err := st.DB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
}
