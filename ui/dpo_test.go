package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/server"
)

func ms(v int64) *int64 { return &v }

// fakeReview is the server as the dpo view sees it: it records what it is
// asked and removes decided items from the queue.
type fakeReview struct {
	mu        sync.Mutex
	queue     server.ReviewQueue
	holds     []server.Hold
	twoPerson bool
	report    server.RetentionReport

	loadErr   error // returned by Review
	decideErr error // returned by Decide
	awaiting  bool  // Decide leaves deletions awaiting approval

	decided  []server.Decision
	approved []bool
	lifts    []string
	loads    int
}

func (f *fakeReview) Review(ctx context.Context, state string) (server.ReviewQueue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	if f.loadErr != nil {
		return server.ReviewQueue{}, f.loadErr
	}
	q := f.queue
	q.Items = append([]server.ReviewItem(nil), f.queue.Items...)
	return q, nil
}

func (f *fakeReview) remove(id string) server.ReviewItem {
	for i, it := range f.queue.Items {
		if it.ID == id {
			f.queue.Items = append(f.queue.Items[:i:i], f.queue.Items[i+1:]...)
			return it
		}
	}
	return server.ReviewItem{}
}

func (f *fakeReview) Decide(ctx context.Context, id string, d server.Decision) (server.ReviewItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decided = append(f.decided, d)
	if f.decideErr != nil {
		return server.ReviewItem{}, f.decideErr
	}
	if f.awaiting && d.Action != server.DecisionKeep {
		for i := range f.queue.Items {
			if f.queue.Items[i].ID == id {
				f.queue.Items[i].State, f.queue.Items[i].Decision, f.queue.Items[i].DecidedBy = server.ReviewAwaitingApproval, d.Action, "dee"
				f.queue.Items[i].Allows = allowsAwaiting
				return f.queue.Items[i], nil
			}
		}
	}
	it := f.remove(id)
	it.State = "done"
	return it, nil
}

func (f *fakeReview) Approve(ctx context.Context, id string, approve bool) (server.ReviewItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.approved = append(f.approved, approve)
	return f.remove(id), nil
}

func (f *fakeReview) Holds(ctx context.Context, all bool) ([]server.Hold, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]server.Hold(nil), f.holds...), f.twoPerson, nil
}

func (f *fakeReview) LiftHold(ctx context.Context, id int64, reason string) (server.Hold, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifts = append(f.lifts, fmt.Sprintf("%d: %s", id, reason))
	for i := range f.holds {
		if f.holds[i].ID == id {
			f.holds[i].LiftRequestedBy, f.holds[i].LiftReason = "dee", reason
			return f.holds[i], !f.twoPerson, nil
		}
	}
	return server.Hold{}, false, errors.New("no such hold")
}

func (f *fakeReview) RetentionReport(ctx context.Context, days int) (server.RetentionReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.report, nil
}

// serverError is an error as uplink returns it for a refused request.
func serverError(status int, msg string) error {
	return &uplink.HTTPError{Status: status, Message: msg}
}

// What the server allows (ReviewItem.Allows) for an open item whose
// recording is on a server with the key, and for a deletion awaiting a
// second dpo (keeping instead is allowed too).
var (
	allowsOpen     = []string{server.DecisionDelete, server.DecisionDeleteInterval, server.DecisionKeep}
	allowsAwaiting = []string{server.DecisionKeep, server.ReviewApprove}
)

func queueItems() []server.ReviewItem {
	stored := now.Add(-time.Hour)
	return []server.ReviewItem{
		{ID: "f1", Kind: "flag", CallID: "c1", Officer: "olive", Reason: "health", Label: "Health details were recorded",
			Note: "caller described her treatment", FromMS: ms(12000), ToMS: ms(47500), At: now.Add(-50 * time.Minute), State: server.ReviewOpen,
			Started: now.Add(-time.Hour), Direction: "inbound", Remote: "+441632960555", Recording: "stored",
			RetentionRule: "health-flagged", DeleteAfter: &stored, Allows: allowsOpen},
		{ID: "declined:c2", Kind: "declined", CallID: "c2", Officer: "olive", Reason: "declined", Label: "Caller declined recording",
			Note: "the caller objected to being recorded", At: now.Add(-20 * time.Minute), State: server.ReviewOpen,
			Started: now.Add(-21 * time.Minute), Direction: "outbound", Remote: "+441632960777", Recording: "stored", RetentionRule: "declined", Allows: allowsOpen},
		{ID: "f3", Kind: "flag", CallID: "c3", Officer: "pat", Reason: "other", Label: "Other sensitive details",
			At: now.Add(-10 * time.Minute), State: server.ReviewAwaitingApproval, Decision: server.DecisionDelete, DecidedBy: "dan",
			Started: now.Add(-11 * time.Minute), Direction: "inbound", Remote: "+441632960888", Recording: "stored", Allows: allowsAwaiting},
		{ID: "f4", Kind: "flag", CallID: "c4", Officer: "pat", Reason: "card", Label: "Card details were recorded",
			FromMS: ms(1000), ToMS: ms(9000), At: now.Add(-5 * time.Minute), State: server.ReviewAutoRedacted,
			Started: now.Add(-6 * time.Minute), Direction: "inbound", Remote: "+441632960999", Recording: "stored",
			Allows: []string{server.DecisionDelete, server.DecisionDeleteInterval, server.DecisionConfirm}},
	}
}

