package artefact_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/artefact/oggopus/opustest"
)

// oggFrames is what n packets of oggStream play: n×20 ms less the pre-skip,
// in whole milliseconds.
func oggFrames(n int) int64 { return int64((n*960-312)/48) * 16 }

// oggStream is an Ogg Opus stream of n 20 ms packets as the recorder's
// encoder frames them (16 kHz stereo, pre-skip 312, pages of a second):
// each packet a distinct CELT frame of 60 bytes, so a packet replaced or
// moved is seen. No audio is coded: the artefact package never decodes.
func oggStream(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := oggopus.NewWriter(&buf, oggopus.Head{Channels: 2, PreSkip: 312, InputRate: 16000},
		oggopus.Tags{Vendor: "test"}, oggopus.WithSerial(7))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		p := make([]byte, 60)
		p[0] = 31<<3 | 0x04 // CELT fullband 20 ms, stereo, one frame
		for i := 1; i < len(p); i++ {
			p[i] = byte(rng.Uint32())
		}
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// recordOgg encrypts stream as the recorder did before segments, in one
// age stream, 3000 bytes at a time.
func recordOgg(t testing.TB, dir string, k keys, stream []byte) (string, artefact.Sums) {
	t.Helper()
	return recordOggSegments(t, dir, k, stream, false)
}

// recordOggSegments encrypts stream as the recorder does, a page at a
// time, and with segments a new one after every page (a second).
func recordOggSegments(t testing.TB, dir string, k keys, stream []byte, segments bool) (string, artefact.Sums) {
	t.Helper()
	if segments {
		return recordPages(t, dir, k, stream, 1)
	}
	path := filepath.Join(dir, "c1"+artefact.OpusExt)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := artefact.NewOggWriter(f, k.rcp...)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(stream); off += 3000 {
		if _, err := w.Write(stream[off:min(off+3000, len(stream))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, w.Sums()
}

// An Opus recording decrypts to the Ogg stream exactly as it was written,
// verifies against a version 3 manifest that says opus (and not against one
// that says PCM), and its duration is read from the stream.
func TestOpusRecordingDecryptsAndVerifies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := newKeys(t)
	stream := oggStream(t, 3000) // 60 s
	path, sums := recordOgg(t, dir, k, stream)

	got, rep := decrypt(t, path, k)
	if !bytes.Equal(got, stream) {
		t.Fatalf("decrypted %d bytes, not the %d-byte stream written", len(got), len(stream))
	}
	if rep.Codec != artefact.CodecOpus || !rep.Complete || rep.Frames != oggFrames(3000) || rep.Duration != 59993*time.Millisecond || rep.DataBytes != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.PlaintextSHA256 != sums.PlaintextSHA256 {
		t.Fatalf("plaintext sha256 %s, writer said %s", rep.PlaintextSHA256, sums.PlaintextSHA256)
	}

	man := &artefact.Manifest{Version: artefact.ManifestVersion, CallID: "c1", AudioFile: "c1" + artefact.OpusExt,
		SampleRate: 16000, Channels: 2, Codec: artefact.CodecOpus, Bitrate: 24000, FrameMS: 20,
		Frames: rep.Frames, DurationMS: 59993, Complete: true,
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes}
	manPath := filepath.Join(dir, "c1.json")
	if err := artefact.WriteManifest(manPath, man); err != nil {
		t.Fatal(err)
	}
	if vr, err := artefact.Verify(path, manPath, []age.Identity{k.id}); err != nil {
		t.Fatalf("verify: %v %v", err, vr.Problems)
	}
	man.Codec = ""
	if err := artefact.WriteManifest(manPath, man); err != nil {
		t.Fatal(err)
	}
	vr, err := artefact.Verify(path, manPath, []age.Identity{k.id})
	if err == nil || !slices.ContainsFunc(vr.Problems, func(p string) bool { return strings.Contains(p, "the audio is opus, the manifest says pcm") }) {
		t.Fatalf("an Opus file under a PCM manifest verified: %v %v", err, vr.Problems)
	}
}

// An Opus recording cut short by a crash decrypts to every complete Ogg
// page inside the chunks that authenticate, never a half page.
func TestInterruptedOpusRecordingDecryptsItsCompletePages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := newKeys(t)
	stream := oggStream(t, 3000)
	path, _ := recordOgg(t, dir, k, stream)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// 175 KiB of plaintext: cut inside the last chunk, two chunks (128 KiB)
	// remain.
	if err := os.WriteFile(path, b[:len(b)-100], 0o600); err != nil {
		t.Fatal(err)
	}
	got, rep := decrypt(t, path, k)
	if rep.Complete || rep.Codec != artefact.CodecOpus || rep.LostBytes == 0 {
		t.Fatalf("report %+v", rep)
	}
	if !bytes.HasPrefix(stream, got) || len(got) > 2*artefact.PlainChunk || len(got) < 2*artefact.PlainChunk-4000 {
		t.Fatalf("recovered %d bytes, want the complete pages of the first %d", len(got), 2*artefact.PlainChunk)
	}
	// It has no end-of-stream page, and says so; every packet reads.
	_, ps, err := opustest.ReadPackets(got)
	if !errors.Is(err, oggopus.ErrTruncated) {
		t.Fatalf("the recovered stream ends with %v, want ErrTruncated", err)
	}
	if rep.Frames != oggFrames(len(ps)) || len(ps) < 40*50 {
		t.Fatalf("%d packets recovered, the report says %d frames", len(ps), rep.Frames)
	}
}

// Redacting an Opus recording replaces whole packets with silence packets
// around the interval and leaves every other packet byte for byte as it
// was; the result is re-encrypted and reads to its end.
func TestRedactOpusReplacesPacketsOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := newKeys(t)
	stream := oggStream(t, 3000)
	path, sums := recordOgg(t, dir, k, stream)
	src, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := filepath.Join(dir, "red"+artefact.OpusExt)
	dst, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := artefact.Redact(src, []age.Identity{k.id}, k.rcp, []artefact.Interval{{FromMS: 10_005, ToMS: 12_000}}, dst)
	dst.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Codec != artefact.CodecOpus || !res.SourceComplete || res.Frames != oggFrames(3000) || res.BeforePlaintextSHA256 != sums.PlaintextSHA256 {
		t.Fatalf("result %+v", res)
	}
	if len(res.Silenced) != 1 || res.Silenced[0].FromMS > 10_000 || res.Silenced[0].ToMS < 12_000 || res.Silenced[0].ToMS > 12_060 {
		t.Fatalf("silenced %v", res.Silenced)
	}
	got, rep := decrypt(t, out, k)
	if rep.PlaintextSHA256 != res.PlaintextSHA256 || rep.Frames != res.Frames {
		t.Fatalf("redacted file %+v, result %+v", rep, res)
	}
	_, before := opustest.MustReadPackets(t, stream)
	_, after := opustest.MustReadPackets(t, got)
	if len(after) != len(before) {
		t.Fatalf("%d packets after, %d before", len(after), len(before))
	}
	sil := res.Silenced[0]
	replaced := 0
	for i := range before {
		// Silenced is rounded outwards to the millisecond.
		start := before[i].Start
		ms := start / 48
		inside := start+960 > sil.FromMS*48+47 && start+47 < sil.ToMS*48
		same := bytes.Equal(before[i].Data, after[i].Data)
		if inside == same {
			t.Fatalf("packet %d at %d ms: inside the silenced %v: %v, unchanged: %v", i, ms, sil, inside, same)
		}
		if inside {
			replaced++
			if err := oggopus.CheckSilence(after[i].Data); err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
		}
	}
	if replaced < 100 {
		t.Fatalf("%d packets replaced", replaced)
	}
}

// BenchmarkRedactOpus10MinutesOf1Hour is the server's redaction of an Opus
// recording as protect does it: decrypt an hour (60-byte packets: 24
// kbit/s), silence 10 minutes of it by packet replacement, re-encrypt.
func BenchmarkRedactOpus10MinutesOf1Hour(b *testing.B) {
	stream := oggStream(b, 3600*50)
	for _, segments := range []bool{false, true} {
		name := "one-stream"
		if segments {
			name = "segments-1s"
		}
		b.Run(name, func(b *testing.B) { benchRedactOpus(b, stream, segments) })
	}
}

func benchRedactOpus(b *testing.B, stream []byte, segments bool) {
	dir := b.TempDir()
	k := newKeys(b)
	path, _ := recordOggSegments(b, dir, k, stream, segments)
	cut := []artefact.Interval{{FromMS: 20 * 60_000, ToMS: 30 * 60_000}}
	b.ResetTimer()
	for range b.N {
		src, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		res, err := artefact.Redact(src, []age.Identity{k.id}, k.rcp, cut, discard{})
		src.Close()
		if err != nil || !res.SourceComplete || len(res.Silenced) != 1 {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/redaction")
}

// BenchmarkSegments writes an hour of Opus at 24 kbit/s (the recorder's
// pages of a second, 60-byte packets) through the Writer into a file, as
// one age stream and cut into segments every 1 or 5 s (each cut seals the
// segment and fsyncs), and reports the bytes each hour costs over the
// plaintext and the time per recorded second.
func BenchmarkSegments(b *testing.B) {
	stream := oggStream(b, 3600*50)
	perSecond := len(stream) / 3600
	for _, bc := range []struct {
		name       string
		every      int // seconds per segment, 0: one stream
		recipients int
	}{
		{"one-stream", 0, 1}, {"1s", 1, 1}, {"5s", 5, 1}, {"1s-2-recipients", 1, 2}, {"1s-no-fsync", 1, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var rcp []age.Recipient
			for range bc.recipients {
				rcp = append(rcp, newKeys(b).rcp...)
			}
			dir := b.TempDir()
			var size int64
			for i := range b.N {
				f, err := os.Create(filepath.Join(dir, "seg"+strconv.Itoa(i)))
				if err != nil {
					b.Fatal(err)
				}
				var dst io.Writer = f
				if strings.HasSuffix(bc.name, "no-fsync") {
					dst = struct{ io.Writer }{f} // no Sync method
				}
				w, err := artefact.NewOggWriter(dst, rcp...)
				if err != nil {
					b.Fatal(err)
				}
				for s := range 3600 {
					if _, err := w.Write(stream[s*perSecond : min((s+1)*perSecond, len(stream))]); err != nil {
						b.Fatal(err)
					}
					if bc.every > 0 && (s+1)%bc.every == 0 {
						if err := w.Cut(); err != nil {
							b.Fatal(err)
						}
					}
				}
				if _, err := w.Write(stream[3600*perSecond:]); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				f.Close()
				size = w.Sums().EncryptedBytes
				os.Remove(f.Name())
			}
			b.ReportMetric(float64(size-int64(len(stream))), "overhead-B/h")
			b.ReportMetric(float64(size)/1e6, "MB/h")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/3600, "µs/recorded-s")
		})
	}
}

// recordPages writes stream a page at a time, cutting a segment after
// every pages of them (the recorder's pages are a second).
func recordPages(t testing.TB, dir string, k keys, stream []byte, every int) (string, artefact.Sums) {
	t.Helper()
	path := filepath.Join(dir, "c1"+artefact.OpusExt)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := artefact.NewOggWriter(f, k.rcp...)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pagesOf(t, stream) {
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
		if (i+1)%every != 0 {
			continue
		}
		if err := w.Cut(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, w.Sums()
}

// pagesOf splits an Ogg stream into its pages.
func pagesOf(t testing.TB, stream []byte) [][]byte {
	t.Helper()
	var pages [][]byte
	for off := 0; off < len(stream); {
		if !bytes.HasPrefix(stream[off:], []byte("OggS")) || off+27 > len(stream) {
			t.Fatalf("no page at %d", off)
		}
		nseg := int(stream[off+26])
		n := 27 + nseg
		for _, l := range stream[off+27 : off+27+nseg] {
			n += int(l)
		}
		pages = append(pages, stream[off:off+n])
		off += n
	}
	return pages
}

// An Opus recording in segments (one a page, as the recorder writes it)
// decrypts to exactly the stream written, whose sha256 the writer gave,
// verifies, and redacts to the same plaintext as the same stream in one age
// stream. Cut where a segment ends it is every page before the cut and
// says it is not complete (no end page): a segment boundary is no end.
func TestSegmentedOpusRecordingReadsAsOneStream(t *testing.T) {
	t.Parallel()
	k := newKeys(t)
	stream := oggStream(t, 1500) // 30 s, 32 pages
	dir, oneDir := t.TempDir(), t.TempDir()
	path, sums := recordPages(t, dir, k, stream, 1)
	one, oneSums := recordOgg(t, oneDir, k, stream)
	if sums.PlaintextSHA256 != oneSums.PlaintextSHA256 {
		t.Fatal("the segmented plaintext hashes differently from the single stream's")
	}
	got, rep := decrypt(t, path, k)
	pages := len(pagesOf(t, stream))
	if !bytes.Equal(got, stream) || !rep.Complete || rep.Segments != pages || rep.PlaintextSHA256 != sums.PlaintextSHA256 || rep.Frames != oggFrames(1500) {
		t.Fatalf("decrypted %d bytes of %d, report %+v", len(got), len(stream), rep)
	}
	man := &artefact.Manifest{Version: artefact.ManifestVersion, CallID: "c1", AudioFile: "c1" + artefact.OpusExt,
		SampleRate: 16000, Channels: 2, Codec: artefact.CodecOpus, Bitrate: 24000, FrameMS: 20,
		Frames: rep.Frames, DurationMS: artefact.FramesToMS(rep.Frames), Complete: true,
		SHA256Plaintext: sums.PlaintextSHA256, SHA256Encrypted: sums.EncryptedSHA256, EncryptedBytes: sums.EncryptedBytes}
	manPath := filepath.Join(dir, "c1.json")
	if err := artefact.WriteManifest(manPath, man); err != nil {
		t.Fatal(err)
	}
	if vr, err := artefact.Verify(path, manPath, []age.Identity{k.id}); err != nil {
		t.Fatalf("verify: %v %v", err, vr.Problems)
	}

	redact := func(src string) []byte {
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		out := src + ".red"
		dst, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		res, err := artefact.Redact(f, []age.Identity{k.id}, k.rcp, []artefact.Interval{{FromMS: 3_000, ToMS: 7_500}}, dst)
		dst.Close()
		if err != nil || !res.SourceComplete || res.BeforePlaintextSHA256 != sums.PlaintextSHA256 || len(res.Silenced) != 1 {
			t.Fatalf("redact %s: %+v %v", src, res, err)
		}
		red, rrep := decrypt(t, out, k)
		if !rrep.Complete || rrep.Segments != 1 {
			t.Fatalf("redacted %s: %+v", src, rrep)
		}
		return red
	}
	if a, b := redact(path), redact(one); !bytes.Equal(a, b) || bytes.Equal(a, stream) {
		t.Fatal("the segmented recording redacts differently from the single stream")
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cuts := 0
	for off := 1; ; off++ {
		i := bytes.Index(b[off:], []byte("age-encryption.org/v1\n"))
		if i < 0 {
			break
		}
		off += i
		cut := filepath.Join(t.TempDir(), "cut"+artefact.OpusExt)
		if err := os.WriteFile(cut, b[:off], 0o600); err != nil {
			t.Fatal(err)
		}
		cuts++
		if cuts == 1 {
			// Only the OpusHead page: not a recording yet.
			if _, err := artefact.Decrypt(cut, []age.Identity{k.id}, io.Discard); err == nil {
				t.Fatal("a stream of its OpusHead alone decrypted")
			}
			continue
		}
		got, rep := decrypt(t, cut, k)
		if rep.Complete || !errors.Is(rep.Cut, oggopus.ErrTruncated) || rep.LostBytes != 0 || !bytes.HasPrefix(stream, got) || rep.Segments != cuts {
			t.Fatalf("cut after segment %d: %d bytes, report %+v", cuts, len(got), rep)
		}
	}
	if cuts != pages-1 {
		t.Fatalf("%d segment boundaries, %d pages", cuts, pages)
	}
}

// BenchmarkDecryptOpusHour is what segments cost a reader (play, verify,
// redact): decrypting an hour of Opus at 24 kbit/s in one age stream and in
// segments of 1 and 5 s, each of which has its header opened (an X25519
// key agreement).
func BenchmarkDecryptOpusHour(b *testing.B) {
	stream := oggStream(b, 3600*50)
	for _, every := range []int{0, 1, 5} {
		name := "one-stream"
		if every > 0 {
			name = "segments-" + strconv.Itoa(every) + "s"
		}
		b.Run(name, func(b *testing.B) {
			k := newKeys(b)
			var path string
			if every == 0 {
				path, _ = recordOgg(b, b.TempDir(), k, stream)
			} else {
				path, _ = recordPages(b, b.TempDir(), k, stream, every)
			}
			b.ResetTimer()
			for range b.N {
				rep, err := artefact.Decrypt(path, []age.Identity{k.id}, discard{})
				if err != nil || !rep.Complete {
					b.Fatalf("%+v %v", rep, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/hour")
		})
	}
}
