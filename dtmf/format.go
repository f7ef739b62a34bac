package dtmf

import "fmt"

// Format prints a Detector as its sample rate and position only: whatever
// verb is used (%v, %+v, %#v…), the state of a tone in progress, which holds
// its key, is never printed, and neither is a log line that includes one.
func (d Detector) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "dtmf.Detector{rate: %d Hz, position: %d}", d.rate, d.fed)
}

// Format prints a Masker as its settings and position only, for the same
// reason as a Detector's.
func (m Masker) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "dtmf.Masker{rate: %d Hz, channels: %d, guard: %d frames, in: %d, out: %d, masked: %d}",
		m.rate, m.channels, m.guard, m.in, m.out, len(m.done))
}
