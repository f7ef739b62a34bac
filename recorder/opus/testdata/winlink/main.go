// Command winlink is the smallest program that links recorder/opus: it
// encodes a second of a tone, decodes it back and prints what it got, so
// that a test can cross-build it for Windows and see libopus linked in.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/callguard/callguard/recorder/opus"
)

func main() {
	pcm := make([]byte, 4*opus.SampleRate)
	for i := range opus.SampleRate {
		v := uint16(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/opus.SampleRate)))
		binary.LittleEndian.PutUint16(pcm[4*i:], v)
		binary.LittleEndian.PutUint16(pcm[4*i+2:], v)
	}
	var stream bytes.Buffer
	e, err := opus.NewEncoder(&stream)
	if err == nil {
		_, err = e.Write(pcm)
	}
	if err == nil {
		err = e.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, err := opus.NewDecoder(bytes.NewReader(stream.Bytes()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	back, err := io.ReadAll(d)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d bytes of Ogg Opus, %d bytes of PCM back\n", opus.Version(), stream.Len(), len(back))
}
