package main

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/fyne-io/oksvg"
	"github.com/srwiley/rasterx"
)

// The app icon is a navy shield (callguard guards the recording) carrying a
// white telephone handset: two flat colours and one bold shape, so it still
// reads at 16 px in a taskbar or a menu. The geometry is here, in a 100×100
// box; appIconSVG turns it into the SVG that every PNG, .ico and .icns is
// rendered from (and that Linux desktops scale themselves).
const (
	shieldFill  = "#16325C"
	handsetFill = "#FFFFFF"
	shieldPath  = "M15 6 H85 Q93 6 93 14 V46 C93 71 75 86 50 97 C25 86 7 71 7 46 V14 Q7 6 15 6 Z"
)

type pt struct{ x, y float64 }

func (p pt) add(q pt) pt        { return pt{p.x + q.x, p.y + q.y} }
func (p pt) scale(k float64) pt { return pt{p.x * k, p.y * k} }
func (p pt) norm() pt           { return p.scale(1 / math.Hypot(p.x, p.y)) }
func (p pt) perp() pt           { return pt{-p.y, p.x} }
func bezier(p [4]pt, t float64) pt {
	u := 1 - t
	return p[0].scale(u * u * u).add(p[1].scale(3 * u * u * t)).add(p[2].scale(3 * u * t * t)).add(p[3].scale(t * t * t))
}

// handset returns the handset's outlines: the handle, a band along a cubic
// curve, and the ear- and mouthpiece, rounded blocks across its ends.
func handset() [][]pt {
	var (
		ear   = pt{33, 28}
		mouth = pt{72, 66}
		curve = [4]pt{ear, {21, 52}, {48, 80}, mouth}
	)
	const (
		handleHalf = 7
		steps      = 48
	)
	// The band: one side out, the other back.
	var left, right []pt
	for i := 0; i <= steps; i++ {
		t := float64(i) / steps
		p := bezier(curve, t)
		d := bezier(curve, math.Min(t+1e-3, 1)).add(bezier(curve, math.Max(t-1e-3, 0)).scale(-1)).norm()
		left = append(left, p.add(d.perp().scale(handleHalf)))
		right = append(right, p.add(d.perp().scale(-handleHalf)))
	}
	band := left
	for i := len(right) - 1; i >= 0; i-- {
		band = append(band, right[i])
	}
	earDir := bezier(curve, 0).add(bezier(curve, 0.02).scale(-1)).norm()
	mouthDir := bezier(curve, 1).add(bezier(curve, 0.98).scale(-1)).norm()
	return [][]pt{
		band,
		// Each piece sits across the handle's end, pushed inwards (towards
		// the upper right), where a receiver meets the face.
		roundedBlock(ear.add(earDir.perp().scale(-3)), earDir.perp(), 24, 16, 6),
		roundedBlock(mouth.add(mouthDir.perp().scale(3)), mouthDir.perp(), 24, 16, 6),
	}
}

// roundedBlock outlines a rectangle centred at c, long along dir, with
// rounded corners of radius r.
func roundedBlock(c, dir pt, long, short, r float64) []pt {
	dir = dir.norm()
	across := dir.perp()
	var out []pt
	// Corner centres, counter-clockwise, each with the angle its arc starts at.
	hx, hy := long/2-r, short/2-r
	corners := []struct{ x, y, a float64 }{{hx, hy, 0}, {-hx, hy, 90}, {-hx, -hy, 180}, {hx, -hy, 270}}
	for _, k := range corners {
		for i := 0; i <= 6; i++ {
			a := (k.a + float64(i)*15) * math.Pi / 180
			lx, ly := k.x+r*math.Cos(a), k.y+r*math.Sin(a)
			out = append(out, c.add(dir.scale(lx)).add(across.scale(ly)))
		}
	}
	return out
}

func pathOf(poly []pt) string {
	var b strings.Builder
	for i, p := range poly {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&b, "%s%.2f %.2f ", cmd, p.x, p.y)
	}
	b.WriteString("Z")
	return b.String()
}

// appIconSVG returns the app icon as an SVG document.
func appIconSVG() []byte {
	var b bytes.Buffer
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 100 100">` + "\n")
	b.WriteString("  <!-- callguard's app icon, written by packaging/iconsgen (make icons): do not edit. -->\n")
	fmt.Fprintf(&b, "  <path fill=%q d=%q/>\n", shieldFill, shieldPath)
	for _, poly := range handset() {
		fmt.Fprintf(&b, "  <path fill=%q d=%q/>\n", handsetFill, pathOf(poly))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// renderSVG draws the SVG document src at size×size pixels.
func renderSVG(src []byte, size int) (*image.NRGBA, error) {
	icon, err := oksvg.ReadIconStream(bytes.NewReader(src), oksvg.StrictErrorMode)
	if err != nil {
		return nil, fmt.Errorf("parse svg: %w", err)
	}
	icon.SetTarget(0, 0, float64(size), float64(size))
	rgba := image.NewRGBA(image.Rect(0, 0, size, size))
	icon.Draw(rasterx.NewDasher(size, size, rasterx.NewScannerGV(size, size, rgba, rgba.Bounds())), 1)
	// PNG encoders and icon formats want straight, not premultiplied, alpha.
	out := image.NewNRGBA(rgba.Bounds())
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			out.Set(x, y, rgba.At(x, y))
		}
	}
	return out, nil
}
