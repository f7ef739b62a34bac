package subjectaccess

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"html/template"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/policy"
	"github.com/callguard/callguard/server"
)

// The files of a bundle besides the recordings.
const (
	ReadmeName = "README.txt"
	IndexCSV   = "index.csv"
	IndexHTML  = "index.html"
	SumsName   = "SHA256SUMS"
)

// IndexHeader is the first row of index.csv.
var IndexHeader = []string{"no", "file", "started", "direction", "duration", "officer", "pauses", "recording", "call reference"}

// Row is one call in a bundle's index.
type Row struct {
	No        int
	File      string // the recording's file in the bundle, or "" when none is
	Started   string // date and time on the organisation's calendar
	Direction string // "incoming" or "outgoing"
	Duration  string
	Officer   string // reduced as the policy says
	Pauses    []string
	Recording string // "included", or why not
	CallRef   string
}

func (r Row) csv() []string {
	cells := []string{fmt.Sprint(r.No), r.File, r.Started, r.Direction, r.Duration, r.Officer, strings.Join(r.Pauses, "; "), r.Recording, r.CallRef}
	for i, c := range cells {
		cells[i] = csvCell(c)
	}
	return cells
}

// csvCell keeps a spreadsheet from reading a cell as a formula: one that
// starts with = + - @ or a tab (an officer's account name, a call id a
// desktop chose) is written after a '.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ErrNoRecordings: the bundle needs the organisation key to decrypt the
// recordings, and the server has none.
var ErrNoRecordings = fmt.Errorf("a bundle holds the recordings decrypted, and %w", server.ErrNoKey)

// Bundle writes case id's bundle to w as a zip, as p: README.txt, each
// recording decrypted (recordings/NNN-date-time-direction.opus, or .wav for
// older recordings), the index
// (index.csv and index.html: time, direction, duration, officer, pauses
// and their reasons) and SHA256SUMS (sha256sum's format) over all the
// others. before is called once the bundle is sure to start, before the
// first byte (to set headers). The zip is streamed: no recording is held
// whole in memory or written to disk. The bundle is audited, and each
// recording again, with the case id, before any of its audio is written.
func (s *Service) Bundle(ctx context.Context, p server.Principal, id int64, w io.Writer, before func()) error {
	if err := allowed(p); err != nil {
		return err
	}
	if s.o.Recordings == nil || !s.o.Recordings.HasKey() {
		return ErrNoRecordings
	}
	var (
		c     server.SARCase
		calls []server.Call
	)
	rule := s.o.Policy.SubjectAccess.OfficerNameRule()
	err := s.audited(ctx, p, func(ctx context.Context) (string, string, map[string]any, error) {
		var err error
		if c, err = s.o.Store.SAR(ctx, id); err != nil {
			return "", "", nil, err
		}
		from, until := s.span(c)
		calls, err = s.o.Store.CallsForSubject(ctx, c.Numbers, from, until)
		return server.AuditSARBundle, c.Target(), map[string]any{"calls": callIDs(calls), "officer_names": rule}, err
	})
	if err != nil {
		return err
	}
	if before != nil {
		before()
	}
	b := &bundle{zw: zip.NewWriter(w), now: s.o.Clock().UTC()}
	if err := b.file(ReadmeName, func(f io.Writer) error {
		_, err := io.WriteString(f, readme(c, rule, s.o.Location, s.o.Clock()))
		return err
	}); err != nil {
		return err
	}
	names := officerNames(rule)
	rows := make([]Row, 0, len(calls))
	for i, call := range calls {
		row := s.row(i+1, call, names)
		if call.Recording == server.RecordingStored {
			if err := s.recording(ctx, p, c, call, b, &row); err != nil {
				return err
			}
		}
		rows = append(rows, row)
	}
	if err := b.file(IndexCSV, func(f io.Writer) error {
		cw := csv.NewWriter(f)
		cw.Write(IndexHeader)
		for _, r := range rows {
			cw.Write(r.csv())
		}
		cw.Flush()
		return cw.Error()
	}); err != nil {
		return err
	}
	if err := b.file(IndexHTML, func(f io.Writer) error {
		return indexPage.Execute(f, map[string]any{"Case": c, "Rows": rows, "Made": s.o.Clock().In(s.o.Location).Format("2 January 2006 15:04")})
	}); err != nil {
		return err
	}
	if err := b.writeSums(); err != nil {
		return err
	}
	return b.zw.Close()
}

