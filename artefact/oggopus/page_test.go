package oggopus_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/callguard/callguard/artefact/oggopus"
)

// Pages libogg wrote (opusenc's) come out byte for byte the same when
// re-encoded, checksum included.
func TestPagesRoundTripWithLiboggsChecksums(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	pr := oggopus.NewPageReader(bytes.NewReader(stream))
	var again []byte
	pages := 0
	for {
		p, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		again = p.AppendTo(again)
		pages++
	}
	if pages < 5 {
		t.Fatalf("only %d pages in the sample", pages)
	}
	if !bytes.Equal(again, stream) {
		t.Fatal("re-encoding libogg's pages changed them (the checksum differs from Ogg's)")
	}
}

// A single-byte change anywhere in a stream (every 11th byte tried) is
// caught: the page that holds it is never returned, and the pages before
// it are.
func TestEveryChangedByteIsCaught(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	pages := pagesOf(t, stream)
	for pos := 0; pos < len(stream); pos += 11 {
		damaged := bytes.Clone(stream)
		damaged[pos] ^= 0x10
		var hit int
		for i, p := range pages {
			if pos >= p.Offset && pos < p.Offset+p.Size {
				hit = i
			}
		}
		pr := oggopus.NewPageReader(bytes.NewReader(damaged))
		for i := 0; ; i++ {
			off := int(pr.Offset())
			p, err := pr.Next()
			if i < hit {
				if err != nil {
					t.Fatalf("byte %d changed: page %d before it fails: %v", pos, i, err)
				}
				if got := p.AppendTo(nil); !bytes.Equal(got, stream[off:off+len(got)]) {
					t.Fatalf("byte %d changed: page %d before it differs", pos, i)
				}
				continue
			}
			if err == nil {
				t.Fatalf("byte %d (page %d) changed, and the page was read as valid", pos, hit)
			}
			if !errors.Is(err, oggopus.ErrCorrupt) && !errors.Is(err, oggopus.ErrTruncated) {
				t.Fatalf("byte %d changed: %v, want ErrCorrupt (or ErrTruncated where a size grew)", pos, err)
			}
			break
		}
	}
}

func TestPageReaderEnds(t *testing.T) {
	t.Parallel()
	stream := speech(t)
	for _, tc := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty input is a clean end", nil, io.EOF},
		{"a header cut short is truncated", stream[:20], oggopus.ErrTruncated},
		{"a body cut short is truncated", stream[:40], oggopus.ErrTruncated},
		{"bytes that are not a page are corrupt", []byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00"), oggopus.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oggopus.NewPageReader(bytes.NewReader(tc.input)).Next()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
