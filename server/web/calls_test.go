package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
)

var day = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestCallsFindANumberTypedAnyWay(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: day, pause: true, flag: "health"})
	olive.call(callSpec{id: "c2", remote: "07700 900123", start: day.Add(time.Hour)})
	olive.call(callSpec{id: "c3", remote: "+441632960555", start: day.Add(2 * time.Hour)})
	r.user("dee", server.RoleDPO)
	b := r.browser()
	b.signIn("dee")
	for _, typed := range []string{"07700 900123", "+44 7700 900123", "0044 7700 900123", "(07700) 900-123", "+44 (0)7700 900123"} {
		resp, body := b.do("GET", "/calls?number="+url.QueryEscape(typed), nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: %s", typed, resp.Status)
		}
		if !strings.Contains(body, "Calls with +447700900123: 2 calls") || !strings.Contains(body, `href="/calls/c1"`) || !strings.Contains(body, `href="/calls/c2"`) || strings.Contains(body, `href="/calls/c3"`) {
			t.Errorf("%q found the wrong calls:\n%s", typed, body)
		}
	}
	resp, body := b.do("GET", "/calls?number="+url.QueryEscape("(01632) 960555"), nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/calls/c3"`) || !strings.Contains(body, "1 call on this page") {
		t.Errorf("(01632) 960555: %s\n%s", resp.Status, body)
	}
	// The columns of c1: its pause, its flag.
	if !strings.Contains(body, "none") {
		t.Errorf("c3 shows no pause: %s", body)
	}
	_, body = b.do("GET", "/calls?number=07700900123", nil, nil)
	for _, want := range []string{"1 (1 min 00 s)", "Flagged: ", "1 min 55 s"} {
		if !strings.Contains(body, want) {
			t.Errorf("results lack %q", want)
		}
	}
	// Each search was audited under the number's keyed hash; no record
	// holds the whole number.
	recs := r.audit(server.AuditCallsSearch)
	if len(recs) != 7 {
		t.Fatalf("%d search records, want 7", len(recs))
	}
	target := recs[0].Target
	for _, rec := range recs {
		if rec.Actor != "dee" || !strings.HasPrefix(rec.Target, "number:") || strings.Contains(rec.Detail, "7700900123") || strings.Contains(rec.Detail, "1632960555") {
			t.Errorf("search record %+v", rec)
		}
	}
	if recs[1].Target != target && recs[2].Target != target {
		t.Errorf("the same number typed differently audited under different targets: %s, %s", recs[1].Target, recs[2].Target)
	}
}

func TestCallsSayWhatIsWrongWithTheSearch(t *testing.T) {
	r := newRig(t, "", nil)
	r.user("dee", server.RoleDPO)
	b := r.browser()
	b.signIn("dee")
	for _, tc := range []struct{ query, says string }{
		{"number=07700+9OO123", "is not a phone number: it has 'O'"},
		{"number=1001", "start a UK number with its 0"},
		{"number=0770090", "UK numbers have 9 or 10"},
		{"from=2026-03-05&to=2026-03-01", "the start (2026-03-05) is after the end (2026-03-01)"},
		{"from=5+March", "is not a date"},
		{"direction=sideways", "Direction: choose"},
		{"flag=nonsense", "Flag: choose one of the reasons"},
		{"category=nonsense", "Category: choose one"},
		{"recording=maybe", "Recording: choose"},
		{"team=nobody", "Team: choose one of the teams"},
		{"after=garbage", "This page link is damaged"},
	} {
		resp, body := b.do("GET", "/calls?"+tc.query, nil, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.says) || !strings.Contains(body, `role="alert"`) {
			t.Errorf("%s: %s, want 400 saying %q\n%s", tc.query, resp.Status, tc.says, body)
		}
		if strings.Contains(body, "invalid input") || strings.Contains(body, "goroutine") {
			t.Errorf("%s: the page shows the program's words", tc.query)
		}
	}
	if n := len(r.audit(server.AuditCallsSearch)); n != 0 {
		t.Errorf("%d searches audited for refused input, want none (nothing was read)", n)
	}
}

func TestCallsOfOtherTeamsAreNotShownToASupervisor(t *testing.T) {
	r := newRig(t, "", nil)
	olive, oscar := r.desktop("olive"), r.desktop("oscar")
	olive.call(callSpec{id: "c1", remote: "+447700900123", start: day})
	oscar.call(callSpec{id: "c2", remote: "+447700900123", start: day})
	r.user("sue", server.RoleSupervisor)
	ctx := context.Background()
	st := r.srv.Store()
	st.CreateTeam(ctx, "north")
	st.CreateTeam(ctx, "south")
	st.AddTeamMember(ctx, "north", "sue")
	st.AddTeamMember(ctx, "north", "olive")
	st.AddTeamMember(ctx, "south", "oscar")
	b := r.browser()
	b.signIn("sue")
	_, body := b.do("GET", "/calls?number=07700900123", nil, nil)
	if !strings.Contains(body, `href="/calls/c1"`) || strings.Contains(body, `href="/calls/c2"`) {
		t.Errorf("sue's search shows another team's call (or not her own team's):\n%s", body)
	}
	_, body = b.do("GET", "/calls?team=south", nil, nil)
	if strings.Contains(body, `href="/calls/c2"`) {
		t.Errorf("sue filtered by another team sees its calls")
	}
}

func TestCallsPagesAndExport(t *testing.T) {
	r := newRig(t, "", nil)
	olive := r.desktop("olive")
	for i := range 120 {
		dir := i%3 == 0
		olive.call(callSpec{id: fmt.Sprintf("c%03d", i), remote: "+441632960555", start: day.Add(time.Duration(i) * time.Minute), outbound: dir})
	}
	r.user("dee", server.RoleDPO)
	b := r.browser()
	b.signIn("dee")
	seen := map[string]bool{}
	next := "/calls?number=01632960555"
	pages := 0
	for next != "" && pages < 5 {
		pages++
		resp, body := b.do("GET", next, nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", next, resp.Status)
		}
		for _, m := range strings.Split(body, `href="/calls/c`)[1:] {
			id := "c" + m[:3]
			if seen[id] {
				t.Errorf("%s shown twice", id)
			}
			seen[id] = true
		}
		next = ""
		if i := strings.Index(body, `<a href="/calls?`); i >= 0 {
			for _, part := range strings.Split(body[i:], "<a href=\"")[1:] {
				href, rest, _ := strings.Cut(part, "\"")
				if strings.Contains(rest, `rel="next"`) {
					next = strings.ReplaceAll(href, "&amp;", "&")
				}
			}
		}
	}
	if pages != 3 || len(seen) != 120 {
		t.Fatalf("%d pages, %d calls, want 3 pages with all 120", pages, len(seen))
	}
	resp, body := b.do("GET", "/calls/export.csv?number=01632960555&direction=outbound", nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("export: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 41 || rows[0][0] != "call" {
		t.Fatalf("export: %d rows, %v", len(rows), err)
	}
	for _, row := range rows[1:] {
		if row[3] != "outbound" || row[4] != "'+441632960555" {
			t.Errorf("export row %v", row)
		}
	}
	recs := r.audit(server.AuditCallsExport)
	if len(recs) != 1 || !strings.Contains(recs[0].Detail, `"results":40`) {
		t.Errorf("export audit: %+v", recs)
	}
}
