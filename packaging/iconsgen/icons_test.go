package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/jackmordaunt/icns/v3"
	"github.com/sergeymakinen/go-ico"
)

// The committed app icons must be what the drawing code makes today, or the
// installers ship a stale icon. (The tray icons' drawings belong to ui/ and
// change with it; their exported copies are checked for presence only, in
// TestEveryStateHasATrayIcon.)
func TestCommittedAppIconsAreUpToDate(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "assets", "icons")
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasPrefix(n, "state-") {
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Errorf("%s: %v (run make icons)", n, err)
			continue
		}
		if !bytes.Equal(got, files[n]) {
			t.Errorf("assets/icons/%s differs from what packaging/iconsgen draws: run make icons and commit", n)
		}
	}
}

func TestIconFormatsCarryEverySize(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := ico.DecodeAll(bytes.NewReader(files["callguard.ico"]))
	if err != nil {
		t.Fatalf("callguard.ico: %v", err)
	}
	var sizes []int
	for _, m := range imgs {
		if b := m.Bounds(); b.Dx() != b.Dy() {
			t.Errorf("callguard.ico has a %v image", b.Size())
		}
		sizes = append(sizes, m.Bounds().Dx())
	}
	sort.Ints(sizes)
	if want := icoSizes; !equalInts(sizes, want) {
		t.Errorf("callguard.ico sizes %v, want %v", sizes, want)
	}
	mac, err := icns.DecodeAll(bytes.NewReader(files["callguard.icns"]))
	if err != nil {
		t.Fatalf("callguard.icns: %v", err)
	}
	largest := 0
	for _, m := range mac {
		largest = max(largest, m.Bounds().Dx())
	}
	if largest != 1024 {
		t.Errorf("callguard.icns's largest image is %d px, want 1024 for Retina", largest)
	}
}

// At 16 px the shield must still be a solid shape with a clearly lighter
// handset on it: enough opaque navy pixels and enough white ones.
func TestAppIconReadsAt16Pixels(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(files["callguard-16.png"]))
	if err != nil {
		t.Fatal(err)
	}
	var navy, white, clear int
	b := m.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := m.At(x, y).RGBA()
			switch {
			case a < 0x2000:
				clear++
			case a > 0xE000 && r > 0xC000 && g > 0xC000 && bl > 0xC000:
				white++
			case a > 0xE000 && bl < 0x8000 && r < 0x4000:
				navy++
			}
		}
	}
	if navy < 90 || white < 20 || clear < 20 {
		t.Errorf("16 px icon: %d navy, %d white, %d transparent pixels; want a solid shield (≥90), a visible handset (≥20) and a clear outline (≥20)", navy, white, clear)
	}
}

func TestEveryStateHasATrayIcon(t *testing.T) {
	for _, s := range []string{"idle", "ringing", "awaiting-notice", "recording", "paused", "declined", "excluded", "failed", "unconfirmed", "unknown"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "assets", "icons", "state-"+s+".png"))
		if err != nil {
			t.Errorf("no tray icon for %s: %v", s, err)
			continue
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != 64 || cfg.Height != 64 {
			t.Errorf("state-%s.png: %v, %dx%d; want a 64×64 PNG", s, err, cfg.Width, cfg.Height)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
