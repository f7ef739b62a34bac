package artefact

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/callguard/callguard/internal/atomicfile"
)

// ManifestVersion is the version of the manifest format. Version 2 added
// redactions the recorder makes while recording (Kind RedactionKindDTMF);
// version 3 the codec (Opus recordings: codec, bitrate, frame_ms,
// silence_packet); version 4 says the audio of an Opus recording may be in
// segments, one age file a second (segmentReader), which readers before it
// cannot read past the first. Version 1 and 2 manifests read and verify as
// they always did: their audio is PCM in a WAV; a version 3 one's audio is
// one age file.
const ManifestVersion = 4

// Manifest is <call-id>.json, the plain-text record that travels with the
// encrypted audio (docs/recording.md, "The manifest"). The recorder writes it
// when the recording starts, rewrites it at every pause boundary while the
// call goes on (Complete false), and finalises it at Stop. The server adds
// to Redactions when it silences an interval.
type Manifest struct {
	Version   int    `json:"version"`
	Recorder  string `json:"recorder"` // recorder version that wrote it
	CallID    string `json:"call_id"`
	Agent     string `json:"agent"`
	Direction string `json:"direction"`
	Remote    struct {
		Number string `json:"number"`
		Name   string `json:"name,omitempty"`
	} `json:"remote"`
	CallStarted   time.Time  `json:"call_started"`    // when the call began (from the core)
	Started       time.Time  `json:"started"`         // when the recording's first frame was due
	Ended         *time.Time `json:"ended,omitempty"` // the call's end, set at Stop
	AudioFile     string     `json:"audio_file"`      // "<call-id>.opus.age" or "<call-id>.wav.age", beside the manifest
	Recipients    []string   `json:"recipients"`      // the age public keys it is encrypted to
	SampleRate    int        `json:"sample_rate"`     // 16000
	Channels      int        `json:"channels"`        // 2
	ChannelMap    []string   `json:"channel_map"`     // ["officer", "caller"]
	Officer       string     `json:"officer_device"`  // input device of the left channel
	Caller        string     `json:"caller_device"`   // input device of the right channel, "" if none
	CallerPresent bool       `json:"caller_channel"`  // false: the right channel is silence
	CallerNote    string     `json:"caller_note,omitempty"`
	// Codec is CodecOpus or CodecPCM; "" (versions 1 and 2) is PCM.
	Codec string `json:"codec,omitempty"`
	// Bitrate is the Opus encoder's, for both channels, in bit/s.
	Bitrate int `json:"bitrate,omitempty"`
	// FrameMS is the duration of each Opus packet.
	FrameMS int `json:"frame_ms,omitempty"`
	// SilencePacket is an Opus packet that decodes to digital silence at
	// the stream's configuration, for redaction (base64 in JSON).
	SilencePacket []byte  `json:"silence_packet,omitempty"`
	Pauses        []Pause `json:"pauses"`
	Notice        string  `json:"notice"` // app.NoticeOutcome name, "pending" until Stop
	Frames        int64   `json:"frames"` // stereo sample frames recorded (decoded, for Opus)
	DurationMS    int64   `json:"duration_ms"`
	DataBytes     int64   `json:"data_bytes"` // size of the WAV data chunk = frames * 4; 0 for Opus
	// SHA256Plaintext is the SHA-256 of the plaintext inside the age file.
	// For PCM: the 44-byte WAV header exactly as streamed (sizes 0xFFFFFFFF)
	// followed by the data bytes; a decrypted WAV differs from it only in
	// the two size fields (bytes 4-7 and 40-43), which Decrypt finalises.
	// For Opus: the Ogg stream, which Decrypt writes as it is.
	SHA256Plaintext string `json:"sha256_plaintext,omitempty"`
	// SHA256Encrypted is the SHA-256 of the whole <call-id>.wav.age file.
	SHA256Encrypted string `json:"sha256_encrypted,omitempty"`
	EncryptedBytes  int64  `json:"encrypted_bytes,omitempty"`
	// Complete is true once Stop finalised both files; a manifest left with
	// false belongs to a recording that crashed or failed (see Failure).
	Complete bool   `json:"complete"`
	Failure  string `json:"failure,omitempty"` // why the recording stopped by itself
	// Overflows counts capture buffers the device dropped (input overflow).
	Overflows int64 `json:"input_overflows,omitempty"`
	// Redactions are the intervals silenced: by the recorder while
	// recording (keypad tones, Kind RedactionKindDTMF), then by the server
	// after the recording was made, oldest first; the hashes above describe
	// the file as it is now.
	Redactions []Redaction `json:"redactions,omitempty"`
	// Voice is the voice-activity timeline (see Voice); nil from a
	// recorder before it, and then nothing that needs it is measured.
	Voice *Voice `json:"voice,omitempty"`
}

