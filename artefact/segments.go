package artefact

import (
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// A recording's audio file is a sequence of one or more segments, each of
// them a complete age file (age-encryption.org/v1) to the same recipients,
// written one after the other with nothing between them. The plaintext of
// the recording is the concatenation of the segments' plaintexts. A WAV
// recording, and an Opus recording made before segments, is one segment;
// an Opus recording is cut into a segment every second of audio
// (docs/recording.md, "Segments"), so a crash loses at most the segment
// being written.
//
// The format delimits itself. Each segment starts with the line
// "age-encryption.org/v1\n" and its header, then the 16-byte nonce and
// age's STREAM chunks: every chunk but the last is exactly AgeChunk bytes
// (64 KiB of plaintext and a 16-byte tag), and the last chunk (marked final
// inside its AEAD nonce) ends where the next segment's
// "age-encryption.org/v1\n" begins, or at the end of the file. The reader
// tries each place where the magic line starts (and the end of the file)
// as the end of the final chunk, and the AEAD decides: a match of the magic
// inside ciphertext by chance fails authentication and the search goes on.
// Nothing is returned before it authenticated, so a file cut anywhere
// reads as the longest prefix of whole chunks that authenticate.
//
// Integrity of the whole file (no segment dropped or swapped) is not the
// segments' job: anyone with the public key can write a valid age file, so
// the manifest's sha256_encrypted and sha256_plaintext vouch for it, and
// the Ogg stream's page sequence numbers show a gap.

// ageMagic begins every segment.
const ageMagic = "age-encryption.org/v1\n"

const (
	// maxHeader bounds a segment's age header; one recipient takes about
	// 100 bytes.
	maxHeader = 64 << 10
	// maxFalseEnds is how many places that look like a segment's end (the
	// magic inside ciphertext) the reader tries in one chunk before it
	// takes it for a full chunk or gives up: by chance the magic occurs
	// once in 2^176 places, so more than a few means a crafted file, and
	// each try costs a chunk's AEAD.
	maxFalseEnds = 16
	streamNonce  = 16
	tagSize      = chacha20poly1305.Overhead
)

// ErrSegmentCut: the file ends, or stops authenticating, inside a segment.
var ErrSegmentCut = errors.New("artefact: the encrypted audio is cut short inside a segment")

// segmentReader reads the plaintext of a segmented recording (any age
// file, segmented or not) from its ciphertext. Read returns only
// authenticated plaintext; an error other than io.EOF means the file was
// cut short or damaged at that point.
type segmentReader struct {
	src        lookahead
	identities []age.Identity
	keys       map[[32]byte][]byte

	aead  cipher.AEAD // nil between segments
	nonce [chacha20poly1305.NonceSize]byte
	chunk int64 // index of the next chunk in the segment

	plain []byte // authenticated, not read yet
	out   []byte
	err   error

	segments int   // complete segments read
	consumed int64 // ciphertext bytes authenticated (headers included)
	header   int64 // the segment's header, counted once a chunk authenticates
}

// newSegmentReader reads the first segment's header from src and opens
// it with identities; errors here mean the file is not a recording to
// these identities at all.
//
// keys, when not nil, remembers the file key of each header opened, by the
// header's SHA-256, so that a second pass over the same file (Decrypt reads
// it twice) needs no X25519 key agreement per segment: the header is byte
// for byte one whose MAC that key already verified.
func newSegmentReader(src io.Reader, identities []age.Identity, keys map[[32]byte][]byte) (*segmentReader, error) {
	r := &segmentReader{src: lookahead{r: src, buf: make([]byte, 4*AgeChunk)}, identities: identities, keys: keys}
	if err := r.startSegment(); err != nil {
		return nil, err
	}
	return r, nil
}

// Read implements io.Reader.
func (r *segmentReader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.next()
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// next authenticates the next chunk, starting the next segment first when
// the last one ended. It returns io.EOF at the end of the last segment.
func (r *segmentReader) next() error {
	if r.aead == nil {
		if len(r.src.peek(1)) == 0 {
			if r.src.err != nil && r.src.err != io.EOF {
				return fmt.Errorf("read: %w", r.src.err)
			}
			return io.EOF
		}
		if err := r.startSegment(); err != nil {
			return fmt.Errorf("%w: segment %d: %v", ErrSegmentCut, r.segments+1, err)
		}
	}
	return r.readChunk()
}

// startSegment parses and opens the age header at the reader's position
// and reads the stream nonce.
func (r *segmentReader) startSegment() error {
	head := r.src.peek(maxHeader)
	if !bytes.HasPrefix(head, []byte(ageMagic)) {
		if r.src.err != nil && r.src.err != io.EOF {
			return fmt.Errorf("read: %w", r.src.err)
		}
		return errors.New("no age header")
	}
	// The MAC line ends the header; stanza lines are "-> …" or base64,
	// so the first "\n--- " is it.
	i := bytes.Index(head, []byte("\n--- "))
	if i < 0 {
		return errors.New("age header not terminated")
	}
	j := bytes.IndexByte(head[i+1:], '\n')
	if j < 0 {
		return errors.New("age header not terminated")
	}
	hlen := i + 1 + j + 1
	if len(head) < hlen+streamNonce {
		return errors.New("cut short in its header")
	}
	sum := sha256.Sum256(head[:hlen])
	fileKey, ok := r.keys[sum]
	if !ok {
		var err error
		if fileKey, err = age.DecryptHeader(head[:hlen], r.identities...); err != nil {
			var noMatch *age.NoIdentityMatchError
			if errors.As(err, &noMatch) {
				return errors.New("none of the identities given can open it (wrong key file?)")
			}
			return err
		}
		if r.keys != nil {
			r.keys[sum] = fileKey
		}
	}
	key, err := hkdf.Key(sha256.New, fileKey, head[hlen:hlen+streamNonce], "payload", chacha20poly1305.KeySize)
	if err != nil {
		return fmt.Errorf("payload key: %w", err)
	}
	if r.aead, err = chacha20poly1305.New(key); err != nil {
		return fmt.Errorf("payload key: %w", err)
	}
	r.nonce, r.chunk = [chacha20poly1305.NonceSize]byte{}, 0
	r.src.discard(hlen + streamNonce)
	r.header = int64(hlen + streamNonce)
	return nil
}

// readChunk authenticates the segment's next chunk: first as its final
// chunk ending at each place the next segment may begin (where the magic
// line starts, or the end of the file), then as a full chunk with more to
// follow.
func (r *segmentReader) readChunk() error {
	buf := r.src.peek(AgeChunk + len(ageMagic))
	atEOF := r.src.err == io.EOF
	if r.src.err != nil && !atEOF && len(buf) < AgeChunk+len(ageMagic) {
		return fmt.Errorf("read: %w", r.src.err)
	}
	// The last chunk holds at least one byte of plaintext, unless it is
	// the only one (an empty segment).
	first := tagSize + 1
	if r.chunk == 0 {
		first = tagSize
	}
	limit := min(len(buf), AgeChunk) // where a final chunk ends at the latest
	tries := 0
	for from := first; from <= limit; tries++ {
		if tries == maxFalseEnds {
			break // a crafted file: it may still be a full chunk
		}
		end := -1
		if k := bytes.Index(buf[from:], []byte(ageMagic)); k >= 0 {
			end = from + k
		} else if atEOF {
			end = len(buf) // the end of the file
			if k := partialMagic(buf, from); k >= 0 {
				end = k // or the file was cut inside the next segment's magic
			}
		}
		if end < 0 || end > limit {
			break
		}
		if r.open(buf[:end], true) {
			r.aead = nil
			r.segments++
			return nil
		}
		from = end + 1
	}
	if len(buf) >= AgeChunk && r.open(buf[:AgeChunk], false) {
		r.chunk++
		return nil
	}
	if len(buf) < AgeChunk && atEOF {
		return fmt.Errorf("%w: segment %d ends %d bytes into chunk %d, before its last chunk", ErrSegmentCut, r.segments+1, len(buf), r.chunk)
	}
	return fmt.Errorf("%w: chunk %d of segment %d does not authenticate", ErrSegmentCut, r.chunk, r.segments+1)
}

// partialMagic is where, from from on, buf ends in the start of the
// magic line, or -1.
func partialMagic(buf []byte, from int) int {
	for q := max(from, len(buf)-len(ageMagic)+1); q < len(buf); q++ {
		if bytes.HasPrefix([]byte(ageMagic), buf[q:]) {
			return q
		}
	}
	return -1
}

// open decrypts ct as the segment's next chunk and, when it authenticates,
// makes its plaintext the next to read and consumes it from the source.
func (r *segmentReader) open(ct []byte, last bool) bool {
	n := r.nonce
	putChunkNonce(&n, r.chunk, last)
	out, err := r.aead.Open(r.out[:0], n[:], ct, nil)
	if err != nil {
		return false
	}
	r.out, r.plain = out, out
	r.src.discard(len(ct))
	r.consumed += r.header + int64(len(ct))
	r.header = 0
	return true
}

// putChunkNonce is age's STREAM nonce: an 11-byte big-endian chunk
// counter and a last-chunk flag.
func putChunkNonce(n *[chacha20poly1305.NonceSize]byte, chunk int64, last bool) {
	*n = [chacha20poly1305.NonceSize]byte{}
	for i := 10; i >= 3; i-- {
		n[i] = byte(chunk)
		chunk >>= 8
	}
	if last {
		n[11] = 1
	}
}

// lookahead buffers a reader so that the next bytes can be looked at
// before they are consumed.
type lookahead struct {
	r          io.Reader
	buf        []byte
	start, end int
	err        error // the reader's, once it gave one
}

// peek returns up to n unconsumed bytes (n at most len(buf)), fewer only
// when the reader has ended or failed (err).
func (l *lookahead) peek(n int) []byte {
	if l.end-l.start < n && l.start+n > len(l.buf) {
		l.end = copy(l.buf, l.buf[l.start:l.end])
		l.start = 0
	}
	for l.end-l.start < n && l.err == nil {
		k, err := l.r.Read(l.buf[l.end:])
		l.end += k
		if err != nil {
			l.err = err
		}
	}
	return l.buf[l.start:min(l.end, l.start+n)]
}

// discard consumes n bytes that peek returned.
func (l *lookahead) discard(n int) { l.start += n }
