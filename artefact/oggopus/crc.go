package oggopus

// crcTable is the table of Ogg's CRC-32 (RFC 3533 section 6): polynomial
// 0x04c11db7, fed most significant bit first, initial value 0 and no final
// inversion. It is not the CRC-32 of zip and Ethernet (hash/crc32), which
// reflects its bits.
var crcTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// crcUpdate adds p to the running checksum sum.
func crcUpdate(sum uint32, p []byte) uint32 {
	for _, b := range p {
		sum = sum<<8 ^ crcTable[byte(sum>>24)^b]
	}
	return sum
}