// recording puts call's recording into the bundle, audited first, or a
// note saying why it is withheld.
func (s *Service) recording(ctx context.Context, p server.Principal, c server.SARCase, call server.Call, b *bundle, row *Row) error {
	// The file name's ending follows what the recording is (.opus or .wav),
	// known from its first bytes; the audit names the file without it.
	stem := recordingName(row.No, call.Started.In(s.o.Location), call.Direction)
	name := stem + ".wav"
	err := s.audited(ctx, p, func(ctx context.Context) (string, string, map[string]any, error) {
		return server.AuditSARRecording, call.ID, map[string]any{"case": c.Target(), "file": stem}, s.o.Recordings.CheckRedacted(ctx, call.ID)
	})
	if errors.Is(err, server.ErrRedactionPending) {
		row.Recording = "withheld until card details in it are silenced"
		return b.file(stem+".withheld.txt", func(f io.Writer) error {
			_, err := fmt.Fprintf(f, "The recording of call %d is withheld from this bundle: card details in it are not yet silenced.\nMake the bundle again once they are.\n", row.No)
			return err
		})
	}
	if err != nil {
		return err
	}
	var (
		entry   io.Writer
		started bool
	)
	_, err = s.o.Recordings.Play(ctx, call.ID, writerFunc(func(p []byte) (int, error) {
		if !started {
			started = true
			_, ext := artefact.MediaType(p)
			name = stem + ext
			var err error
			if entry, err = b.create(name); err != nil {
				return 0, err
			}
		}
		return entry.Write(p)
	}), nil)
	if err != nil && started {
		return fmt.Errorf("bundle: recording of call %s cut short: %w", call.ID, err)
	}
	if err != nil {
		s.o.Logger.Warn("subject access: a recording could not be decrypted for a bundle", "call", call.ID, "case", c.ID, "err", err)
		row.Recording = "not available: " + withheldWhy(err)
		return nil
	}
	b.done()
	row.File, row.Recording = name, "included"
	return nil
}

func withheldWhy(err error) string {
	switch {
	case errors.Is(err, server.ErrGone):
		return "deleted"
	case errors.Is(err, server.ErrConflict):
		return "still uploading"
	}
	return "it could not be decrypted (see the server's log)"
}

// recordingName is a recording's file name in a bundle, without its
// ending: made only of the row's number, the date and time and a fixed
// word, never of anything a desktop sent, so no name can leave the
// bundle's folder.
func recordingName(no int, started time.Time, direction string) string {
	return fmt.Sprintf("recordings/%03d-%s-%s", no, started.Format("20060102-1504"), directionWord(direction))
}

func directionWord(d string) string {
	switch d {
	case "inbound":
		return "incoming"
	case "outbound":
		return "outgoing"
	}
	return "call"
}

func (s *Service) row(no int, c server.Call, name func(string) string) Row {
	loc := s.o.Location
	r := Row{No: no, Started: c.Started.In(loc).Format("2006-01-02 15:04:05"), Direction: directionWord(c.Direction),
		Officer: name(c.Agent), Pauses: []string{}, CallRef: c.ID}
	if c.Ended != nil {
		r.Duration = spoken(c.Ended.Sub(c.Started))
	} else {
		r.Duration = "not ended"
	}
	for _, p := range c.Pauses {
		label := p.Reason
		if p.Reason == policy.HoldReason {
			label = "on hold"
		} else if pr := s.o.Policy.PauseReason(p.Reason); pr != nil {
			label = pr.Label
		}
		span := p.Start.In(loc).Format("15:04:05") + "–"
		if p.End != nil {
			span += p.End.In(loc).Format("15:04:05") + " (" + spoken(p.End.Sub(p.Start)) + ")"
		}
		r.Pauses = append(r.Pauses, span+" paused: "+label)
	}
	switch c.Recording {
	case server.RecordingStored:
		r.Recording = "included"
	case server.RecordingUploading:
		r.Recording = "not yet uploaded"
	case server.RecordingDeleted:
		r.Recording = "deleted"
	default:
		r.Recording = "not recorded"
	}
	return r
}

// spoken is a duration in words: "1 min 5 s", "42 s".
func spoken(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
}

// officerNames returns how an officer's name reads in a bundle under rule
// (policy.OfficerNames…): withheld numbers them in the order they appear.
func officerNames(rule string) func(agent string) string {
	seen := map[string]int{}
	return func(agent string) string {
		switch rule {
		case policy.OfficerNamesFull:
			return agent
		case policy.OfficerNamesInitials:
			return Initials(agent)
		}
		n, ok := seen[agent]
		if !ok {
			n = len(seen) + 1
			seen[agent] = n
		}
		return fmt.Sprintf("Officer %d", n)
	}
}

// Initials are the initials of an account name: "alice.smith" and "Alice
// Smith" are "A. S."; an email address counts up to its '@'.
func Initials(name string) string {
	name, _, _ = strings.Cut(name, "@")
	var out []string
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		r, _ := utf8.DecodeRuneInString(part)
		out = append(out, string(unicode.ToUpper(r))+".")
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, " ")
}

