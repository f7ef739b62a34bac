package app

// AudioSettings is how the recorder stores a call's audio, from the
// policy's audio section.
type AudioSettings struct {
	// Format is "opus" or "wav" (policy.AudioOpus, policy.AudioWAV); "" is
	// Opus.
	Format string
	// Bitrate is the Opus bitrate for both channels, in bit/s; 0 is the
	// default.
	Bitrate int
}

// audioSettings is the policy's audio section for the recorder.
func (m *Machine) audioSettings() AudioSettings {
	a := m.pol.Audio
	return AudioSettings{Format: a.FormatOrDefault(), Bitrate: a.BitrateOrDefault()}
}
