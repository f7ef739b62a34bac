package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// chart is a line chart the server draws as SVG: no script, no style
// attribute (the page's Content-Security-Policy), a <title> on each point
// and the same numbers in a table beside it for those who cannot see it.
type chart struct {
	Title  string
	Labels []string
	// Values has one per label; nil is a week with nothing to show (the
	// line breaks there).
	Values []*float64
	// Max is the top of the scale (100 for a percentage); 0: the largest
	// value, rounded up.
	Max  float64
	Unit string
}

// Chart dimensions, in SVG user units.
const (
	chartW, chartH          = 640, 180
	chartLeft, chartRight   = 48, 28
	chartTop, chartBottom   = 24, 36
	chartPlotW, chartPlotH  = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartColour, chartMuted = "#1f5fa8", "#767676"
)

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// SVG draws the chart.
func (c chart) SVG() template.HTML {
	top := c.Max
	if top <= 0 {
		for _, v := range c.Values {
			if v != nil && *v > top {
				top = *v
			}
		}
		top = niceMax(top)
	}
	n := len(c.Values)
	x := func(i int) float64 {
		if n <= 1 {
			return chartLeft + chartPlotW/2
		}
		return chartLeft + float64(i)*chartPlotW/float64(n-1)
	}
	y := func(v float64) float64 { return chartTop + chartPlotH - math.Min(v, top)/top*chartPlotH }
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, esc(c.Title+" by week; the numbers are in the table below"))
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="13" fill="#000">%s</text>`, chartLeft, esc(c.Title))
	for k := 0; k <= 4; k++ {
		v := top * float64(k) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, chartLeft, chartW-chartRight, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="%s">%s</text>`, chartLeft-6, y(v)+4, chartMuted, esc(strings.TrimSpace(fmt.Sprintf("%g %s", v, c.Unit))))
	}
	every := max(1, (n+7)/8) // at most about eight labels
	for i, l := range c.Labels {
		if i%every == 0 || i == n-1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="%s">%s</text>`, x(i), chartH-12, chartMuted, esc(l))
		}
	}
	var seg []string
	flush := func() {
		if len(seg) > 1 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, chartColour, strings.Join(seg, " "))
		}
		seg = seg[:0]
	}
	for i, v := range c.Values {
		if v == nil {
			flush()
			continue
		}
		seg = append(seg, fmt.Sprintf("%.1f,%.1f", x(i), y(*v)))
	}
	flush()
	for i, v := range c.Values {
		if v == nil {
			continue
		}
		label := ""
		if i < len(c.Labels) {
			label = c.Labels[i]
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s</title></circle>`, x(i), y(*v), chartColour,
			esc(label), esc(strings.TrimSpace(fmt.Sprintf("%.1f %s", *v, c.Unit))))
	}
	b.WriteString(`</svg>`)
	// Every piece of text in it was escaped above; the numbers are ours.
	return template.HTML(b.String())
}