func readme(c server.SARCase, rule string, loc *time.Location, now time.Time) string {
	names := map[string]string{
		policy.OfficerNamesWithheld: "The officers' names are withheld: each is shown as \"Officer 1\", \"Officer 2\"…, the same officer the same number in this bundle.",
		policy.OfficerNamesInitials: "The officers are shown by their initials.",
		policy.OfficerNamesFull:     "The officers are shown by name.",
	}[rule]
	var b strings.Builder
	fmt.Fprintf(&b, "Your subject access request: the call recordings we hold\n\n")
	fmt.Fprintf(&b, "Request received on %s; this bundle was made on %s.\n", c.Received.Format("2 January 2006"), now.In(loc).Format("2 January 2006"))
	if c.Reference != "" {
		fmt.Fprintf(&b, "Our reference: %s\n", c.Reference)
	}
	fmt.Fprintf(&b, "Calls searched: the phone number(s) you gave us")
	switch {
	case !c.From.IsZero() && !c.To.IsZero():
		fmt.Fprintf(&b, ", from %s to %s", c.From.Format("2 January 2006"), c.To.Format("2 January 2006"))
	case !c.From.IsZero():
		fmt.Fprintf(&b, ", from %s", c.From.Format("2 January 2006"))
	case !c.To.IsZero():
		fmt.Fprintf(&b, ", up to %s", c.To.Format("2 January 2006"))
	}
	b.WriteString(".\n\n")
	b.WriteString(`index.html   the list of the calls (open it in a web browser): when each
             started (UK time), whether you called us or we called you,
             how long it lasted, the officer, and every time the recording
             was paused and why.
index.csv    the same list, for a spreadsheet.
recordings/  each call's recording: left channel our officer, right
             channel you. Silence marks the pauses listed in the index,
             when nothing was recorded, such as while card details were
             given. Files ending .opus are Ogg Opus audio: drag one into
             a web browser (Firefox, Chrome or Edge) or open it with VLC
             (videolan.org, free) to play it. Files ending .wav play in
             any audio player.
SHA256SUMS   a checksum of every other file, to show nothing was changed:
             "sha256sum -c SHA256SUMS" checks them.

`)
	b.WriteString(names + "\n")
	b.WriteString("Calls already deleted under our retention policy are not in this bundle.\n")
	return b.String()
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Your calls</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}th,td{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}</style>
</head><body>
<h1>Your calls</h1>
<p>Request received on {{.Case.Received.Format "2 January 2006"}}{{with .Case.Reference}}, our reference {{.}}{{end}}. Made on {{.Made}}.</p>
{{if .Rows}}<table>
<thead><tr><th scope="col">No.</th><th scope="col">Started (UK time)</th><th scope="col">Direction</th><th scope="col">Duration</th><th scope="col">Officer</th><th scope="col">Pauses and why</th><th scope="col">Recording</th></tr></thead>
<tbody>{{range .Rows}}<tr><td>{{.No}}</td><td>{{.Started}}</td><td>{{.Direction}}</td><td>{{.Duration}}</td><td>{{.Officer}}</td><td>{{range .Pauses}}{{.}}<br>{{else}}none{{end}}</td><td>{{if .File}}<a href="{{.File}}">{{.Recording}}</a>{{else}}{{.Recording}}{{end}}</td></tr>
{{end}}</tbody></table>
<p>Recordings ending <code>.opus</code> are Ogg Opus audio: open one in a web browser (Firefox, Chrome or Edge) or with VLC (videolan.org, free) to play it. Recordings ending <code>.wav</code> play in any audio player.</p>{{else}}<p>We hold no recordings of calls with the numbers and dates searched.</p>{{end}}
</body></html>
`))

// bundle writes the zip, hashing each file as it goes.
type bundle struct {
	zw   *zip.Writer
	now  time.Time
	h    hash.Hash
	name string
	sums []string
}

// create starts the file name, hashed until done. Recordings are stored
// as they are (deflate gains little on PCM, nothing on Opus, and would
// slow a large bundle several times); the text files are deflated.
func (b *bundle) create(name string) (io.Writer, error) {
	method := zip.Deflate
	if strings.HasSuffix(name, ".wav") || strings.HasSuffix(name, ".opus") {
		method = zip.Store
	}
	f, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: b.now})
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", name, err)
	}
	b.h, b.name = sha256.New(), name
	return io.MultiWriter(f, b.h), nil
}

// done records the checksum of the file being written.
func (b *bundle) done() {
	b.sums = append(b.sums, hex.EncodeToString(b.h.Sum(nil))+"  "+b.name+"\n")
}

func (b *bundle) file(name string, write func(io.Writer) error) error {
	f, err := b.create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		return fmt.Errorf("bundle %s: %w", name, err)
	}
	b.done()
	return nil
}

func (b *bundle) writeSums() error {
	f, err := b.zw.CreateHeader(&zip.FileHeader{Name: SumsName, Method: zip.Deflate, Modified: b.now})
	if err != nil {
		return fmt.Errorf("bundle %s: %w", SumsName, err)
	}
	_, err = io.WriteString(f, strings.Join(b.sums, ""))
	return err
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
