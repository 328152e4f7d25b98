package codec

import "errors"

var (
	errShort   = errors.New("length runs past the end of the record")
	errBadLead = errors.New("invalid MessagePack type byte 0xc1")
)

// checkMsg walks the MessagePack object at the start of p without decoding
// it, checking every length against the bytes left (in 64-bit arithmetic,
// since msgp converts lengths to int, which is 32 bits on arm and mips) and
// nesting against depth. It returns the object's size, or the offset of
// the first bad byte and why. After it passes, no length the generated
// decoder reads can be impossible.
func checkMsg(p []byte, depth int) (int, error) {
	if len(p) == 0 {
		return 0, errShort
	}
	c := p[0]
	var head, body uint64 // bytes of the header and of a str/bin/ext body
	var n uint64          // elements of an array, entries of a map
	isMap := false
	be := func(k int) uint64 {
		var v uint64
		for _, b := range p[1 : 1+k] {
			v = v<<8 | uint64(b)
		}
		return v
	}
	need := func(k int) bool { return len(p) >= 1+k }
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return 1, nil
	case c&0xf0 == 0x80:
		head, n, isMap = 1, uint64(c&0x0f), true
	case c&0xf0 == 0x90:
		head, n = 1, uint64(c&0x0f)
	case c&0xe0 == 0xa0:
		head, body = 1, uint64(c&0x1f)
	case c == 0xc1:
		return 0, errBadLead
	case c == 0xc4 || c == 0xd9, c == 0xc5 || c == 0xda, c == 0xc6 || c == 0xdb:
		k := map[byte]int{0xc4: 1, 0xd9: 1, 0xc5: 2, 0xda: 2, 0xc6: 4, 0xdb: 4}[c]
		if !need(k) {
			return 0, errShort
		}
		head, body = uint64(1+k), be(k)
	case c == 0xc7 || c == 0xc8 || c == 0xc9:
		k := int(c-0xc7) + 1
		if k == 3 {
			k = 4
		}
		if !need(k + 1) {
			return 0, errShort
		}
		head, body = uint64(2+k), be(k)
	case c == 0xca:
		head = 5
	case c == 0xcb:
		head = 9
	case c >= 0xcc && c <= 0xd3:
		head = 1 + 1<<((c-0xcc)&3)
	case c >= 0xd4 && c <= 0xd8:
		head = 2 + 1<<(c-0xd4)
	case c == 0xdc || c == 0xde:
		if !need(2) {
			return 0, errShort
		}
		head, n, isMap = 3, be(2), c == 0xde
	case c == 0xdd || c == 0xdf:
		if !need(4) {
			return 0, errShort
		}
		head, n, isMap = 5, be(4), c == 0xdf
	}
	left := uint64(len(p))
	if head+body > left {
		return 0, errShort
	}
	if n == 0 {
		return int(head + body), nil
	}
	if isMap {
		n *= 2
	}
	if n > left-head {
		return 0, ErrTooMany
	}
	if depth <= 0 {
		return 0, ErrTooDeep
	}
	off := int(head)
	for i := uint64(0); i < n; i++ {
		k, err := checkMsg(p[off:], depth-1)
		if err != nil {
			return off + k, err
		}
		off += k
	}
	return off, nil
}
