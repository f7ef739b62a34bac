package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Stretch is one closed stretch of a call in rtpengine's recording-dir:
// its pcap (pcaps/) and the metadata file rtpengine writes once the pcap
// is closed (metadata/).
type Stretch struct {
	PCAP     string // "" once the pcap was deleted and only its metadata is left
	Metadata string
}

// Recorded is what rtpengine's recording-dir holds of one call.
type Recorded struct {
	SIPCallID string
	Stretches []Stretch // closed, by name
	// Open says a stretch of the call is still being written (tmp/).
	Open bool
}

// Scan lists the calls of rtpengine's recording-dir dir (recording-method
// pcap): the closed stretches under metadata/, and whether a pcap of the
// call is still open under tmp/. rtpengine names each stretch
// <Call-ID>-<random>.pcap, the Call-ID escaped as in a URL ("@" is %40).
// A metadata file that names a pcap which is gone is a stretch already
// deleted but for its metadata (a collector that stopped in between).
func Scan(dir string) ([]Recorded, error) {
	calls := map[string]*Recorded{}
	get := func(id string) *Recorded {
		r := calls[id]
		if r == nil {
			r = &Recorded{SIPCallID: id}
			calls[id] = r
		}
		return r
	}
	metas, err := os.ReadDir(filepath.Join(dir, "metadata"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("collector: %w", err)
	}
	for _, e := range metas {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, "metadata", e.Name())
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("collector: %w", err)
		}
		first, _, _ := bytes.Cut(data, []byte("\n"))
		name := filepath.Base(string(bytes.TrimSpace(first)))
		id, ok := callIDOf(name)
		if !ok {
			continue // not a stretch's metadata
		}
		pcap := filepath.Join(dir, "pcaps", name)
		if _, err := os.Stat(pcap); err != nil {
			pcap = ""
		}
		r := get(id)
		r.Stretches = append(r.Stretches, Stretch{PCAP: pcap, Metadata: path})
	}
	open, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("collector: %w", err)
	}
	for _, e := range open {
		if id, ok := callIDOf(e.Name()); ok {
			get(id).Open = true
		}
	}
	out := make([]Recorded, 0, len(calls))
	for _, r := range calls {
		sort.Slice(r.Stretches, func(i, j int) bool { return r.Stretches[i].Metadata < r.Stretches[j].Metadata })
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SIPCallID < out[j].SIPCallID })
	return out, nil
}

// callIDOf returns the SIP Call-ID of a stretch's file name,
// <escaped Call-ID>-<random>.pcap.
func callIDOf(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, ".pcap")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(base, '-')
	if i <= 0 {
		return "", false
	}
	id, err := url.PathUnescape(base[:i])
	if err != nil || id == "" {
		return "", false
	}
	return id, true
}
