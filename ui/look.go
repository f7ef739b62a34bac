package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/callguard/callguard/app"
)

// look is how a recording state is shown: words first, then an icon shape,
// then colour, so no one has to tell red from amber to read the state.
type look struct {
	Headline string      // large words on the banner
	Detail   string      // what it means, in plain words
	BG, FG   color.NRGBA // banner background and text
	glyph    glyph
}

var looks = map[app.RecordingState]look{
	app.StateIdle:           {"NOT RECORDING", "No call", rgb(0x54, 0x6E, 0x7A), white, glyphRing},
	app.StateRinging:        {"NOT RECORDING", "Call ringing — nothing is recorded yet", rgb(0x15, 0x65, 0xC0), white, glyphRipple},
	app.StateAwaitingNotice: {"NOT YET RECORDING", "Read the notice, then press Notice read", rgb(0x6A, 0x1B, 0x9A), white, glyphBang},
	app.StateRecording:      {"RECORDING", "This call is being recorded", rgb(0xC6, 0x28, 0x28), white, glyphDisc},
	app.StatePaused:         {"PAUSED", "Nothing is recorded until you resume", rgb(0xFF, 0xB3, 0x00), black, glyphPause},
	app.StateDeclined:       {"NOT RECORDING", "The caller declined recording", rgb(0x37, 0x47, 0x4F), white, glyphSlash},
	app.StateExcluded:       {"NEVER RECORDED", "Policy: this call is not recorded", rgb(0x00, 0x69, 0x5C), white, glyphSlash},
	app.StateFailed:         {"RECORDING FAILED", "This call is NOT being recorded", rgb(0xAD, 0x14, 0x57), white, glyphTriangle},
	app.StateUnconfirmed:    {"NOT PAUSED", "Phone system may be recording", rgb(0xAD, 0x14, 0x57), white, glyphTriangle},
	app.StateUnknown:        {"STATE UNKNOWN", "callguard cannot tell whether this call is recorded", rgb(0xFF, 0xEB, 0x3B), black, glyphQuestion},
}

var (
	white = rgb(0xFF, 0xFF, 0xFF)
	black = rgb(0x00, 0x00, 0x00)
)

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{r, g, b, 0xFF} }

// lookOf returns how state is shown.
func lookOf(s app.RecordingState) look {
	if l, ok := looks[s]; ok {
		return l
	}
	return looks[app.StateUnknown]
}

// StateColour is the banner colour of state s (for tests that check a
// screenshot shows the right state).
func StateColour(s app.RecordingState) color.NRGBA { return lookOf(s).BG }

// glyph is the shape on a state's icon.
type glyph int

const (
	glyphRing glyph = iota
	glyphRipple
	glyphBang
	glyphDisc
	glyphPause
	glyphSlash
	glyphTriangle
	glyphQuestion
)

var (
	iconMu    sync.Mutex
	iconCache = map[app.RecordingState]fyne.Resource{}
)

// StateIcon returns the 64×64 PNG icon of a state, for the banner and the
// system tray. Icons are drawn in code from the same look as the banner, so
// the tray can never disagree with the window.
func StateIcon(s app.RecordingState) fyne.Resource {
	iconMu.Lock()
	defer iconMu.Unlock()
	if r, ok := iconCache[s]; ok {
		return r
	}
	l := lookOf(s)
	var buf bytes.Buffer
	png.Encode(&buf, drawIcon(l, 64))
	r := fyne.NewStaticResource("callguard-"+s.String()+".png", buf.Bytes())
	iconCache[s] = r
	return r
}

// drawIcon renders the glyph of l on a disc of its colour, size×size pixels,
// with 4×4 supersampling so it stays crisp at 16 px.
func drawIcon(l look, size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	bg, fg := l.BG, l.FG
	if l.glyph == glyphTriangle {
		bg, fg = l.FG, l.BG // a light warning triangle shows on any banner or tray
	}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var nb, nf int
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					// u, v in [-1, 1]
					u := (float64(x)+(float64(sx)+0.5)/ss)/float64(size)*2 - 1
					v := (float64(y)+(float64(sy)+0.5)/ss)/float64(size)*2 - 1
					inBase, inGlyph := shape(l.glyph, u, v)
					switch {
					case inGlyph:
						nf++
					case inBase:
						nb++
					}
				}
			}
			n := ss * ss
			img.SetNRGBA(x, y, blend(bg, fg, nb, nf, n))
		}
	}
	return img
}

func blend(bg, fg color.NRGBA, nb, nf, n int) color.NRGBA {
	a := nb + nf
	if a == 0 {
		return color.NRGBA{}
	}
	mix := func(b, f uint8) uint8 { return uint8((int(b)*nb + int(f)*nf) / a) }
	return color.NRGBA{mix(bg.R, fg.R), mix(bg.G, fg.G), mix(bg.B, fg.B), uint8(255 * a / n)}
}

// shape reports whether (u, v) is in the icon's base and in its glyph.
func shape(g glyph, u, v float64) (base, glyph bool) {
	r := math.Hypot(u, v)
	disc := r <= 0.96
	switch g {
	case glyphRing:
		return disc, r <= 0.55 && r >= 0.32
	case glyphRipple:
		return disc, r <= 0.18 || (r >= 0.38 && r <= 0.52)
	case glyphDisc:
		// A solid dot: the record sign.
		return disc, r <= 0.45
	case glyphPause:
		bar := math.Abs(v) <= 0.5 && (math.Abs(u+0.22) <= 0.11 || math.Abs(u-0.22) <= 0.11)
		return disc, bar
	case glyphSlash:
		return disc, math.Abs(u-v)/math.Sqrt2 <= 0.1 && r <= 0.7
	case glyphBang:
		return disc, (math.Abs(u) <= 0.1 && v >= -0.6 && v <= 0.2) || math.Hypot(u, v-0.45) <= 0.12
	case glyphTriangle:
		// Point up; the base spans the icon.
		inTri := v <= 0.85 && v >= -0.9 && math.Abs(u) <= (v+0.9)/1.75*1.0
		bang := (math.Abs(u) <= 0.09 && v >= -0.35 && v <= 0.35) || math.Hypot(u, v-0.6) <= 0.1
		return inTri, inTri && bang
	case glyphQuestion:
		// An arc over the top right, a stem, and a dot.
		arc := math.Abs(math.Hypot(u, v+0.25)-0.3) <= 0.1 && !(v > -0.25 && u < 0)
		stem := math.Abs(u) <= 0.1 && v >= -0.05 && v <= 0.25
		dot := math.Hypot(u, v-0.52) <= 0.12
		return disc, arc || stem || dot
	}
	return disc, false
}
