package trend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
)

// encodingVersion is the first byte of an encoded Bucket.
const encodingVersion = 1

// ErrCorrupt says an encoded bucket cannot be read.
var ErrCorrupt = errors.New("trend: corrupt bucket")

// MarshalBinary encodes b compactly (the store keeps a bucket per officer
// and week; a team's trends decode a few hundred): a version byte, then
// varints and little-endian float64s, maps in key order so that equal
// buckets encode equally.
func (b *Bucket) MarshalBinary() ([]byte, error) {
	p := []byte{encodingVersion}
	p = binary.AppendUvarint(p, uint64(b.Scores))
	p = appendSum(p, b.Totals)
	crit := make([]Criterion, 0, len(b.Criteria))
	for k := range b.Criteria {
		crit = append(crit, k)
	}
	sort.Slice(crit, func(i, j int) bool {
		a, c := crit[i], crit[j]
		if a.Scorecard != c.Scorecard {
			return a.Scorecard < c.Scorecard
		}
		if a.Version != c.Version {
			return a.Version < c.Version
		}
		return a.ID < c.ID
	})
	p = binary.AppendUvarint(p, uint64(len(crit)))
	for _, k := range crit {
		p = appendString(p, k.Scorecard)
		p = binary.AppendUvarint(p, uint64(k.Version))
		p = appendString(p, k.ID)
		p = appendSum(p, b.Criteria[k])
	}
	names := make([]string, 0, len(b.Measures))
	for name := range b.Measures {
		names = append(names, name)
	}
	sort.Strings(names)
	p = binary.AppendUvarint(p, uint64(len(names)))
	for _, name := range names {
		h := b.Measures[name]
		p = appendString(p, name)
		keys := h.keys()
		p = binary.AppendUvarint(p, uint64(len(keys)))
		last := int64(0)
		for _, k := range keys {
			p = binary.AppendVarint(p, k-last)
			last = k
			v := h.bins[k]
			p = binary.AppendUvarint(p, uint64(v.n))
			p = binary.LittleEndian.AppendUint64(p, math.Float64bits(v.sum))
		}
	}
	return p, nil
}

func appendSum(p []byte, s Sum) []byte {
	p = binary.AppendUvarint(p, uint64(s.N))
	return binary.LittleEndian.AppendUint64(p, math.Float64bits(s.Sum))
}

func appendString(p []byte, s string) []byte {
	p = binary.AppendUvarint(p, uint64(len(s)))
	return append(p, s...)
}

// UnmarshalBinary decodes what MarshalBinary encoded into b, replacing
// what b held.
func (b *Bucket) UnmarshalBinary(p []byte) error {
	d := decoder{p: p}
	if v := d.byte(); v != encodingVersion && d.err == nil {
		return fmt.Errorf("%w: version %d", ErrCorrupt, v)
	}
	*b = Bucket{Scores: int64(d.uvarint())}
	b.Totals = d.sum()
	for n := d.count(); n > 0 && d.err == nil; n-- {
		k := Criterion{Scorecard: d.string(), Version: int(d.uvarint()), ID: d.string()}
		if b.Criteria == nil {
			b.Criteria = map[Criterion]Sum{}
		}
		b.Criteria[k] = d.sum()
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		h := b.histogram(d.string())
		bins := d.count()
		h.bins = make(map[int64]bin, bins)
		last := int64(0)
		for ; bins > 0 && d.err == nil; bins-- {
			last += d.varint()
			h.bins[last] = bin{n: int64(d.uvarint()), sum: d.float()}
		}
	}
	if d.err == nil && d.at != len(p) {
		d.err = fmt.Errorf("%w: %d bytes after the end", ErrCorrupt, len(p)-d.at)
	}
	return d.err
}

// decoder reads an encoded bucket, keeping the first error.
type decoder struct {
	p   []byte
	at  int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, what, d.at)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || d.at >= len(d.p) {
		d.fail("short")
		return 0
	}
	d.at++
	return d.p[d.at-1]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p[d.at:])
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.at += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.p[d.at:])
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.at += n
	return v
}

// count is a length that cannot be more than the bytes left.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.p)-d.at) {
		d.fail("count beyond the end")
		return 0
	}
	return int(n)
}

func (d *decoder) float() float64 {
	if d.err != nil || len(d.p)-d.at < 8 {
		d.fail("short")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.p[d.at:]))
	d.at += 8
	return v
}

func (d *decoder) sum() Sum { return Sum{N: int64(d.uvarint()), Sum: d.float()} }

func (d *decoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.p[d.at : d.at+n])
	d.at += n
	return s
}
