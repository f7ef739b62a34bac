package testrig

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Speak is espeak-ng reading text in voice at speed (words a minute), as
// 16 kHz mono PCM16, made in memory with sox.
func Speak(t testing.TB, voice string, speed int, text string) []int16 {
	t.Helper()
	espeak := NeedCommand(t, "espeak-ng")
	sox := NeedCommand(t, "sox")
	var wav, raw, stderr bytes.Buffer
	say := exec.Command(espeak, "-v", voice, "-s", fmt.Sprint(speed), "--stdout")
	say.Stdin, say.Stdout, say.Stderr = strings.NewReader(text), &wav, &stderr
	if err := say.Run(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, stderr.String())
	}
	conv := exec.Command(sox, "-t", "wav", "-", "-t", "raw", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-")
	conv.Stdin, conv.Stdout, conv.Stderr = &wav, &raw, &stderr
	if err := conv.Run(); err != nil {
		t.Fatalf("sox: %v: %s", err, stderr.String())
	}
	pcm := make([]int16, raw.Len()/2)
	if err := binary.Read(&raw, binary.LittleEndian, pcm); err != nil {
		t.Fatalf("sox output: %v", err)
	}
	return pcm
}
