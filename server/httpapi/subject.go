package httpapi

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
)

// subjectReadme goes first into every subject-access bundle.
const subjectReadme = `Subject access bundle from callguard

calls.json      every call with this number as the caller's number that is
                still kept: times, direction, agent, pauses, the notice,
                flags and their outcome, retention rule and delete_after.
recordings/     each call's recording, left channel the officer, right the
                caller: <call-id>.opus (Ogg Opus, which web browsers and
                VLC play) or, for older recordings, <call-id>.wav (PCM
                16-bit, 16 kHz) when the server could decrypt it, else
                <call-id>.opus.age or .wav.age (encrypted to the
                organisation's key) with <call-id>.json (its manifest).
                Silence marks pauses (card payments, health details) and
                intervals deleted after review.

Calls already deleted under the retention policy or an erasure are not in
it: their tombstones (deletion evidence) hold no personal data.
`

func (a *API) subjectAccess(w http.ResponseWriter, r *http.Request, p server.Principal) {
	if !a.needProtect(w) {
		return
	}
	number := r.URL.Query().Get("number")
	key := server.NumberKey(number)
	if key == "" || len(key) > 128 {
		writeError(w, http.StatusBadRequest, "number is required")
		return
	}
	canPlay := a.o.Protect != nil && a.o.Protect.HasKey()
	var calls []server.Call
	err := a.audited(r, p, func(ctx context.Context) (entry, error) {
		var err error
		calls, err = a.o.Store.CallsOfNumber(ctx, key)
		ids := make([]string, len(calls))
		for i, c := range calls {
			ids[i] = c.ID
		}
		return entry{server.AuditSubjectAccess, a.numberTarget(number), map[string]any{"number": server.MaskNumber(key),
			"reference": r.URL.Query().Get("reference"), "calls": ids, "decrypted": canPlay}}, err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="subject-access-%s.zip"`, a.o.Clock().UTC().Format("20060102-150405")))
	w.WriteHeader(http.StatusOK)
	zw := zip.NewWriter(a.streamTo(w))
	defer zw.Close()
	entry := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: a.o.Clock().UTC()})
	}
	if f, err := entry("README.txt"); err == nil {
		io.WriteString(f, subjectReadme)
	}
	f, err := entry("calls.json")
	if err != nil {
		return
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	enc.Encode(calls)
	for _, c := range calls {
		if c.Recording != server.RecordingStored {
			continue
		}
		if err := a.o.Protect.CheckRedacted(r.Context(), c.ID); err != nil {
			// Withheld, and the bundle says why: the dpo sends it once the
			// card details are silenced.
			if f, err2 := entry("recordings/" + c.ID + ".withheld.txt"); err2 == nil {
				fmt.Fprintf(f, "The recording of call %s is withheld from this bundle: %v.\nExport the bundle again once the review item is done.\n", c.ID, err)
			}
			continue
		}
		codec := artefact.CodecPCM
		rec, recErr := a.o.Store.Recording(r.Context(), c.ID)
		if m, err := artefact.ParseManifest(rec.Manifest); recErr == nil && err == nil {
			codec = m.AudioCodec()
		}
		if canPlay {
			ext := ".wav"
			if codec == artefact.CodecOpus {
				ext = ".opus"
			}
			f, err := entry("recordings/" + c.ID + ext)
			if err != nil {
				return
			}
			if _, err := a.o.Protect.Play(r.Context(), c.ID, f, nil); err != nil {
				a.o.Logger.Warn("subject access: recording left out", "call", c.ID, "err", err)
			}
			continue
		}
		if recErr != nil {
			continue
		}
		src, err := a.o.Blobs.Open(c.ID)
		if err != nil {
			continue
		}
		if f, err := entry("recordings/" + c.ID + artefact.AudioExt(codec)); err == nil {
			io.Copy(f, src)
		}
		src.Close()
		if f, err := entry("recordings/" + c.ID + ".json"); err == nil {
			f.Write(rec.Manifest)
		}
	}
}