func newFake() *fakeReview {
	review := now.Add(72 * time.Hour)
	return &fakeReview{
		queue:     server.ReviewQueue{Items: queueItems(), ServerHasKey: true},
		twoPerson: true,
		holds: []server.Hold{{ID: 7, Number: "+441632960123", Reason: "complaint", Owner: "Complaints team", ReviewAt: &review,
			Note: "C-2026-031", Calls: 3}},
		report: server.RetentionReport{Now: now, Until: now.Add(7 * 24 * time.Hour), DueCount: 1,
			Due: []server.DueCall{{CallID: "c2", Agent: "olive", Started: now.Add(-21 * time.Minute), DeleteAfter: now.Add(7 * 24 * time.Hour), Rule: "declined", Recording: "stored"}}},
	}
}

// openReview shows a loaded view of f in a test window.
func openReview(t *testing.T, f *fakeReview) (*Review, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	r := NewReview(f)
	t.Cleanup(r.Stop)
	w := test.NewTempWindow(t, r.Content())
	w.Resize(fyne.NewSize(1040, 640))
	r.Refresh()
	r.Wait()
	return r, w
}

// texts is every label's and button's text under o.
func texts(o fyne.CanvasObject) string {
	var all []string
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			if x.Visible() {
				all = append(all, x.Text)
			}
		case *widget.Button:
			all = append(all, x.Text)
		}
	})
	return strings.Join(all, "\n")
}

func rowText(l *widget.List, id int) string {
	o := l.CreateItem()
	l.UpdateItem(id, o)
	return texts(o)
}

