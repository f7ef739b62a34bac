package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/store"
)

// rewriteAudit is what someone who holds the database (but not the signing
// key) does to hide record seq: drop the append-only triggers, delete the
// record, renumber and rehash the rest of the chain, and delete every
// checkpoint that would give it away.
func rewriteAudit(t *testing.T, s *store.Store, seq int64) {
	t.Helper()
	ctx := context.Background()
	dropAuditTriggers(t, s)
	exec := func(q string, args ...any) {
		t.Helper()
		if s.Dialect() == store.PostgreSQL {
			for i := 1; strings.Contains(q, "?"); i++ {
				q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
			}
		}
		if _, err := s.DB().ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.AuditLog(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	exec(`DELETE FROM audit WHERE seq >= ?`, seq)
	prev := recs[seq-2].Hash
	for _, r := range recs[seq:] {
		r.Seq--
		r.PrevHash = prev
		r.Hash = store.AuditHash(prev, r)
		exec(`INSERT INTO audit (seq, at, actor, device_id, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Seq, r.At.UnixMilli(), r.Actor, r.Device, r.Action, r.Target, r.Detail, r.PrevHash, r.Hash)
		prev = r.Hash
	}
	exec(`DELETE FROM audit_checkpoints`)
}

// TestARewrittenAuditLogFailsVerify: the rewrite a database holder can do
// without the signing key verified before; now it fails, on its own (a
// log with records and no checkpoint is not trusted) and against the
// checkpoints exported where the server cannot rewrite them.
func TestARewrittenAuditLogFailsVerify(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	trusted := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		s.SetAuditKey(key, 5)
		for i := range 23 {
			clk.Add(time.Second)
			if err := s.Audit(ctx, server.AuditRecord{Actor: "sue", Action: server.AuditCallRead, Target: fmt.Sprint("call-", i)}); err != nil {
				t.Fatal(err)
			}
		}
		exported, err := s.Checkpoints(ctx)
		if err != nil || len(exported) != 4 {
			t.Fatalf("checkpoints %d %v", len(exported), err)
		}
		if v, err := s.VerifyAuditChain(ctx, trusted, exported...); err != nil || v.Unprotected != 3 {
			t.Fatalf("the clean log against its export: %+v %v", v, err)
		}

		rewriteAudit(t, s, 7) // sue's read of call-6 is gone
		v, err := s.VerifyAuditChain(ctx, trusted)
		if !errors.Is(err, store.ErrAuditBroken) || !strings.Contains(v.Problem, "no signed checkpoint") {
			t.Fatalf("the rewritten log verified on its own: %+v %v", v, err)
		}
		v, err = s.VerifyAuditChain(ctx, trusted, exported...)
		if !errors.Is(err, store.ErrAuditBroken) || v.BrokenAt != 5 && v.BrokenAt != 10 {
			t.Fatalf("the rewritten log verified against the exported checkpoints: %+v %v", v, err)
		}
		t.Logf("found: %s", v.Problem)
	})
}

// TestExportedCheckpointsCatchDeletedCheckpointsAndATruncatedLog: deleting
// checkpoints, or the records up to the last exported one, is found with
// the export even when the rest of the chain is whole.
func TestExportedCheckpointsCatchDeletedCheckpointsAndATruncatedLog(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	trusted := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	forEachDialect(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := context.Background()
		s.SetAuditKey(key, 5)
		for range 12 {
			if err := s.Audit(ctx, server.AuditRecord{Actor: "sue", Action: server.AuditCallRead, Target: "c"}); err != nil {
				t.Fatal(err)
			}
		}
		exported, _ := s.Checkpoints(ctx)
		dropAuditTriggers(t, s)
		if _, err := s.DB().Exec(`DELETE FROM audit_checkpoints WHERE seq = 10`); err != nil {
			t.Fatal(err)
		}
		if v, err := s.VerifyAuditChain(ctx, trusted, exported...); !errors.Is(err, store.ErrAuditBroken) || v.BrokenAt != 10 || !strings.Contains(v.Problem, "deleted") {
			t.Fatalf("a deleted checkpoint: %+v %v", v, err)
		}
		if _, err := s.DB().Exec(`DELETE FROM audit WHERE seq > 6`); err != nil {
			t.Fatal(err)
		}
		if v, err := s.VerifyAuditChain(ctx, trusted, exported...); !errors.Is(err, store.ErrAuditBroken) || v.BrokenAt != 10 {
			t.Fatalf("a log cut before an exported checkpoint: %+v %v", v, err)
		}
	})
}
