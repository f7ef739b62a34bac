package protect_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/callguard/callguard/server"
	"github.com/callguard/callguard/server/blob"
	"github.com/callguard/callguard/server/protect"
)

// TestAnUploadRacingADeletionLeavesNoFile sends a recording chunk, as the
// desktop does, at the worst moment of a retention run and of an erasure:
// after the call's files were removed and before its deletion is finished.
// The chunk whose request was claimed before the deletion began is refused
// under the call's lock, a new request is refused at its claim, both as
// gone (410: the desktop drops its copy), and no partial upload is left in
// uploads/ once the call is deleted.
func TestAnUploadRacingADeletionLeavesNoFile(t *testing.T) {
	for _, d := range dialects {
		for _, cause := range []string{server.CauseRetention, server.CauseErasure} {
			t.Run(d.name+"/"+cause, func(t *testing.T) {
				ctx := context.Background()
				e := newEnv(t, d.url(t), nil)
				e.ingest(call{id: "race", start: t0, remote: "+441632960444"})
				e.partial("race", 1000)
				var chunkErr, claimErr error
				raced := false
				svc := e.service(func(_ *env, o *protect.Options) {
					o.Stage = func(stage string, _ int) {
						if stage != "blob" || raced {
							return
						}
						raced = true
						// A request claimed before the tombstone: its chunk reaches
						// the blob store now. Told the upload is gone (409 with
						// offset 0), the desktop resends from 0.
						chunk := bytes.Repeat([]byte{8}, 500)
						size, err := e.blobs.Append("race", 1000, bytes.NewReader(chunk))
						if errors.Is(err, blob.ErrOffset) {
							_, err = e.blobs.Append("race", size, bytes.NewReader(chunk))
						}
						chunkErr = err
						// A request that comes now.
						_, claimErr = e.st.ClaimRecording(ctx, e.agent, "race")
					}
				})
				switch cause {
				case server.CauseRetention:
					e.clk.Set(t0.AddDate(1, 0, 0))
					if rep, err := svc.Expire(ctx); err != nil || rep.Deleted != 1 {
						t.Fatalf("retention run: %+v %v", rep, err)
					}
				case server.CauseErasure:
					if er, err := svc.RequestErasure(ctx, e.dpo, "+441632960444", "SAR-1"); err != nil || er.State != server.ErasureDone || er.Erased != 1 {
						t.Fatalf("erasure: %+v %v", er, err)
					}
				}
				if !raced {
					t.Fatal("the deletion never reached its blob stage")
				}
				if !errors.Is(chunkErr, server.ErrGone) {
					t.Errorf("chunk after the files went: %v, want ErrGone", chunkErr)
				}
				if !errors.Is(claimErr, server.ErrGone) {
					t.Errorf("claim after the files went: %v, want ErrGone", claimErr)
				}
				left, err := os.ReadDir(filepath.Join(e.dir, "uploads"))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range left {
					t.Errorf("uploads/%s is left behind", f.Name())
				}
				if ts, err := e.st.Tombstone(ctx, "race"); err != nil || ts.State != "done" || ts.Cause != cause {
					t.Fatalf("tombstone %+v %v", ts, err)
				}
				if rec, err := e.st.Recording(ctx, "race"); err != nil || rec.Status != "deleted" {
					t.Fatalf("recording %+v %v", rec, err)
				}
			})
		}
	}
}