func TestReviewShowsTheQueueAndTheHolds(t *testing.T) {
	r, w := openReview(t, newFake())
	if got := r.list.Length(); got != 4 {
		t.Fatalf("the list has %d items, want 4", got)
	}
	if !strings.HasPrefix(r.queueSummary.Text, "3 waiting for a decision · 1 waiting for a second officer's approval") {
		t.Errorf("summary %q", r.queueSummary.Text)
	}
	for id, want := range []string{
		"Health details were recorded — waiting for a decision\nolive · ",
		"Caller declined recording — waiting for a decision",
		"Other sensitive details — waiting for a second officer's approval",
		"Card details were recorded — card details silenced: confirm",
	} {
		if got := rowText(r.list, id); !strings.Contains(got, want) {
			t.Errorf("row %d reads %q, want %q in it", id, got, want)
		}
	}
	if got := rowText(r.list, 1); !strings.Contains(got, "olive · outbound +441632960777") {
		t.Errorf("the declined call's row %q does not say the call", got)
	}
	// The rows are drawn in the window, not only in the list's data.
	if on := texts(w.Canvas().Content()); !strings.Contains(on, "Health details were recorded") || !strings.Contains(on, "Caller declined recording") {
		t.Errorf("the window does not show the queue:\n%s", on)
	}

	r.list.Select(0)
	for name, want := range map[string]string{
		"Reason": "Health details were recorded", "Officer's note": "caller described her treatment", "Raised": "flagged by olive, " + when(now.Add(-50*time.Minute)),
		"Interval": "12 s to 47.5 s", "Recording": "on the server", "State": "waiting for a decision",
		"Call": "inbound call from +441632960555 at " + when(now.Add(-time.Hour)),
	} {
		if got := r.facts[name].Text; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if r.from.Text != "12" || r.to.Text != "47.5" {
		t.Errorf("the interval entries hold %q and %q, want the officer's 12 and 47.5", r.from.Text, r.to.Text)
	}
	if !r.decideBox.Visible() || !r.keepBox.Visible() || r.approveBox.Visible() || r.confirmBtn.Visible() {
		t.Error("an open item does not offer delete and keep (and only those)")
	}
	r.list.Select(1)
	if r.facts["Interval"].Text != "none marked" || r.from.Text != "" || !strings.HasPrefix(r.facts["Raised"].Text, "the caller declined on olive's call") {
		t.Errorf("declined item: interval %q, from %q, raised %q", r.facts["Interval"].Text, r.from.Text, r.facts["Raised"].Text)
	}
	r.list.Select(2)
	if !r.approveBox.Visible() || !strings.HasPrefix(r.approveText.Text, "dan decided to delete the whole recording") {
		t.Errorf("an item awaiting approval: approval shown %v, %q", r.approveBox.Visible(), r.approveText.Text)
	}
	if !r.keepBox.Visible() || !r.deleteBtn.Disabled() || !r.intervalBtn.Disabled() {
		t.Error("an item awaiting approval offers what the server allows: keeping instead, and no second deletion")
	}
	r.list.Select(3)
	if !r.confirmBtn.Visible() || r.keepBox.Visible() {
		t.Error("card details silenced at once must be confirmed, and cannot be kept")
	}

	if got := r.holdList.Length(); got != 1 {
		t.Fatalf("%d holds, want 1", got)
	}
	if got := rowText(r.holdList, 0); !strings.Contains(got, "#7 complaint — number +441632960123") ||
		!strings.Contains(got, "owner Complaints team") || !strings.Contains(got, "(due)") || !strings.Contains(got, "covers 3 call(s)") {
		t.Errorf("hold row %q", got)
	}
	if !strings.Contains(r.dueSummary.Text, "in the next 7 days: 1.") {
		t.Errorf("due summary %q", r.dueSummary.Text)
	}
	cell := r.dueTable.CreateCell()
	r.fillDue(widget.TableCellID{Row: 0, Col: 4}, cell)
	if got := cell.(*widget.Label).Text; got != "declined" {
		t.Errorf("due call's rule %q", got)
	}
}

func TestReviewDecisionsReachTheBackend(t *testing.T) {
	cases := []struct {
		name     string
		item     int
		act      func(r *Review)
		confirm  bool // the view asks before sending
		decided  []server.Decision
		approved []bool
		problem  string
		info     string
	}{
		{name: "keep sends the dpo's reason", item: 0,
			act:     func(r *Review) { test.Type(r.note, "treatment named, no detail"); test.Tap(r.keepBtn) },
			decided: []server.Decision{{Action: server.DecisionKeep, Note: "treatment named, no detail"}}, info: "Kept: the inbound call from +441632960555"},
		{name: "keep without a reason asks for one", item: 0,
			act:     func(r *Review) { test.Tap(r.keepBtn) },
			problem: "Give a reason for keeping the recording"},
		{name: "deleting the whole recording asks first", item: 1, confirm: true,
			act:     func(r *Review) { test.Tap(r.deleteBtn) },
			decided: []server.Decision{{Action: server.DecisionDelete}}, info: "Deleted the recording of the outbound call to +441632960777"},
		{name: "silencing takes the interval as typed", item: 0, confirm: true,
			act: func(r *Review) {
				r.from.SetText("1:05")
				r.to.SetText("70.25")
				test.Tap(r.intervalBtn)
			},
			decided: []server.Decision{{Action: server.DecisionDeleteInterval, FromMS: ms(65000), ToMS: ms(70250)}}, info: "Silenced 65 s to 70.25 s"},
		{name: "silencing the officer's interval as marked", item: 0, confirm: true,
			act:     func(r *Review) { test.Tap(r.intervalBtn) },
			decided: []server.Decision{{Action: server.DecisionDeleteInterval, FromMS: ms(12000), ToMS: ms(47500)}}},
		{name: "a backwards interval is refused", item: 0,
			act: func(r *Review) {
				r.from.SetText("30")
				r.to.SetText("10")
				test.Tap(r.intervalBtn)
			},
			problem: "The interval must end after it starts."},
		{name: "an interval in words is refused", item: 1,
			act:     func(r *Review) { r.from.SetText("soon"); r.to.SetText("10"); test.Tap(r.intervalBtn) },
			problem: "The start of the interval: \"soon\" is not a number of seconds"},
		{name: "approving another officer's deletion asks first", item: 2, confirm: true,
			act:      func(r *Review) { test.Tap(r.approveBtn) },
			approved: []bool{true}, info: "Approved and carried out."},
		{name: "rejecting sends the item back", item: 2,
			act:      func(r *Review) { test.Tap(r.rejectBtn) },
			approved: []bool{false}, info: "Rejected"},
		{name: "an automatic card redaction is confirmed", item: 3,
			act:     func(r *Review) { test.Tap(r.confirmBtn) },
			decided: []server.Decision{{Action: server.DecisionConfirm}}, info: "Redaction confirmed."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			r, _ := openReview(t, f)
			r.list.Select(c.item)
			c.act(r)
			if c.confirm {
				if !r.askBox.Visible() || len(f.decided)+len(f.approved) != 0 {
					t.Fatal("sent without asking first")
				}
				test.Tap(r.askYes)
			}
			r.Wait()
			if !reflect.DeepEqual(f.decided, c.decided) || !reflect.DeepEqual(f.approved, c.approved) {
				t.Fatalf("decided %+v, approved %v; want %+v, %v", f.decided, f.approved, c.decided, c.approved)
			}
			if c.problem != "" && (!r.problem.Visible() || !strings.HasPrefix(r.problem.Text, c.problem)) {
				t.Errorf("problem %q (shown %v), want %q", r.problem.Text, r.problem.Visible(), c.problem)
			}
			if c.problem == "" && r.problem.Visible() {
				t.Errorf("unexpected problem %q", r.problem.Text)
			}
			if c.info != "" && !strings.HasPrefix(r.info.Text, c.info) {
				t.Errorf("outcome %q, want %q", r.info.Text, c.info)
			}
			if len(c.decided)+len(c.approved) > 0 && r.list.Length() != 3 {
				t.Errorf("after the decision the queue shows %d items, want 3", r.list.Length())
			}
		})
	}
}

