package oggopus

import "testing"

// Ogg's CRC is CRC-32/POSIX (cksum's) without the final inversion, so its
// check value, that of "123456789", is 0x765e7680 inverted.
func TestCRCIsOggs(t *testing.T) {
	if got := crcUpdate(0, []byte("123456789")); got != ^uint32(0x765e7680) {
		t.Fatalf("crc of the check string = %#08x, want %#08x", got, ^uint32(0x765e7680))
	}
	// Feeding in parts gives the same sum.
	if got := crcUpdate(crcUpdate(0, []byte("1234")), []byte("56789")); got != ^uint32(0x765e7680) {
		t.Fatalf("crc fed in two parts = %#08x", got)
	}
}
