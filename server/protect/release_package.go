package protect

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/server"
)

// Names of the files in a release package besides the recordings.
const (
	PackageCover = "cover-page.txt"
	PackageSums  = "SHA256SUMS"
)

// packageOf is what a release package is made from.
type packageOf struct {
	rel         server.Release
	calls       []server.Call
	disclosedOn string
	by          string
	terms, org  string
	// exts is each call's recording's file ending, ".opus" or ".wav".
	exts map[string]string
}

// name is call's recording's file name in the package.
func (pk packageOf) name(callID string) string {
	ext := pk.exts[callID]
	if ext == "" {
		ext = ".wav"
	}
	return recordingName(callID) + ext
}

// recordingExt is the file ending of a call's recording as Play writes it:
// ".opus" when its stored manifest says Opus, else ".wav".
func (s *Service) recordingExt(ctx context.Context, callID string) string {
	rec, err := s.o.Store.Recording(ctx, callID)
	if err != nil || len(rec.Manifest) == 0 {
		return ".wav"
	}
	if m, err := artefact.ParseManifest(rec.Manifest); err == nil && m.AudioCodec() == artefact.CodecOpus {
		return ".opus"
	}
	return ".wav"
}

// recordingName is a recording's file name in the package without its
// ending: its call id, which holds only letters, digits and "-_.:"
// (wire.ValidID), with ':' replaced so every file system takes it.
func recordingName(callID string) string {
	return "recordings/" + strings.NewReplacer(":", "_", "/", "_", "\\", "_", "..", "_").Replace(callID)
}

// writePackage writes the zip to w and returns the sha256 of each file. Its
// bytes depend only on pk and the recordings, so it can be made twice.
func (s *Service) writePackage(ctx context.Context, pk packageOf, w io.Writer) (map[string]string, error) {
	modified := pk.rel.AuthorisedAt.UTC().Truncate(time.Second)
	zw := zip.NewWriter(w)
	files := map[string]string{}
	add := func(name string, method uint16, write func(io.Writer) error) error {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: modified})
		if err != nil {
			return err
		}
		h := sha256.New()
		if err := write(io.MultiWriter(fw, h)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files[name] = hex.EncodeToString(h.Sum(nil))
		return nil
	}
	if err := add(PackageCover, zip.Deflate, func(w io.Writer) error {
		_, err := io.WriteString(w, coverPage(pk))
		return err
	}); err != nil {
		return nil, err
	}
	for _, c := range pk.calls {
		if err := add(pk.name(c.ID), zip.Store, func(w io.Writer) error {
			_, err := s.Play(ctx, c.ID, w, nil)
			return err
		}); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var sums strings.Builder
	for _, n := range names {
		fmt.Fprintf(&sums, "%s  %s\n", files[n], n)
	}
	if err := add(PackageSums, zip.Deflate, func(w io.Writer) error {
		_, err := io.WriteString(w, sums.String())
		return err
	}); err != nil {
		return nil, err
	}
	return files, zw.Close()
}

// coverPage is the package's first page: the terms, then the register
// entry in the order of the request form.
func coverPage(pk packageOf) string {
	r := pk.rel
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	or := func(v, none string) string {
		if v == "" {
			return none
		}
		return v
	}
	line("RELEASE OF CALL RECORDINGS TO A THIRD PARTY")
	line("%s — release register entry %d", pk.org, r.ID)
	line("")
	line("TERMS")
	line("%s", pk.terms)
	line("")
	line("1. Date, time and telephone number: %s %s %s", r.CallDate, or(r.CallTime, "(time not known)"), or(r.Number, "(number not known)"))
	line("2. Person requesting the recording: %s", r.Requester)
	line("3. Purpose: %s", r.PurposeLabel)
	line("   Lawful basis: %s", r.LawfulBasis)
	if r.OnBehalf {
		line("4. On behalf of a third party: yes — %s", r.ThirdParty)
	} else {
		line("4. On behalf of a third party: no")
	}
	line("5. Date of request: %s", r.RequestedOn)
	line("")
	line("Name and job title of the person receiving the recordings: %s, %s", r.RecipientName, r.RecipientTitle)
	line("Date of disclosure: %s", pk.disclosedOn)
	line("Authorised by: %s (%s) on %s", r.AuthorisedBy, r.AuthorisedAs, r.AuthorisedAt.UTC().Format(time.DateOnly))
	line("Request entered by: %s on %s", r.EnteredBy, r.Entered.UTC().Format(time.DateOnly))
	line("Package made by: %s", pk.by)
	line("")
	line("RECORDINGS")
	for _, c := range pk.calls {
		dur := ""
		if c.Answered != nil && c.Ended != nil {
			dur = fmt.Sprintf(", %s long", c.Ended.Sub(*c.Answered).Round(time.Second))
		}
		paused := ""
		if c.PausedMS > 0 {
			paused = fmt.Sprintf("; paused for %s (silence in the recording)", (time.Duration(c.PausedMS) * time.Millisecond).Round(time.Second))
		}
		line("%s — %s call of %s UTC with %s%s%s", pk.name(c.ID), c.Direction, c.Started.UTC().Format("2006-01-02 15:04"),
			or(c.Remote.Number, "an unknown number"), dur, paused)
	}
	line("")
	line("CHECKING THE FILES")
	line("%s lists the sha256 of every other file in this package. To check them, run", PackageSums)
	line("  sha256sum -c %s        (Linux)", PackageSums)
	line("  shasum -a 256 -c %s    (macOS)", PackageSums)
	line("in the folder the package was unpacked to.")
	return b.String()
}