// TestReviewOffersWhatTheServerAllows: the buttons follow the item's
// Allows, whatever its state: the view never works out the server's rules.
func TestReviewOffersWhatTheServerAllows(t *testing.T) {
	cases := []struct {
		name                       string
		allows                     []string
		decide, del, silence, keep bool
		confirm, approve           bool
	}{
		{name: "everything a dpo may do with an open item", allows: allowsOpen, decide: true, del: true, silence: true, keep: true},
		{name: "an open item the server only lets keep", allows: []string{server.DecisionKeep}, decide: true, keep: true},
		{name: "an open item the server lets do nothing with", allows: nil},
		{name: "deleting without silencing", allows: []string{server.DecisionDelete}, decide: true, del: true},
		{name: "confirming only", allows: []string{server.DecisionConfirm}, decide: true, confirm: true},
		{name: "approving only", allows: []string{server.ReviewApprove}, approve: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			f.queue.Items[0].Allows = c.allows // f1 is open, its recording stored
			r, _ := openReview(t, f)
			r.list.Select(0)
			got := []bool{r.decideBox.Visible(), !r.deleteBtn.Disabled(), !r.intervalBtn.Disabled(), r.keepBox.Visible(), r.confirmBtn.Visible(), r.approveBox.Visible()}
			want := []bool{c.decide, c.del, c.silence, c.keep, c.confirm, c.approve}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decide, delete, silence, keep, confirm, approve: %v, want %v", got, want)
			}
		})
	}
}

func TestReviewCancelAsksNothing(t *testing.T) {
	f := newFake()
	r, _ := openReview(t, f)
	r.list.Select(0)
	test.Tap(r.deleteBtn)
	test.Tap(findButton(t, r.askBox, "Cancel"))
	r.Wait()
	if r.askBox.Visible() || len(f.decided) != 0 {
		t.Fatalf("cancel: asked %v, decided %+v", r.askBox.Visible(), f.decided)
	}
}

func TestReviewWaitingForASecondOfficer(t *testing.T) {
	f := newFake()
	f.awaiting = true
	r, _ := openReview(t, f)
	r.list.Select(0)
	test.Tap(r.deleteBtn)
	test.Tap(r.askYes)
	r.Wait()
	if !strings.HasPrefix(r.info.Text, "Decision recorded: a second data-protection officer must approve it") {
		t.Errorf("outcome %q", r.info.Text)
	}
	if r.current != "f1" || !r.approveBox.Visible() {
		t.Error("the decided item is not shown waiting for approval")
	}
}

