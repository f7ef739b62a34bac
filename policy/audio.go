package policy

// Audio is how recordings are stored: the format and, for Opus, the
// bitrate (docs/recording.md, "Opus recordings").
type Audio struct {
	// Format is AudioOpus [default] or AudioWAV (16 kHz PCM, 230 MB an
	// hour, for an organisation whose tools read nothing else).
	Format string `json:"format,omitempty"`
	// Bitrate is the Opus bitrate for both channels together, in bit/s,
	// from MinOpusBitrate to MaxOpusBitrate [DefaultOpusBitrate].
	Bitrate int `json:"bitrate,omitempty"`
}

// Recording formats (Audio.Format).
const (
	AudioOpus = "opus"
	AudioWAV  = "wav"
)

// Opus bitrates (Audio.Bitrate), for both channels together. Below 24 kbit/s
// libopus narrows the stereo image until the officer's and the caller's
// voices share both channels (recorder/opus).
const (
	DefaultOpusBitrate = 24000
	MinOpusBitrate     = 24000
	MaxOpusBitrate     = 128000
)

// FormatOrDefault is Format, or AudioOpus when it is not set.
func (a Audio) FormatOrDefault() string {
	if a.Format == "" {
		return AudioOpus
	}
	return a.Format
}

// BitrateOrDefault is Bitrate, or DefaultOpusBitrate when it is not set.
func (a Audio) BitrateOrDefault() int {
	if a.Bitrate == 0 {
		return DefaultOpusBitrate
	}
	return a.Bitrate
}

// validate reports what is wrong with the audio section.
func (a Audio) validate(bad func(format string, args ...any)) {
	switch a.Format {
	case "", AudioOpus, AudioWAV:
	default:
		bad("audio.format: %q is neither %q nor %q", a.Format, AudioOpus, AudioWAV)
	}
	if b := a.Bitrate; b != 0 && (b < MinOpusBitrate || b > MaxOpusBitrate) {
		bad("audio.bitrate: %d bit/s must be between %d and %d", b, MinOpusBitrate, MaxOpusBitrate)
	}
	if a.Format == AudioWAV && a.Bitrate != 0 {
		bad("audio.bitrate: a bitrate is for Opus, and the format is %q", AudioWAV)
	}
}
