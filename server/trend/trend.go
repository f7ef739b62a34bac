// Package trend holds what the score trends count: the one score per call
// and scorecard that counts (Pick), and one officer's week of them as a
// Bucket that merges with other officers' and other weeks' buckets. The
// store keeps a bucket per officer and week, so that a team's trends read
// a few hundred buckets, not a hundred thousand scores.
package trend

import (
	"math"
	"sort"

	"github.com/callguard/callguard/server"
)

// Pick keeps the one score per call and scorecard that trends count: its
// latest completed evaluation if it has one, else its automatic score (of
// scores that are not superseded: the caller's filter leaves those out).
// The result is in the order of the scores' ids.
func Pick(scores []server.Score) []server.Score {
	best := map[string]server.Score{}
	better := func(a, b server.Score) bool { // a over b
		switch {
		case (a.Completed != nil) != (b.Completed != nil):
			return a.Completed != nil
		case a.Completed != nil:
			return a.Completed.After(*b.Completed) || (a.Completed.Equal(*b.Completed) && a.ID > b.ID)
		}
		return a.ID > b.ID
	}
	for _, s := range scores {
		k := s.CallID + "\x00" + s.ScorecardID
		if cur, ok := best[k]; !ok || better(s, cur) {
			best[k] = s
		}
	}
	out := make([]server.Score, 0, len(best))
	for _, s := range best {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Criterion names a criterion of one scorecard version.
type Criterion struct {
	Scorecard string
	Version   int
	ID        string
}

// Sum is a count and a sum, for a mean.
type Sum struct {
	N   int64
	Sum float64
}

// Add counts v.
func (s *Sum) Add(v float64) { s.N++; s.Sum += v }

// Mean is the mean of what was added, nil if nothing was.
func (s Sum) Mean() *float64 {
	if s.N == 0 {
		return nil
	}
	m := s.Sum / float64(s.N)
	return &m
}

// Bucket is what the trends count of a set of picked scores (an officer's
// week, or a team's): how many, their totals, each criterion's points and
// each measure's values. Buckets merge exactly, but for the medians, whose
// error RelativeError bounds.
type Bucket struct {
	Scores int64
	// Totals are the totals of the scores that counted.
	Totals Sum
	// Criteria are the points (0–100) of each criterion that counted.
	Criteria map[Criterion]Sum
	// Measures are the values of each measure, by name.
	Measures map[string]*Histogram
}

// Add counts one picked score.
func (b *Bucket) Add(s server.Score) {
	b.Scores++
	sum := s.Summary
	if sum.Counted {
		b.Totals.Add(sum.Total)
	}
	for id, v := range sum.Criteria {
		if b.Criteria == nil {
			b.Criteria = map[Criterion]Sum{}
		}
		k := Criterion{s.ScorecardID, s.ScorecardVersion, id}
		c := b.Criteria[k]
		c.Add(v)
		b.Criteria[k] = c
	}
	for name, v := range sum.Measures {
		b.histogram(name).Add(v)
	}
}

// Merge adds o's counts to b's.
func (b *Bucket) Merge(o *Bucket) {
	b.Scores += o.Scores
	b.Totals.N += o.Totals.N
	b.Totals.Sum += o.Totals.Sum
	for k, v := range o.Criteria {
		if b.Criteria == nil {
			b.Criteria = map[Criterion]Sum{}
		}
		c := b.Criteria[k]
		c.N += v.N
		c.Sum += v.Sum
		b.Criteria[k] = c
	}
	for name, h := range o.Measures {
		b.histogram(name).Merge(h)
	}
}

func (b *Bucket) histogram(name string) *Histogram {
	if b.Measures == nil {
		b.Measures = map[string]*Histogram{}
	}
	h := b.Measures[name]
	if h == nil {
		h = &Histogram{}
		b.Measures[name] = h
	}
	return h
}

// RelativeError bounds the error of a Histogram's median: each of its
// bins holds values within a factor of 1+RelativeError of each other and
// answers for them with their mean, so a median is within RelativeError
// of the true one (and exact when the values of each bin are equal, as
// counts and whole seconds mostly are).
const RelativeError = 0.02

// Histogram counts values in log-scale bins, for medians that merge.
type Histogram struct {
	bins map[int64]bin
}

type bin struct {
	n   int64
	sum float64
}

// binOffset keeps every positive value's bin above 0 (zero's) and every
// negative value's below: float64's range is ±37,600 bins at 2 %.
const binOffset = 1 << 20

var logBase = math.Log1p(RelativeError)

// binOf is v's bin: bins order as their values do.
func binOf(v float64) int64 {
	switch {
	case v == 0:
		return 0
	case v < 0:
		return -binOf(-v)
	}
	return int64(math.Floor(math.Log(v)/logBase)) + binOffset
}

// Add counts v. A value that is not a number, or infinite, is left out.
func (h *Histogram) Add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if h.bins == nil {
		h.bins = map[int64]bin{}
	}
	k := binOf(v)
	b := h.bins[k]
	b.n++
	b.sum += v
	h.bins[k] = b
}

// Merge adds o's counts to h's.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil {
		return
	}
	if h.bins == nil {
		h.bins = make(map[int64]bin, len(o.bins))
	}
	for k, v := range o.bins {
		b := h.bins[k]
		b.n += v.n
		b.sum += v.sum
		h.bins[k] = b
	}
}

// Count is how many values were added.
func (h *Histogram) Count() int64 {
	var n int64
	for _, b := range h.bins {
		n += b.n
	}
	return n
}

// Median is the values' median within RelativeError, nil if there are
// none: the middle value, or the mean of the middle two, each answered by
// its bin's mean.
func (h *Histogram) Median() *float64 {
	n := h.Count()
	if n == 0 {
		return nil
	}
	keys := h.keys()
	at := func(rank int64) float64 { // the rank-th value, from 0
		for _, k := range keys {
			b := h.bins[k]
			if rank < b.n {
				return b.sum / float64(b.n)
			}
			rank -= b.n
		}
		panic("trend: rank beyond the histogram")
	}
	m := at(n / 2)
	if n%2 == 0 {
		m = (at(n/2-1) + m) / 2
	}
	return &m
}

func (h *Histogram) keys() []int64 {
	keys := make([]int64, 0, len(h.bins))
	for k := range h.bins {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
