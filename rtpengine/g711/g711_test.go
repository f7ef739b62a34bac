package g711

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestAgainstAudioop compares every code and a spread of linear values with
// CPython's audioop (testdata/audioop.txt), an independent implementation.
func TestAgainstAudioop(t *testing.T) {
	f, err := os.Open("testdata/audioop.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	decodes, encodes := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 || fields[0] == "#" {
			continue
		}
		n := make([]int, 3)
		for i := range n {
			if n[i], err = strconv.Atoi(fields[i+1]); err != nil {
				t.Fatal(err)
			}
		}
		switch fields[0] {
		case "decode":
			decodes++
			if a := DecodeALaw(byte(n[0])); int(a) != n[1] {
				t.Errorf("DecodeALaw(%#x) = %d, audioop %d", n[0], a, n[1])
			}
			if u := DecodeULaw(byte(n[0])); int(u) != n[2] {
				t.Errorf("DecodeULaw(%#x) = %d, audioop %d", n[0], u, n[2])
			}
		case "encode":
			encodes++
			if a := EncodeALaw(int16(n[0])); int(a) != n[1] {
				t.Errorf("EncodeALaw(%d) = %#x, audioop %#x", n[0], a, n[1])
			}
			if u := EncodeULaw(int16(n[0])); int(u) != n[2] {
				t.Errorf("EncodeULaw(%d) = %#x, audioop %#x", n[0], u, n[2])
			}
		}
	}
	if decodes != 256 || encodes < 600 {
		t.Fatalf("only %d decodes and %d encodes in testdata", decodes, encodes)
	}
}

func TestRoundTrip(t *testing.T) {
	for c := range 256 {
		if got := EncodeALaw(DecodeALaw(byte(c))); got != byte(c) {
			t.Errorf("A-law %#x → %d → %#x", c, DecodeALaw(byte(c)), got)
		}
		// µ-law has two zeros (0x7F and 0xFF); both decode to 0, which encodes as 0xFF.
		if c == 0x7F {
			continue
		}
		if got := EncodeULaw(DecodeULaw(byte(c))); got != byte(c) {
			t.Errorf("µ-law %#x → %d → %#x", c, DecodeULaw(byte(c)), got)
		}
	}
}

func TestSliceDecoders(t *testing.T) {
	src := []byte{0xD5, 0x55, 0xFF, 0x00}
	dst := make([]int16, 4)
	if n := DecodeALawTo(dst, src); n != 4 || dst[0] != 8 || dst[1] != -8 {
		t.Fatalf("A-law %v", dst)
	}
	if n := DecodeULawTo(dst, src); n != 4 || dst[2] != 0 || dst[3] != -32124 {
		t.Fatalf("µ-law %v", dst)
	}
}

func BenchmarkDecodeALaw(b *testing.B) {
	src := make([]byte, 160)
	for i := range src {
		src[i] = byte(i)
	}
	dst := make([]int16, 160)
	b.SetBytes(160)
	for b.Loop() {
		DecodeALawTo(dst, src)
	}
}
