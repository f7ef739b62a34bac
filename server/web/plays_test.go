package web

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

// TestPlaySealsThePlaintextAndReadsAnyRange: what reaches the temporary
// file is not the recording, and every range read gives back exactly the
// recording's bytes.
func TestPlaySealsThePlaintextAndReadsAnyRange(t *testing.T) {
	plain := make([]byte, 200_003)
	for i := range plain {
		plain[i] = byte(i * 31)
	}
	ps := newPlays(time.Now)
	defer ps.Close()
	fills := 0
	fill := func(w io.Writer) error {
		fills++
		for b := plain; len(b) > 0; { // in uneven writes, as decryption does
			n := min(len(b), 1+rand.IntN(7000))
			if _, err := w.Write(b[:n]); err != nil {
				return err
			}
			b = b[n:]
		}
		return nil
	}
	p, created, err := ps.get("s/c1/p1", "s", "c1", fill)
	if err != nil || !created || p.size != int64(len(plain)) {
		t.Fatalf("get: %v %v size %d", created, err, p.size)
	}
	disk := make([]byte, len(plain))
	if _, err := p.f.ReadAt(disk, 0); err != nil {
		t.Fatal(err)
	}
	same := 0
	for i := range disk {
		if disk[i] == plain[i] {
			same++
		}
	}
	if same > len(plain)/100 {
		t.Fatalf("%d of %d bytes on disk are the plaintext", same, len(plain))
	}
	for range 500 {
		off := rand.Int64N(int64(len(plain)))
		n := 1 + rand.IntN(5000)
		buf := make([]byte, n)
		got, err := p.ReadAt(buf, off)
		want := plain[off:min(off+int64(n), int64(len(plain)))]
		if !bytes.Equal(buf[:got], want) || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d, %d): %d bytes, %v", n, off, got, err)
		}
	}
	if _, created, _ := ps.get("s/c1/p1", "s", "c1", fill); created || fills != 1 {
		t.Fatalf("the same play decrypted again (%d fills)", fills)
	}
	if _, _, err := ps.get("s/c1/p1", "s", "c2", fill); err == nil {
		t.Fatal("a play id reused for another call was served")
	}
}

// TestPlaysAreBoundedAndExpire: a session keeps at most its allowance of
// plays, and an idle play is dropped.
func TestPlaysAreBoundedAndExpire(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ps := newPlays(func() time.Time { return now })
	defer ps.Close()
	fill := func(w io.Writer) error { _, err := w.Write([]byte("wav")); return err }
	for i := range MaxPlaysPerSession + 2 {
		now = now.Add(time.Second)
		ps.get("s/c/p"+string(rune('a'+i)), "s", "c", fill)
	}
	if len(ps.m) != MaxPlaysPerSession {
		t.Fatalf("%d plays live for one session, want %d", len(ps.m), MaxPlaysPerSession)
	}
	now = now.Add(PlayIdle)
	ps.get("t/c/x", "t", "c", fill)
	if len(ps.m) != 1 {
		t.Fatalf("%d plays after %v idle, want only the new one", len(ps.m), PlayIdle)
	}
}
