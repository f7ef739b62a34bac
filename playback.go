package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/callguard/callguard/app/uplink"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/recorder"
	"github.com/callguard/callguard/recorder/opus"
	"github.com/callguard/callguard/ui"
)

// listener plays recordings for the data-protection officer's view: the
// server decrypts the recording (and audits the play), this computer
// decodes it in memory as it arrives and plays it; nothing of it is
// written to disk.
type listener struct{ c *uplink.Client }

// Play implements ui.Player.
func (l listener) Play(ctx context.Context, callID string) error {
	body, contentType, err := l.c.PlayRecording(ctx, callID)
	if err != nil {
		return err
	}
	defer body.Close()
	pcm, err := decodeRecording(body, contentType)
	if err != nil {
		return fmt.Errorf("recording %s: %w", callID, err)
	}
	if c, ok := pcm.(io.Closer); ok {
		defer c.Close()
	}
	err = recorder.Play(ctx, pcm)
	switch {
	case errors.Is(err, recorder.ErrNoDevice):
		return fmt.Errorf("%w: %v", ui.ErrNoSpeakers, err)
	case errors.Is(err, recorder.ErrDeviceLost):
		return fmt.Errorf("%w: %v", ui.ErrSpeakerLost, err)
	}
	return err
}

// decodeRecording turns a decrypted recording, Ogg Opus or a WAV, into the
// recording format's PCM (16 kHz stereo PCM16), streaming.
func decodeRecording(r io.Reader, contentType string) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(4)
	if ct, _ := artefact.MediaType(head); ct == "audio/ogg" || strings.HasPrefix(contentType, "audio/ogg") {
		d, err := opus.NewDecoder(br)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	h := make([]byte, 44)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, fmt.Errorf("a WAV without its header: %w", err)
	}
	if err := artefact.CheckWAVHeader(h); err != nil {
		return nil, err
	}
	return br, nil
}
