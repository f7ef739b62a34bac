package recorder

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"

	"github.com/callguard/callguard/app"
	"github.com/callguard/callguard/artefact"
	"github.com/callguard/callguard/artefact/oggopus"
	"github.com/callguard/callguard/recorder/opus"
)

// codecOf is the artefact codec of the audio settings: Opus unless they
// say "wav".
func codecOf(a app.AudioSettings) string {
	if a.Format == "wav" {
		return artefact.CodecPCM
	}
	return artefact.CodecOpus
}

// startAudio starts the encrypted audio stream on f: the streaming WAV, or
// an Ogg Opus stream at the settings' bitrate whose codec, bitrate, frame
// size and silence packet go into the manifest.
func (r *Recording) startAudio(f io.Writer, recipients []age.Recipient, a app.AudioSettings) error {
	var err error
	if codecOf(a) == artefact.CodecPCM {
		if r.aw, err = artefact.NewWriter(f, recipients...); err != nil {
			return writeError(r.audioPath, err)
		}
		return nil
	}
	bitrate := a.Bitrate
	if bitrate == 0 {
		bitrate = opus.DefaultBitrate
	}
	if r.aw, err = artefact.NewOggWriter(f, recipients...); err != nil {
		return writeError(r.audioPath, err)
	}
	if r.enc, err = opus.NewEncoder(r.aw, opus.WithBitrate(bitrate), opus.WithComments("CALLGUARD_CALL="+r.man.CallID)); err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	r.man.Codec, r.man.Bitrate = artefact.CodecOpus, bitrate
	r.man.FrameMS = int(opus.FrameDuration.Milliseconds())
	r.man.SilencePacket = r.enc.SilencePacket()
	return nil
}

// decryptToWAV decrypts a recording to w as a WAV: a WAV recording as
// artefact.Decrypt writes it, an Opus recording decoded through libopus.
// When w is a file its header gets the real sizes; otherwise (standard
// output) they say "still streaming", which players accept.
func decryptToWAV(audio string, ids []age.Identity, w io.Writer) (artefact.DecryptReport, error) {
	pr, pw := io.Pipe()
	var rep artefact.DecryptReport
	var derr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		rep, derr = artefact.Decrypt(audio, ids, pw)
		pw.CloseWithError(derr)
	}()
	wait := func(err error) (artefact.DecryptReport, error) {
		pr.CloseWithError(errors.New("stopped reading"))
		<-done
		if derr != nil {
			return rep, derr
		}
		return rep, err
	}
	br := bufio.NewReader(pr)
	if head, _ := br.Peek(4); string(head) != "OggS" {
		_, err := io.Copy(w, br)
		return wait(err)
	}
	seeker, _ := w.(io.WriteSeeker)
	if _, err := w.Write(artefact.WAVHeader(-1)); err != nil {
		return wait(err)
	}
	d, err := opus.NewDecoder(br)
	if err != nil {
		return wait(err)
	}
	defer d.Close()
	n, err := io.Copy(w, d)
	rep, err = wait(err)
	if errors.Is(err, oggopus.ErrTruncated) && !rep.Complete {
		err = nil // Decrypt wrote every complete page of a crashed recording
	}
	if err != nil {
		return rep, err
	}
	rep.DataBytes = n
	if seeker != nil {
		if _, err := seeker.Seek(0, io.SeekStart); err != nil {
			return rep, err
		}
		if _, err := w.Write(artefact.WAVHeader(n)); err != nil {
			return rep, err
		}
	}
	return rep, nil
}
