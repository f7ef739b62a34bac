// Command callguard-keywords is the keyword analyser: it decrypts one
// recording in memory with the organisation's key, listens to each channel
// for the phrases it is given, and prints what it heard and when, one JSON
// line per phrase heard. It never writes audio or a transcript anywhere.
//
// It is cgo (PocketSphinx and libopus) and runs apart from the cgo-free
// server. Measured on espeak-ng voices its recall is too low to score calls
// by (docs/supervisors.md, "Keyword criteria"): it is shipped for trying
// out, and no scorecard uses it by default.
//
//	callguard-keywords --identity org.agekey --phrase "thank you for calling" \
//	    --phrase "privacy notice" CALL.opus.age
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"filippo.io/age"

	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/keywords"
	"github.com/callguard/callguard/recorder/opus"
)

// phrases collects repeated --phrase flags.
type phrases []string

func (p *phrases) String() string     { return fmt.Sprint(*p) }
func (p *phrases) Set(s string) error { *p = append(*p, s); return nil }

// heard is one output line.
type heard struct {
	Channel string `json:"channel"` // "officer" or "caller"
	Phrase  string `json:"phrase"`
	FromMS  int64  `json:"from_ms"`
	ToMS    int64  `json:"to_ms"`
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("callguard-keywords", flag.ContinueOnError)
	fs.SetOutput(stderr)
	identity := fs.String("identity", "", "the organisation's age identity file (`path`)")
	model := fs.String("model", keywords.DefaultModel, "the PocketSphinx model directory")
	threshold := fs.Float64("threshold", keywords.DefaultThreshold, "detection threshold: lower finds more phrases and more false alarms")
	var said phrases
	fs.Var(&said, "phrase", "a phrase to listen for (repeat for more)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *identity == "" || len(said) == 0 {
		fmt.Fprintln(stderr, "usage: callguard-keywords --identity KEYFILE --phrase TEXT [--phrase TEXT…] RECORDING.age")
		return 2
	}
	if err := analyse(fs.Arg(0), *identity, *model, *threshold, said, stdout); err != nil {
		fmt.Fprintf(stderr, "callguard-keywords: %v\n", err)
		return 1
	}
	return 0
}

func analyse(path, identityPath, model string, threshold float64, said []string, stdout io.Writer) error {
	ids, err := artefact.ParseIdentityFile(identityPath)
	if err != nil {
		return err
	}
	var list []keywords.Phrase
	for _, p := range said {
		list = append(list, keywords.Phrase{Text: p, Threshold: threshold})
	}
	spotter, err := keywords.New(model, list)
	if err != nil {
		return err
	}
	defer spotter.Close()
	officer, caller, err := channels(path, ids)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, ch := range []struct {
		name string
		pcm  []int16
	}{{"officer", officer}, {"caller", caller}} {
		hits, err := spotter.Spot(ch.pcm)
		if err != nil {
			return fmt.Errorf("the %s's channel: %w", ch.name, err)
		}
		for _, h := range hits {
			if err := enc.Encode(heard{ch.name, h.Phrase, h.FromMS, h.ToMS}); err != nil {
				return err
			}
		}
	}
	return nil
}

// channels decrypts the recording into memory and splits it into its two
// 16 kHz channels. A recording cut short by a crash gives what was sealed.
func channels(path string, ids []age.Identity) (officer, caller []int16, err error) {
	var plain bytes.Buffer
	if _, err := artefact.Decrypt(path, ids, &plain); err != nil {
		return nil, nil, err
	}
	var stereo []byte
	if bytes.HasPrefix(plain.Bytes(), []byte("OggS")) {
		dec, err := opus.NewDecoder(&plain)
		if err != nil {
			return nil, nil, err
		}
		defer dec.Close()
		if stereo, err = io.ReadAll(dec); err != nil && !errors.Is(err, oggopus.ErrTruncated) {
			return nil, nil, fmt.Errorf("decode %s: %w", path, err)
		}
	} else {
		if err := artefact.CheckWAVHeader(plain.Bytes()); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		stereo = plain.Bytes()[44:]
	}
	frames := len(stereo) / 4
	officer, caller = make([]int16, frames), make([]int16, frames)
	for i := range frames {
		officer[i] = int16(binary.LittleEndian.Uint16(stereo[4*i:]))
		caller[i] = int16(binary.LittleEndian.Uint16(stereo[4*i+2:]))
	}
	return officer, caller, nil
}
