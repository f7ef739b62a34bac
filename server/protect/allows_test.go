package protect_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/callguard/callguard/server"
)

// TestAllowsIsWhatDecideAccepts: for review items in every state a dpo
// meets (open with and without the recording on the server, card details
// waiting, redacted at once, a deletion awaiting approval, a server
// without the key), each action is in Allows exactly when Decide (or,
// for approve, Approve by a second dpo) accepts it. Each action is tried
// on an item of its own, so one decision never changes another's answer.
func TestAllowsIsWhatDecideAccepts(t *testing.T) {
	decisions := map[string]server.Decision{
		server.DecisionDelete:         {Action: server.DecisionDelete},
		server.DecisionDeleteInterval: {Action: server.DecisionDeleteInterval, FromMS: ms(1000), ToMS: ms(2000)},
		server.DecisionKeep:           {Action: server.DecisionKeep, Note: "kept for the complaint"},
		server.DecisionConfirm:        {Action: server.DecisionConfirm},
	}
	actions := []string{server.DecisionDelete, server.DecisionDeleteInterval, server.DecisionKeep, server.DecisionConfirm, server.ReviewApprove}
	type scenario struct {
		name     string
		noKey    bool
		flag     flag
		upload   bool
		work     bool // let the worker redact card details first
		decide   bool // a dpo decided to delete it under the two-person rule
		wantSome []string
	}
	scenarios := []scenario{
		{name: "open, recording on the server", flag: flag{reason: "health", from: 1000, to: 3000}, upload: true,
			wantSome: []string{server.DecisionDelete, server.DecisionDeleteInterval, server.DecisionKeep}},
		{name: "open, recording not uploaded", flag: flag{reason: "health", from: 1000, to: 3000},
			wantSome: []string{server.DecisionKeep}},
		{name: "open, server without the key", noKey: true, flag: flag{reason: "health", from: 1000, to: 3000}, upload: true,
			wantSome: []string{server.DecisionDelete, server.DecisionKeep}},
		{name: "card details waiting for the recording", flag: flag{reason: "card", from: 1000, to: 2000}, work: true},
		{name: "card details waiting for the key", noKey: true, flag: flag{reason: "card", from: 1000, to: 2000}, upload: true, work: true,
			wantSome: []string{server.DecisionDelete}},
		{name: "card details redacted at once", flag: flag{reason: "card", from: 1000, to: 2000}, upload: true, work: true,
			wantSome: []string{server.DecisionDelete, server.DecisionDeleteInterval, server.DecisionConfirm}},
		{name: "a deletion awaiting approval", flag: flag{reason: "health", from: 1000, to: 3000}, upload: true, decide: true,
			wantSome: []string{server.DecisionKeep, server.ReviewApprove}},
		{name: "card details not yet silenced, a deletion awaiting approval", noKey: true, flag: flag{reason: "card", from: 1000, to: 2000},
			upload: true, work: true, decide: true, wantSome: []string{server.ReviewApprove}},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d.url(t), nil)
			withKey, noKey := e.svc, e.service(withoutKey())
			n := 0
			for _, sc := range scenarios {
				e.svc = withKey
				if sc.noKey {
					e.svc = noKey
				}
				e.pol.Review.TwoPersonDeletion = sc.decide
				for _, action := range actions {
					n++
					id := fmt.Sprintf("allows%d", n)
					e.ingest(call{id: id, start: t0, flags: []flag{sc.flag}})
					if sc.upload {
						audio, manifest, _ := e.recording(id, 3)
						e.upload(id, audio, manifest)
					}
					if sc.work {
						if _, err := e.svc.Work(ctx); err != nil {
							t.Fatal(err)
						}
					}
					item := e.call(id).Flags[0].EventID
					if sc.decide {
						if _, err := e.svc.Decide(ctx, e.dpo, item, server.Decision{Action: server.DecisionDelete}); err != nil {
							t.Fatalf("%s: the first dpo's decision: %v", sc.name, err)
						}
					}
					it, err := e.st.ReviewItem(ctx, item)
					if err != nil {
						t.Fatal(err)
					}
					allows := e.svc.Allows(it)
					if action == actions[0] && !slices.Equal(allows, sc.wantSome) {
						t.Errorf("%s (%s): allows %v, want %v", sc.name, it.State, allows, sc.wantSome)
					}
					if action == server.ReviewApprove {
						_, err = e.svc.Approve(ctx, e.dpo2, item, true)
					} else {
						_, err = e.svc.Decide(ctx, e.dpo2, item, decisions[action])
					}
					if offered := slices.Contains(allows, action); offered != (err == nil) {
						t.Errorf("%s (%s): %s offered %v, but the server answered %v", sc.name, it.State, action, offered, err)
					}
				}
			}
		})
	}
}

func ms(v int64) *int64 { return &v }
