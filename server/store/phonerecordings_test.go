package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/auth"
	"github.com/callguard/callguard/server/store"
)

// collectorDevice creates a collector's account with one device.
func collectorDevice(t *testing.T, s *store.Store, name string) server.Principal {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, name, server.RoleCollector, "", false)
	if err != nil {
		t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	if err := s.CreateDevice(ctx, auth.NewID(), u.ID, name+"-box", hash); err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, auth.HashToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCollectorsRaceToClaimACall: of collectors (each its own account)
// that claim one call at once, exactly one gets it, the others
// server.ErrConflict, round after round.
func TestCollectorsRaceToClaimACall(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		olive := agentDevice(t, s, "olive")
		cols := make([]server.Principal, 8)
		for i := range cols {
			cols[i] = collectorDevice(t, s, fmt.Sprintf("col%d", i))
		}
		for round := range 30 {
			id, err := s.AddPhoneRecording(ctx, olive, fmt.Sprintf("r%d", round), store.PhoneRecordingRow{SIPCallID: fmt.Sprintf("r%d@pbx", round)})
			if err != nil {
				t.Fatal(err)
			}
			var (
				wg             sync.WaitGroup
				mu             sync.Mutex
				won, conflicts int
				start          = make(chan struct{})
			)
			for _, p := range cols {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := s.ClaimPhoneRecording(ctx, p, id)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won++
					case errors.Is(err, server.ErrConflict):
						conflicts++
					default:
						t.Error(err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if won != 1 || conflicts != len(cols)-1 {
				t.Fatalf("round %d: %d won, %d refused", round, won, conflicts)
			}
		}
	})
}

// TestDeletingACallDeletesItsPhoneRecording: once a call's deletion has
// begun its phone recording reads "deleted" and takes no upload; once done,
// nothing is left to find by its SIP Call-ID.
func TestDeletingACallDeletesItsPhoneRecording(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		olive, col := agentDevice(t, s, "olive"), collectorDevice(t, s, "col")
		if _, err := s.Ingest(ctx, olive, callEvents("pc1", 1, clk.Now(), "+441632960001")); err != nil {
			t.Fatal(err)
		}
		id, err := s.AddPhoneRecording(ctx, olive, "pc1", store.PhoneRecordingRow{SIPCallID: "del@pbx", OfficerAddrs: []string{"127.0.0.1:1"}})
		if err != nil || id != "pc1" {
			t.Fatalf("phone recording %q %v", id, err)
		}
		if _, err := s.ClaimPhoneRecording(ctx, col, id); err != nil {
			t.Fatal(err)
		}
		begun, err := s.BeginDeletions(ctx, []store.Candidate{{CallID: id, Started: clk.Now(), Rule: "default", Recording: "uploading"}},
			server.CauseRetention, "", "retention", nil)
		if err != nil || len(begun) != 1 {
			t.Fatalf("begin: %v %v", begun, err)
		}
		pr, err := s.LookUpPhoneRecording(ctx, col, "del@pbx")
		if err != nil || pr.Recording != "deleted" || pr.Upload {
			t.Fatalf("lookup while it is deleted: %+v %v", pr, err)
		}
		if _, err := s.ClaimPhoneRecording(ctx, col, id); !errors.Is(err, server.ErrGone) {
			t.Fatalf("claim while it is deleted: %v", err)
		}
		if done, err := s.FinishDeletions(ctx, begun); err != nil || len(done) != 1 {
			t.Fatalf("finish: %v %v", done, err)
		}
		if _, err := s.LookUpPhoneRecording(ctx, col, "del@pbx"); !errors.Is(err, server.ErrNotFound) {
			t.Fatalf("lookup once deleted: %v, want not found", err)
		}
		if _, err := s.ClaimPhoneRecording(ctx, col, id); err == nil {
			t.Fatal("a deleted call took a collector's upload")
		}
	})
}