func TestReviewShowsTheServersRefusalInPlainWords(t *testing.T) {
	f := newFake()
	r, _ := openReview(t, f)
	f.decideErr = serverError(409, "review item f1 is done, not open")
	r.list.Select(0)
	r.note.SetText("fine")
	test.Tap(r.keepBtn)
	r.Wait()
	want := "Could not keep the recording: the server's records have moved on: another officer acted on it, a second officer must act, " +
		"or the recording is not on the server yet (the server said: review item f1 is done, not open)"
	if !r.problem.Visible() || r.problem.Text != want {
		t.Fatalf("problem %q (shown %v)\nwant %q", r.problem.Text, r.problem.Visible(), want)
	}
	if r.info.Visible() {
		t.Errorf("a failure shown as done: %q", r.info.Text)
	}

	// A server that cannot be reached is said so, and the words go once it answers.
	f.mu.Lock()
	f.loadErr = &url.Error{Op: "Get", URL: "https://callguard.example.org/api/v1/review", Err: errors.New("connection refused")}
	f.mu.Unlock()
	r.Refresh()
	r.Wait()
	if want := "Could not load the review queue: the server cannot be reached (connection refused)"; r.loadProblem.Text != want || !r.loadProblem.Visible() {
		t.Fatalf("load problem %q, want %q", r.loadProblem.Text, want)
	}
	if r.list.Length() != 4 {
		t.Errorf("a failed reload emptied the queue: %d items", r.list.Length())
	}
	f.mu.Lock()
	f.loadErr = nil
	f.mu.Unlock()
	r.Refresh()
	r.Wait()
	if r.loadProblem.Visible() {
		t.Errorf("still shows %q after the server answered", r.loadProblem.Text)
	}
}

func TestExplainServer(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("decide: %w", serverError(403, "dpo only")), "this account may not do that; only data-protection officers may (the server said: dpo only)"},
		{serverError(503, "no identity"), "the server has no organisation key, so it cannot play or silence recordings (IT starts it with --identity) (the server said: no identity)"},
		{fmt.Errorf("decide: %w", serverError(400, "keeping a flagged recording needs a reason (note): invalid")), "keeping a flagged recording needs a reason (note): invalid"},
		{fmt.Errorf("lift hold 3: %w", errors.New("disk full")), "disk full"},
		{fmt.Errorf("load: %w", context.DeadlineExceeded), "the server did not answer in time; try again"},
	}
	for _, c := range cases {
		if got := explainServer(c.err); got != c.want {
			t.Errorf("%v:\n got %q\nwant %q", c.err, got, c.want)
		}
	}
}

func TestLiftingAHoldNeedsAReason(t *testing.T) {
	for _, twoPerson := range []bool{true, false} {
		t.Run(fmt.Sprintf("two-person %v", twoPerson), func(t *testing.T) {
			f := newFake()
			f.twoPerson = twoPerson
			r, _ := openReview(t, f)
			r.tabs.SelectIndex(1)
			r.holdList.Select(0)
			if !r.liftBox.Visible() {
				t.Fatal("choosing a hold offers no lift")
			}
			wantBtn := map[bool]string{true: "Ask to lift the hold", false: "Lift the hold"}[twoPerson]
			if r.liftBtn.Text != wantBtn {
				t.Errorf("button %q, want %q", r.liftBtn.Text, wantBtn)
			}
			test.Tap(r.liftBtn)
			r.Wait()
			if len(f.lifts) != 0 || !strings.HasPrefix(r.problem.Text, "Give a reason for lifting the hold") {
				t.Fatalf("lifted without a reason: %v, problem %q", f.lifts, r.problem.Text)
			}
			test.Type(r.liftReason, "complaint closed")
			test.Tap(r.liftBtn)
			r.Wait()
			if !reflect.DeepEqual(f.lifts, []string{"7: complaint closed"}) {
				t.Fatalf("lifts %v", f.lifts)
			}
			want := map[bool]string{true: "Asked to lift hold #7: a second data-protection officer must lift it.", false: "Hold #7 lifted."}[twoPerson]
			if r.problem.Visible() || !strings.HasPrefix(r.info.Text, want) {
				t.Errorf("problem %q, outcome %q; want %q", r.problem.Text, r.info.Text, want)
			}
			if got := rowText(r.holdList, 0); !strings.Contains(got, "lift asked by dee: complaint closed") {
				t.Errorf("the hold's row after the request %q", got)
			}
		})
	}
}

func TestParseSeconds(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "75": 75000, " 75.5 ": 75500, "1:15": 75000, "1:15.25": 75250, "10:00": 600000} {
		if got, err := parseSeconds(in); err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-3", "ten", "1:75", "a:10", "NaN", "Inf"} {
		if got, err := parseSeconds(in); err == nil {
			t.Errorf("%q read as %d", in, got)
		}
	}
}

func TestReviewStopEndsTheRefresh(t *testing.T) {
	f := newFake()
	test.NewTempApp(t)
	r := NewReview(f)
	r.Start()
	r.Stop()
	f.mu.Lock()
	before := f.loads
	f.mu.Unlock()
	r.Refresh()
	r.Wait()
	if f.loads != before {
		t.Errorf("a stopped view still asks the server")
	}
}
