package scoring

import "github.com/callguard/callguard/artefact"

// Span lists here are sorted, disjoint and of positive length, as
// artefact.Voice.Spans returns them.

// total is the length of the spans in milliseconds.
func total(s []artefact.Span) int64 {
	var n int64
	for _, x := range s {
		n += x.ToMS - x.FromMS
	}
	return n
}

// intersect returns the stretches in both a and b, touching ones joined.
func intersect(a, b []artefact.Span) []artefact.Span {
	var out []artefact.Span
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		from, to := max(a[i].FromMS, b[j].FromMS), min(a[i].ToMS, b[j].ToMS)
		if from < to {
			out = appendJoined(out, artefact.Span{FromMS: from, ToMS: to})
		}
		if a[i].ToMS < b[j].ToMS {
			i++
		} else {
			j++
		}
	}
	return out
}

// union returns the stretches in a or b, touching ones joined.
func union(a, b []artefact.Span) []artefact.Span {
	out := make([]artefact.Span, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var next artefact.Span
		if j >= len(b) || (i < len(a) && a[i].FromMS <= b[j].FromMS) {
			next, i = a[i], i+1
		} else {
			next, j = b[j], j+1
		}
		out = appendJoined(out, next)
	}
	return out
}

// subtract returns the stretches of a not in b.
func subtract(a, b []artefact.Span) []artefact.Span {
	var out []artefact.Span
	j := 0
	for _, x := range a {
		from := x.FromMS
		for j < len(b) && b[j].ToMS <= from {
			j++
		}
		for k := j; k < len(b) && b[k].FromMS < x.ToMS; k++ {
			if b[k].FromMS > from {
				out = append(out, artefact.Span{FromMS: from, ToMS: b[k].FromMS})
			}
			from = max(from, b[k].ToMS)
		}
		if from < x.ToMS {
			out = append(out, artefact.Span{FromMS: from, ToMS: x.ToMS})
		}
	}
	return out
}

// appendJoined appends s, joined to the last span when they touch or
// overlap (s never starts before the last one does).
func appendJoined(out []artefact.Span, s artefact.Span) []artefact.Span {
	if n := len(out); n > 0 && s.FromMS <= out[n-1].ToMS {
		out[n-1].ToMS = max(out[n-1].ToMS, s.ToMS)
		return out
	}
	return append(out, s)
}

// normalise drops empty spans and joins touching or overlapping ones, of
// a list already in order of start.
func normalise(s []artefact.Span) []artefact.Span {
	var out []artefact.Span
	for _, x := range s {
		if x.ToMS > x.FromMS {
			out = appendJoined(out, x)
		}
	}
	return out
}