// Pause is one paused interval, in milliseconds from the recording's first
// frame. Every sample in [StartMS, EndMS) is digital silence. EndMS is nil
// while the pause is open; a pause still open at Stop ends at the end of the
// recording, and one left open by a crash extends to the end of the audio.
type Pause struct {
	StartMS int64  `json:"start_ms"`
	EndMS   *int64 `json:"end_ms"`
	Reason  string `json:"reason"`
}

// Redaction kinds. A redaction without a kind (every one of a version 1
// manifest) is the server's.
const (
	// RedactionKindDTMF: keypad tones the recorder silenced before the audio
	// was stored. It has no Before hashes: no other version of the file
	// ever existed. It says where tones were, never which keys.
	RedactionKindDTMF = "dtmf"
	// RedactionKindReview: an interval the server silenced after upload (a
	// card-details flag, a dpo's decision).
	RedactionKindReview = "review"
)

// Redaction is one interval silenced, in milliseconds from the recording's
// first frame: every sample in [FromMS, ToMS) is digital silence. For a
// redaction made after recording, the Before hashes are those of the file
// it was made from, so the chain of versions can be followed.
type Redaction struct {
	// Kind is RedactionKindDTMF or RedactionKindReview; "" in a version 1
	// manifest, where every redaction is the server's.
	Kind   string    `json:"kind,omitempty"`
	FromMS int64     `json:"from_ms"`
	ToMS   int64     `json:"to_ms"`
	Reason string    `json:"reason"` // flag reason id, e.g. "card"; "keypad tones" for dtmf
	By     string    `json:"by"`     // "auto", the dpo's username, or "recorder"
	At     time.Time `json:"at"`
	Ref    string    `json:"ref,omitempty"` // the review item it carried out
	// SHA256PlaintextBefore and SHA256EncryptedBefore describe the file
	// before this redaction.
	SHA256PlaintextBefore string `json:"sha256_plaintext_before,omitempty"`
	SHA256EncryptedBefore string `json:"sha256_encrypted_before,omitempty"`
}

// AudioCodec is the manifest's codec, CodecPCM when it names none.
func (m *Manifest) AudioCodec() string {
	if m.Codec == "" {
		return CodecPCM
	}
	return m.Codec
}

// ParseManifest decodes a manifest.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

// ReadManifest reads a manifest file.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return m, nil
}

// WriteManifest stores the manifest atomically (temporary file, fsync,
// rename, fsync of the directory), readable only by its owner.
func WriteManifest(path string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}

// RecordRedaction returns the manifest JSON raw with r appended to its
// redactions and its hashes and sizes replaced by res's. Fields this
// version does not know are kept as they are.
func RecordRedaction(raw []byte, r Redaction, res RedactResult) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if fields == nil {
		return nil, errors.New("manifest: not a JSON object")
	}
	var list []Redaction
	if b, ok := fields["redactions"]; ok {
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("manifest redactions: %w", err)
		}
	}
	list = append(list, r)
	frames, data := res.DataBytes/BytesPerFrame, res.DataBytes/BytesPerFrame*BytesPerFrame
	if res.Codec == CodecOpus {
		frames, data = res.Frames, 0
	}
	set := func(k string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		fields[k] = b
		return nil
	}
	for k, v := range map[string]any{
		"redactions":       list,
		"sha256_plaintext": res.PlaintextSHA256,
		"sha256_encrypted": res.EncryptedSHA256,
		"encrypted_bytes":  res.EncryptedBytes,
		"frames":           frames,
		"data_bytes":       data,
		"duration_ms":      FramesToMS(frames),
	} {
		if err := set(k, v); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", k, err)
		}
	}
	out, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(out, '\n'), nil
}
