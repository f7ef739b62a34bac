package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/app/outbox"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/assets"
	"github.com/callguard/callguard/internal/testrig"
	"github.com/callguard/callguard/policy"
)

// eventLog keeps the core's metadata events and hands them on to the
// durable outbox, as main does.
type eventLog struct {
	mu     sync.Mutex
	events []app.Event
	next   app.EventSink
}

func (l *eventLog) Append(e app.Event) error {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	return l.next.Append(e)
}

// lockedBuffer is a log destination several goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// noCardDigits fails if the card number, or either half of it, is in any
// file under dirs or in any of the texts: the manifest, the outbox, the logs
// and the events must hold where tones were, never what was keyed.
func noCardDigits(t *testing.T, card string, texts map[string][]byte, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				texts[path] = b
			}
			return nil
		})
	}
	for name, b := range texts {
		for _, digits := range []string{card, card[:8], card[8:], card[:4] + " " + card[4:8]} {
			if bytes.Contains(b, []byte(digits)) {
				t.Errorf("%s holds %q of the keyed card number", name, digits)
			}
		}
	}
	t.Logf("no digit run of the keyed card number in %d files and texts (manifest, audio, outbox, logs, events, snapshots)", len(texts))
}

// A card number keyed as 16 tones (80 ms each, 120 ms apart: a fast keyer)
// while the real recorder records in real time under the real core: with
// the policy's "ask" the officer is asked before the 5th tone begins; with
// "pause" the recording is paused with reason payment-detected before the
// 5th tone begins, so tones 5 to 16 are not in the recording at all (the
// manifest's pause covers them), and the first four are silenced. Then
// the attack: no run of the card's digits is anywhere callguard wrote (the
// spool, the outbox, the logs at debug level, the events, the snapshots).
func TestCardNumberKeyedTriggersBeforeTheFifthTone(t *testing.T) {
	for _, onRun := range []string{policy.KeypadAsk, policy.KeypadPause} {
		t.Run(onRun, func(t *testing.T) {
			a := newAudioRig(t, true)
			r := a.recorder(t, "caller")
			pol, err := policy.Parse(assets.DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			pol.Keypad.OnRun = onRun
			logs := &lockedBuffer{}
			logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			r.log = logger
			outboxDir := t.TempDir()
			ob, err := outbox.Open(outboxDir, "device-1", outbox.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()
			events := &eventLog{next: ob}
			core := app.NewCore(app.MachineConfig{Policy: pol, Agent: app.AgentView{ID: "1001"}, Manual: true,
				Recorder: r, Sink: events, Logger: logger})
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan struct{})
			go func() { core.Run(ctx); close(ran) }()
			defer func() { cancel(); <-ran }()
			snaps, unsub := core.Subscribe()
			defer unsub()

			const card = "4929123456781234"
			var ts []keyTone
			for i := range 16 {
				ts = append(ts, keyTone{key: card[i], dur: 80 * time.Millisecond, level: -12})
			}
			k := soxTones(t, ts, func(i int) time.Duration {
				if i == 0 {
					return 500 * time.Millisecond
				}
				return 120 * time.Millisecond
			})
			view, err := core.StartManual(app.DirectionInbound, app.Party{Number: "07700900123"})
			if err != nil {
				t.Fatal(err)
			}
			// Feed in real time (20 ms every 20 ms), noting when each buffer
			// went in, and watch the snapshots meanwhile.
			var fedMu sync.Mutex
			var fedAt []time.Time
			feeding := make(chan struct{})
			go func() {
				defer close(feeding)
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for off := 0; off < len(k.pcm); off += BufferFrames {
					<-tick.C
					c := make([]int16, BufferFrames)
					copy(c, k.pcm[off:min(off+BufferFrames, len(k.pcm))])
					if a.alsa.Input("officer").Feed(make([]int16, BufferFrames)) != nil || a.alsa.Input("caller").Feed(c) != nil {
						return
					}
					fedMu.Lock()
					fedAt = append(fedAt, time.Now())
					fedMu.Unlock()
				}
			}()
			var keyingAt, pausedAt time.Time
			var snapJSON []byte
			func() {
				for {
					select {
					case s := <-snaps:
						b, _ := json.Marshal(s)
						snapJSON = append(snapJSON, b...)
						if s.Call != nil && s.Call.Keying && keyingAt.IsZero() {
							keyingAt = time.Now()
						}
						if s.State == app.StatePaused && s.Reason == policy.PaymentDetectedReason && pausedAt.IsZero() {
							pausedAt = time.Now()
						}
					case <-feeding:
						return
					}
				}
			}()
			if err := core.EndManual(); err != nil {
				t.Fatal(err)
			}
			fifth := k.tones[4].Start // source frame = recording frame: the rig is fresh
			fifthBuf := int(fifth / BufferFrames)
			fedMu.Lock()
			fifthFed := fedAt[fifthBuf] // the buffer that holds the 5th tone's first sample was fed
			fedMu.Unlock()
			ms := func(f int64) float64 { return float64(f) / 16 }

			m, err := artefact.ReadManifest(filepath.Join(r.spool, view.ID+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var dtmf int
			for _, rd := range m.Redactions {
				if rd.Kind == artefact.RedactionKindDTMF {
					dtmf++
				}
			}
			// Every stretch in the manifest reached the core and went out as
			// an event, the last ones (written at Stop) too.
			maskedEvents := func() int {
				events.mu.Lock()
				defer events.mu.Unlock()
				n := 0
				for _, e := range events.events {
					if e.Type == app.EventKeypadMasked {
						n++
					}
				}
				return n
			}
			testrig.Eventually(t, 5*time.Second, func() bool { return maskedEvents() == dtmf }, "%d keypad.masked events for %d dtmf redactions", maskedEvents(), dtmf)
			events.mu.Lock()
			evJSON, _ := json.Marshal(events.events)
			events.mu.Unlock()
			logs.mu.Lock()
			logText := slices.Clone(logs.b.Bytes())
			logs.mu.Unlock()
			// What is searched holds what it should: the search is not over nothing.
			if !bytes.Contains(logText, []byte("recording started")) || !bytes.Contains(evJSON, []byte(`"keypad.masked"`)) || !bytes.Contains(snapJSON, []byte(`"keypad_masked"`)) {
				t.Fatalf("the logs, events or snapshots are not what the search needs:\n%s", logText)
			}
			if n := outboxHas(t, outboxDir, "keypad.masked"); n == 0 {
				t.Fatal("the outbox holds no keypad.masked event")
			}
			noCardDigits(t, card, map[string][]byte{"the logs": logText, "the events": evJSON, "the snapshots": snapJSON}, r.spool, outboxDir)
			switch onRun {
			case policy.KeypadAsk:
				if keyingAt.IsZero() || !keyingAt.Before(fifthFed) {
					t.Fatalf("asked at %v, the 5th tone's first buffer was fed at %v: not before it", keyingAt, fifthFed)
				}
				if len(m.Pauses) != 0 || dtmf == 0 {
					t.Errorf("ask: pauses %s, %d dtmf redactions", pausesString(m), dtmf)
				}
				t.Logf("asked %v before the 5th tone's first buffer was fed (4th tone began %.0f ms, 5th %.0f ms into the call); %d dtmf redactions",
					fifthFed.Sub(keyingAt).Round(time.Millisecond), ms(k.tones[3].Start), ms(fifth), dtmf)
			case policy.KeypadPause:
				if len(m.Pauses) == 0 || m.Pauses[0].Reason != policy.PaymentDetectedReason {
					t.Fatalf("pauses %s, want one for %s", pausesString(m), policy.PaymentDetectedReason)
				}
				p := m.Pauses[0]
				startFrame := artefact.MSToFrames(p.StartMS)
				if startFrame >= fifth || *p.EndMS < artefact.FramesToMS(k.tones[15].End) {
					t.Fatalf("pause %d-%d ms; the 5th tone began at %.0f ms, the 16th ended at %.0f ms", p.StartMS, *p.EndMS, ms(fifth), ms(k.tones[15].End))
				}
				if pausedAt.IsZero() || !pausedAt.Before(fifthFed) {
					t.Errorf("the banner said paused at %v, the 5th tone was fed at %v", pausedAt, fifthFed)
				}
				if !slices.ContainsFunc(events.events, func(e app.Event) bool {
					return e.Type == app.EventRecordingState && e.State == "paused" && e.Reason == policy.PaymentDetectedReason
				}) {
					t.Error("no recording.state event with reason payment-detected")
				}
				t.Logf("paused from %d ms, %.0f ms before the 5th tone (4th began at %.0f ms); banner paused %v before the 5th tone was fed; %d dtmf redactions before",
					p.StartMS, ms(fifth)-float64(p.StartMS), ms(k.tones[3].Start), fifthFed.Sub(pausedAt).Round(time.Millisecond), dtmf)
			}
		})
	}
}

// outboxHas counts the occurrences of s in the outbox's files.
func outboxHas(t *testing.T, dir, s string) int {
	t.Helper()
	n := 0
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			n += bytes.Count(b, []byte(s))
		}
	}
	return n
}
