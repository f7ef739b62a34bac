package g711

var (
	alawToLinear [256]int16
	ulawToLinear [256]int16
)

func init() {
	for i := range 256 {
		alawToLinear[i] = decodeALaw(byte(i))
		ulawToLinear[i] = decodeULaw(byte(i))
	}
}

// DecodeALaw returns the linear value of an A-law code.
func DecodeALaw(a byte) int16 { return alawToLinear[a] }

// DecodeULaw returns the linear value of a µ-law code.
func DecodeULaw(u byte) int16 { return ulawToLinear[u] }

// DecodeALawTo decodes the A-law codes of src into dst, which must be at
// least as long, and returns the number decoded.
func DecodeALawTo(dst []int16, src []byte) int {
	for i, a := range src {
		dst[i] = alawToLinear[a]
	}
	return len(src)
}

// DecodeULawTo decodes the µ-law codes of src into dst, which must be at
// least as long, and returns the number decoded.
func DecodeULawTo(dst []int16, src []byte) int {
	for i, u := range src {
		dst[i] = ulawToLinear[u]
	}
	return len(src)
}

func decodeALaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	switch seg := int(a&0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func decodeULaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= int(u&0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

var (
	alawSegEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
	ulawSegEnd = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
)

func segment(v int, ends *[8]int) int {
	for i, e := range ends {
		if v <= e {
			return i
		}
	}
	return 8
}

// EncodeALaw returns the A-law code of a linear value.
func EncodeALaw(pcm int16) byte {
	v := int(pcm) >> 3
	mask := byte(0xD5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := segment(v, &alawSegEnd)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte(v>>1) & 0x0f
	} else {
		a |= byte(v>>seg) & 0x0f
	}
	return a ^ mask
}

// EncodeULaw returns the µ-law code of a linear value.
func EncodeULaw(pcm int16) byte {
	const clip, bias = 8159, 0x84 >> 2
	v := int(pcm) >> 2
	mask := byte(0xFF)
	if v < 0 {
		v = -v
		mask = 0x7F
	}
	if v > clip {
		v = clip
	}
	v += bias
	seg := segment(v, &ulawSegEnd)
	if seg >= 8 {
		return 0x7F ^ mask
	}
	u := byte(seg<<4) | byte(v>>(seg+1))&0x0f
	return u ^ mask
}
