package artefact

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// keyRecipient is an X25519 recipient that also keeps the file key of the
// last age file written to it, so a test can compute the keystream and
// craft ciphertext.
type keyRecipient struct {
	age.Recipient
	fileKey []byte
}

func (k *keyRecipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	k.fileKey = bytes.Clone(fileKey)
	return k.Recipient.Wrap(fileKey)
}

// layout is where each chunk of a segmented file ends, in the file and in
// the plaintext, so a test knows what a cut file must read as.
type layout struct {
	fileEnd, plainEnd []int64
	segmentEnds       []int64 // file offsets where a segment ends
}

// writeSegments writes plaintext pieces through a Writer, cutting a
// segment after each, and returns the file, the plaintext and its layout.
func writeSegments(t testing.TB, rcp age.Recipient, pieces ...[]byte) ([]byte, []byte, layout) {
	t.Helper()
	var file bytes.Buffer
	w, err := newStream(&file, []age.Recipient{rcp})
	if err != nil {
		t.Fatal(err)
	}
	var plain []byte
	var l layout
	for i, p := range pieces {
		if err := w.writePlain(p); err != nil {
			t.Fatal(err)
		}
		// The chunks of this segment: full ones, then the rest.
		headerEnd := int64(file.Len()) // age wrote the header and nonce at once
		if i == 0 {
			headerEnd = int64(bytes.Index(file.Bytes(), []byte("\n--- ")))
			headerEnd += int64(bytes.IndexByte(file.Bytes()[headerEnd+1:], '\n')) + 2 + streamNonce
		}
		_ = headerEnd
		if i < len(pieces)-1 {
			err = w.Cut()
		} else {
			err = w.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		plain = append(plain, p...)
	}
	// Walk the file as written to record the layout: each segment's header,
	// then its chunks, sized from the plaintext pieces.
	b := file.Bytes()
	var off, poff int64
	for _, p := range pieces {
		i := bytes.Index(b[off:], []byte("\n--- "))
		j := bytes.IndexByte(b[off+int64(i)+1:], '\n')
		off += int64(i+1+j+1) + streamNonce
		n := int64(len(p))
		for {
			k := min(n, PlainChunk)
			off += k + tagSize
			poff += k
			l.fileEnd = append(l.fileEnd, off)
			l.plainEnd = append(l.plainEnd, poff)
			n -= k
			if n == 0 {
				break
			}
		}
		l.segmentEnds = append(l.segmentEnds, off)
	}
	if off != int64(len(b)) {
		t.Fatalf("layout ends at %d, the file at %d", off, len(b))
	}
	return b, plain, l
}

func readSegments(src []byte, ids ...age.Identity) ([]byte, error) {
	r, err := newSegmentReader(bytes.NewReader(src), ids, nil)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// A file cut at any byte reads as the longest prefix of whole chunks that
// lie before the cut, and says it was cut unless the cut falls exactly
// where a segment ends; never more, never other bytes. The file has short
// segments, an empty one, one of two chunks and one whose last chunk is
// full, and plaintext full of the magic line.
func TestSegmentsCutAtEveryByte(t *testing.T) {
	t.Parallel()
	id, _ := age.GenerateX25519Identity()
	rng := rand.New(rand.NewPCG(3, 4))
	magicy := bytes.Repeat([]byte(ageMagic), 5)
	small, plainS, ls := writeSegments(t, id.Recipient(), randomBytes(rng, 40), magicy, randomBytes(rng, 1), randomBytes(rng, 300))
	big, plainB, lb := writeSegments(t, id.Recipient(), randomBytes(rng, 100), randomBytes(rng, PlainChunk+50), randomBytes(rng, PlainChunk), randomBytes(rng, 7))

	check := func(t *testing.T, file, plain []byte, l layout, cut int) {
		got, err := readSegments(file[:cut], id)
		want := int64(0)
		for i, e := range l.fileEnd {
			if e <= int64(cut) {
				want = l.plainEnd[i]
			}
		}
		if int64(len(got)) != want || !bytes.Equal(got, plain[:len(got)]) {
			t.Fatalf("cut at %d: read %d bytes (equal to the start: %v), want the first %d", cut, len(got), bytes.Equal(got, plain[:min(len(got), len(plain))]), want)
		}
		atEnd := false
		for _, e := range l.segmentEnds {
			atEnd = atEnd || e == int64(cut)
		}
		if atEnd != (err == nil) {
			t.Fatalf("cut at %d (a segment's end: %v): %v", cut, atEnd, err)
		}
		// Inside the first header and nonce the file does not open at all.
		firstHeader := l.fileEnd[0] - l.plainEnd[0] - tagSize
		if err != nil && int64(cut) >= firstHeader && !errors.Is(err, ErrSegmentCut) {
			t.Fatalf("cut at %d: %v, want ErrSegmentCut", cut, err)
		}
	}
	for cut := range len(small) + 1 {
		check(t, small, plainS, ls, cut)
	}
	// In the big file, every byte around each chunk's end and each
	// segment's start, and a stride elsewhere.
	cuts := map[int]bool{}
	for _, e := range lb.fileEnd {
		for d := -200; d <= 200; d++ {
			if c := int(e) + d; c >= 0 && c <= len(big) {
				cuts[c] = true
			}
		}
	}
	for c := 0; c <= len(big); c += 997 {
		cuts[c] = true
	}
	for c := range cuts {
		check(t, big, plainB, lb, c)
	}
	if len(lb.segmentEnds) != 4 || len(lb.fileEnd) != 5 {
		t.Fatalf("layout %+v", lb)
	}
}

// A segment cut off before its header ends, or whose header does not
// open, stops the read there; a file that does not open at all is an
// error at once.
func TestSegmentsRefuseWhatDoesNotOpen(t *testing.T) {
	t.Parallel()
	id, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	file, plain, l := writeSegments(t, id.Recipient(), []byte("one"), []byte("two"))
	if _, err := readSegments(file, other); err == nil {
		t.Fatal("read with the wrong key")
	}
	// A second segment to another key: the first is read, then the cut.
	f2, _, _ := writeSegments(t, other.Recipient(), []byte("xxx"))
	spliced := append(bytes.Clone(file[:l.segmentEnds[0]]), f2...)
	got, err := readSegments(spliced, id)
	if !errors.Is(err, ErrSegmentCut) || !bytes.Equal(got, plain[:3]) {
		t.Fatalf("read %q, %v", got, err)
	}
	// Garbage after the last segment: its final chunk would have to end
	// at the end of the file, and does not authenticate there.
	got, err = readSegments(append(bytes.Clone(file), "junk"...), id)
	if !errors.Is(err, ErrSegmentCut) || !bytes.Equal(got, plain[:3]) {
		t.Fatalf("read %q, %v", got, err)
	}
}

// The attack on the format: the magic line in the ciphertext of a chunk,
// before the chunk's real end. Whoever encrypts knows the keystream (anyone
// with the public key can write a recording), so here the plaintext is
// chosen to put it there: in a full chunk, twice in a final chunk, right
// after a full chunk's tag's start, and one byte after the start of a
// chunk. The file still reads exactly; and a chunk with more false ends
// than the reader tries still reads as the full chunk it is.
func TestSegmentsWithTheMagicInCiphertext(t *testing.T) {
	t.Parallel()
	id, _ := age.GenerateX25519Identity()
	rcp := &keyRecipient{Recipient: id.Recipient()}
	rng := rand.New(rand.NewPCG(5, 6))

	var file bytes.Buffer
	w, err := newStream(&file, []age.Recipient{rcp})
	if err != nil {
		t.Fatal(err)
	}
	var plain []byte
	// segment writes a segment whose chunks have the magic in their
	// ciphertext at the offsets given (per chunk, from the chunk's start).
	segment := func(sizes []int, at [][]int, last bool) {
		if err := w.writePlain(nil); err != nil { // the segment's header, to know its key
			t.Fatal(err)
		}
		nonce := file.Bytes()[file.Len()-streamNonce:]
		key, err := hkdf.Key(sha256.New, rcp.fileKey, nonce, "payload", chacha20poly1305.KeySize)
		if err != nil {
			t.Fatal(err)
		}
		aead, _ := chacha20poly1305.New(key)
		for c, size := range sizes {
			p := randomBytes(rng, size)
			var n [chacha20poly1305.NonceSize]byte
			putChunkNonce(&n, int64(c), c == len(sizes)-1)
			stream := aead.Seal(nil, n[:], make([]byte, size), nil) // the keystream, and a tag
			for _, q := range at[c] {
				for i := range len(ageMagic) {
					p[q+i] = ageMagic[i] ^ stream[q+i]
				}
			}
			if ct := aead.Seal(nil, n[:], p, nil); len(at[c]) > 0 && !bytes.Contains(ct, []byte(ageMagic)) {
				t.Fatal("the crafted chunk does not hold the magic")
			}
			if err := w.writePlain(p); err != nil {
				t.Fatal(err)
			}
			plain = append(plain, p...)
		}
		if last {
			err = w.Close()
		} else {
			err = w.Cut()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	many := make([]int, 0, 40)
	for q := 1; len(many) < 40; q += 1000 {
		many = append(many, q)
	}
	segment([]int{PlainChunk, 500}, [][]int{{0, 100, PlainChunk - len(ageMagic)}, {10, 300}}, false)
	segment([]int{200}, [][]int{{1}}, false)
	segment([]int{PlainChunk, 30}, [][]int{many, nil}, false)
	segment([]int{50}, [][]int{{28}}, true)
	if n := bytes.Count(file.Bytes(), []byte(ageMagic)); n < 4+3+2+1+40+1 {
		t.Fatalf("the file holds the magic %d times", n)
	}
	got, err := readSegments(file.Bytes(), id)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("read %d bytes of %d (equal: %v): %v", len(got), len(plain), bytes.Equal(got, plain), err)
	}
}

// FuzzSegmentReader: whatever the bytes after a valid first header, the
// reader never panics, and what it returns is authenticated: for a file
// made from a valid segmented one by changing bytes, it is a prefix of the
// original's plaintext.
func FuzzSegmentReader(f *testing.F) {
	id, _ := age.GenerateX25519Identity()
	rng := rand.New(rand.NewPCG(7, 8))
	file, plain, _ := writeSegments(f, id.Recipient(), randomBytes(rng, 40), []byte(ageMagic), randomBytes(rng, 300))
	f.Add(uint16(0), byte(0), uint16(len(file)))
	f.Add(uint16(200), byte(1), uint16(len(file)))
	f.Fuzz(func(t *testing.T, at uint16, xor byte, cut uint16) {
		b := bytes.Clone(file[:min(int(cut), len(file))])
		if int(at) < len(b) {
			b[at] ^= xor
		}
		got, _ := readSegments(b, id)
		if !bytes.HasPrefix(plain, got) {
			t.Fatalf("flipped byte %d by %#x, cut at %d: read %d bytes that are not the plaintext's start", at, xor, cut, len(got))
		}
	})
}
