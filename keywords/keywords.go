package keywords

/*
#cgo pkg-config: pocketsphinx
#include <stdlib.h>
#include <pocketsphinx.h>

// newConfig wraps the variadic cmd_ln_init, which cgo cannot call.
static cmd_ln_t *newConfig(const char *hmm, const char *dict) {
	return cmd_ln_init(NULL, ps_args(), TRUE,
		"-hmm", hmm, "-dict", dict, "-logfn", "/dev/null", NULL);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"
)

// SampleRate is the rate of the audio a Spotter takes: 16 kHz mono.
const SampleRate = 16000

// DefaultModel is where Debian's pocketsphinx-en-us puts its model.
const DefaultModel = "/usr/share/pocketsphinx/model/en-us"

// DefaultThreshold is the keyword search's detection threshold used where a
// phrase names none: lower finds more phrases and more false alarms.
const DefaultThreshold = 1e-30

// DefaultEnabled says whether keyword criteria are on by default. They are
// not: measured recall is far below the 80 % the issue asks for (see
// TestKeywordSpottingMeasured and docs/supervisors.md).
const DefaultEnabled = false

// Phrase is one keyphrase to spot: lower-case English words of the model's
// dictionary, and its threshold (0: DefaultThreshold).
type Phrase struct {
	Text      string
	Threshold float64
}

// Hit is one phrase heard, in milliseconds from the audio's start.
type Hit struct {
	Phrase string
	FromMS int64
	ToMS   int64
}

// Spotter finds keyphrases. It is not safe for concurrent use.
type Spotter struct {
	cfg *C.cmd_ln_t
	ps  *C.ps_decoder_t
}

// New loads the acoustic model and dictionary under model (DefaultModel if
// "") and prepares a search for phrases. A word the dictionary does not
// know is an error that names it.
func New(model string, phrases []Phrase) (*Spotter, error) {
	if model == "" {
		model = DefaultModel
	}
	if len(phrases) == 0 {
		return nil, errors.New("keywords: no phrase to spot")
	}
	dictPath := filepath.Join(model, "cmudict-en-us.dict")
	known, err := dictionary(dictPath)
	if err != nil {
		return nil, err
	}
	var keyfile strings.Builder
	for _, p := range phrases {
		words := strings.Fields(strings.ToLower(p.Text))
		if len(words) == 0 {
			return nil, errors.New("keywords: an empty phrase")
		}
		for _, w := range words {
			if !known[w] {
				return nil, fmt.Errorf("keywords: %q in %q is not a word the speech model knows", w, p.Text)
			}
		}
		th := p.Threshold
		if th == 0 {
			th = DefaultThreshold
		}
		fmt.Fprintf(&keyfile, "%s /%g/\n", strings.Join(words, " "), th)
	}
	hmm := C.CString(filepath.Join(model, "en-us"))
	defer C.free(unsafe.Pointer(hmm))
	dict := C.CString(dictPath)
	defer C.free(unsafe.Pointer(dict))
	s := &Spotter{cfg: C.newConfig(hmm, dict)}
	if s.cfg == nil {
		return nil, fmt.Errorf("keywords: cannot configure the speech model at %s", model)
	}
	if s.ps = C.ps_init(s.cfg); s.ps == nil {
		s.Close()
		return nil, fmt.Errorf("keywords: cannot load the speech model at %s (is pocketsphinx-en-us installed?)", model)
	}
	// The search reads its phrases from a file; it holds phrase text only.
	f, err := os.CreateTemp("", "callguard-keyphrases-*")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("keywords: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(keyfile.String()); err != nil {
		f.Close()
		s.Close()
		return nil, fmt.Errorf("keywords: %w", err)
	}
	f.Close()
	name := C.CString("callguard")
	defer C.free(unsafe.Pointer(name))
	path := C.CString(f.Name())
	defer C.free(unsafe.Pointer(path))
	if C.ps_set_kws(s.ps, name, path) < 0 || C.ps_set_search(s.ps, name) < 0 {
		s.Close()
		return nil, errors.New("keywords: the speech model refused the phrases")
	}
	return s, nil
}

// Spot returns every phrase heard in pcm (16 kHz mono), in order.
func (s *Spotter) Spot(pcm []int16) ([]Hit, error) {
	if s.ps == nil {
		return nil, errors.New("keywords: spotter closed")
	}
	if C.ps_start_utt(s.ps) < 0 {
		return nil, errors.New("keywords: cannot start")
	}
	var hits []Hit
	// The search's frames restart at each utterance; offset keeps them on
	// the audio's clock.
	var offset int64
	const chunk = 2048
	for at := 0; at < len(pcm); at += chunk {
		end := min(at+chunk, len(pcm))
		if C.ps_process_raw(s.ps, (*C.int16)(unsafe.Pointer(&pcm[at])), C.size_t(end-at), 0, 0) < 0 {
			C.ps_end_utt(s.ps)
			return nil, errors.New("keywords: the decoder failed")
		}
		if C.ps_get_hyp(s.ps, nil) != nil {
			// A phrase was found: close the utterance to read its times
			// and start afresh, as pocketsphinx's own tools do.
			C.ps_end_utt(s.ps)
			hits = append(hits, s.segments(offset)...)
			offset = int64(end) * 1000 / SampleRate
			if C.ps_start_utt(s.ps) < 0 {
				return nil, errors.New("keywords: cannot restart")
			}
		}
	}
	C.ps_end_utt(s.ps)
	hits = append(hits, s.segments(offset)...)
	return hits, nil
}

// segments reads the finished utterance's phrases; a frame is 10 ms.
func (s *Spotter) segments(offsetMS int64) []Hit {
	var hits []Hit
	for seg := C.ps_seg_iter(s.ps); seg != nil; seg = C.ps_seg_next(seg) {
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		hits = append(hits, Hit{
			Phrase: strings.TrimSpace(C.GoString(C.ps_seg_word(seg))),
			FromMS: offsetMS + int64(sf)*10,
			ToMS:   offsetMS + int64(ef+1)*10,
		})
	}
	return hits
}

// Close frees the model.
func (s *Spotter) Close() {
	if s.ps != nil {
		C.ps_free(s.ps)
		s.ps = nil
	}
	if s.cfg != nil { // ps_init took its own reference
		C.cmd_ln_free_r(s.cfg)
		s.cfg = nil
	}
}

// dictionary reads the words the model can spot.
func dictionary(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keywords: the speech model's dictionary: %w (install pocketsphinx-en-us)", err)
	}
	words := make(map[string]bool, 140000)
	for _, line := range strings.Split(string(b), "\n") {
		if w, _, ok := strings.Cut(line, " "); ok {
			words[w] = true
		}
	}
	return words, nil
}
