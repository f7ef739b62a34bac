package store

import (
	"encoding/json"
	"strconv"

	"github.com/callguard/callguard/server"
)

// decodeSummary reads a score's summary column. The trends page reads one
// per scored call (thousands a request), and encoding/json's reflection on
// two maps was a third of its time, so the shape json.Marshal writes —
// {"counted":…,"total":…,"criteria":{…},"measures":{…}}, plain keys and
// numbers — is read by hand; anything else falls back to encoding/json.
func decodeSummary(b []byte) (server.ScoreSummary, error) {
	if s, ok := fastSummary(b); ok {
		return s, nil
	}
	var s server.ScoreSummary
	err := json.Unmarshal(b, &s)
	return s, err
}

// summaryReader walks a summary without allocating but for the maps.
type summaryReader struct {
	b  []byte
	at int
	ok bool
}

func (r *summaryReader) skipSpace() {
	for r.at < len(r.b) {
		switch r.b[r.at] {
		case ' ', '\n', '\t', '\r':
			r.at++
		default:
			return
		}
	}
}

// expect consumes c or fails.
func (r *summaryReader) expect(c byte) {
	r.skipSpace()
	if r.at < len(r.b) && r.b[r.at] == c {
		r.at++
		return
	}
	r.ok = false
}

// peek reports whether the next byte is c.
func (r *summaryReader) peek(c byte) bool {
	r.skipSpace()
	return r.at < len(r.b) && r.b[r.at] == c
}

// key reads a plain ASCII string without escapes, the only kind the
// fast path takes (ids and measure names are such).
func (r *summaryReader) key() string {
	r.expect('"')
	start := r.at
	for r.ok && r.at < len(r.b) {
		switch c := r.b[r.at]; {
		case c == '"':
			k := string(r.b[start:r.at])
			r.at++
			return k
		case c == '\\' || c < 0x20 || c >= 0x80: // escapes, control bytes, UTF-8: encoding/json's to read
			r.ok = false
		default:
			r.at++
		}
	}
	r.ok = false
	return ""
}

func (r *summaryReader) number() float64 {
	r.skipSpace()
	start := r.at
	for r.at < len(r.b) {
		c := r.b[r.at]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			r.at++
			continue
		}
		break
	}
	v, err := strconv.ParseFloat(string(r.b[start:r.at]), 64)
	if err != nil || start == r.at {
		r.ok = false
	}
	return v
}

func (r *summaryReader) boolean() bool {
	r.skipSpace()
	for _, w := range []string{"true", "false"} {
		if len(r.b)-r.at >= len(w) && string(r.b[r.at:r.at+len(w)]) == w {
			r.at += len(w)
			return w == "true"
		}
	}
	r.ok = false
	return false
}

// numbers reads an object of numbers.
func (r *summaryReader) numbers() map[string]float64 {
	r.expect('{')
	m := make(map[string]float64, 24)
	if r.peek('}') {
		r.at++
		return m
	}
	for r.ok {
		k := r.key()
		r.expect(':')
		m[k] = r.number()
		if r.peek(',') {
			r.at++
			continue
		}
		r.expect('}')
		break
	}
	return m
}

func fastSummary(b []byte) (server.ScoreSummary, bool) {
	var s server.ScoreSummary
	r := &summaryReader{b: b, ok: true}
	r.expect('{')
	if r.peek('}') {
		r.at++
	} else {
		for r.ok {
			switch r.key() {
			case "counted":
				r.expect(':')
				s.Counted = r.boolean()
			case "total":
				r.expect(':')
				s.Total = r.number()
			case "criteria":
				r.expect(':')
				s.Criteria = r.numbers()
			case "measures":
				r.expect(':')
				s.Measures = r.numbers()
			default:
				return s, false // a field this reader does not know: encoding/json decides
			}
			if r.peek(',') {
				r.at++
				continue
			}
			r.expect('}')
			break
		}
	}
	r.skipSpace()
	return s, r.ok && r.at == len(r.b)
}
