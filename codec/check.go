package codec

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"

	"github.com/itiny/itiny/internal/msgpack"
)

var (
	errShort   = errors.New("length runs past the end of the record")
	errBadLead = errors.New("invalid MessagePack type byte 0xc1")
)

// checkMsg walks the MessagePack object at the start of p without decoding
// it, checking every length against the bytes left (in 64-bit arithmetic,
// since msgp converts lengths to int, which is 32 bits on arm and mips),
// nesting against depth (empty maps and arrays count too) and every str
// for valid UTF-8, keys and skipped values included, as a JSON text is. It
// returns the object's size, or the offset of the first bad byte and why.
// After it passes, no length the generated decoder reads can be
// impossible. It walks iteratively, with a stack of the containers it is
// in. The decoder, which checks as it reads, runs it on the values of
// unknown keys, and on a record it drops, to say where the fault is.
func checkMsg(p []byte, depth int) (int, error) {
	type open struct {
		left  uint64 // elements still to come
		depth int    // of the container
	}
	var buf [16]open
	stack := buf[:0]
	off := 0
	for {
		var n uint64
		var size int
		container := false
		if off >= len(p) {
			return off, errShort
		}
		// The common one-byte headers inline; the rest in msgItem.
		switch c := p[off]; {
		case c <= 0x7f || c >= 0xe0:
			size = 1
		case c&0xe0 == 0xa0: // fixstr
			if size = 1 + int(c&0x1f); size > len(p)-off {
				return off, errShort
			}
			// Most keys and names are eight bytes or less: one load.
			if l := size - 1; l <= 8 && off+9 <= len(p) {
				w := binary.LittleEndian.Uint64(p[off+1:]) & (uint64(1)<<(8*l) - 1)
				if w&0x8080808080808080 != 0 && !utf8.Valid(p[off+1:off+size]) {
					return off, errBadUTF8
				}
			} else if !validStr(p, off+1, off+size) {
				return off, errBadUTF8
			}
		case c&0xe0 == 0x80: // fixmap, fixarray
			n, size, container = uint64(c&0x0f), 1, true
			if c < 0x90 {
				n *= 2
			}
		default:
			var err error
			if n, size, err = msgItem(p[off:]); err != nil {
				return off, err
			}
			container = c >= 0xdc && c <= 0xdf
			if c >= 0xd9 && c <= 0xdb && !validStr(p, off+1+1<<(c-0xd9), off+size) { // str8-32
				return off, errBadUTF8
			}
		}
		if container && depth <= 0 {
			return off, ErrTooDeep
		}
		if n > 0 {
			if n > uint64(len(p)-off)-uint64(size) {
				return off, ErrTooMany
			}
			stack = append(stack, open{n, depth})
			off += size
			depth--
			continue
		}
		off += size
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.left--; top.left > 0 {
				break
			}
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return off, nil
		}
		depth = stack[len(stack)-1].depth - 1
	}
}

// validStr reports whether p[i:j] is valid UTF-8, quickly for the short
// ASCII strings that keys and names are: it reads eight bytes at a time,
// the last word masked (it may run past j, not past p), and calls
// utf8.Valid only when a byte is not ASCII.
func validStr(p []byte, i, j int) bool {
	var or uint64
	k := i
	for ; k+8 <= j; k += 8 {
		or |= binary.LittleEndian.Uint64(p[k:])
	}
	if k < j {
		if k+8 <= len(p) {
			or |= binary.LittleEndian.Uint64(p[k:]) & (1<<(8*(j-k)) - 1)
		} else {
			for ; k < j; k++ {
				or |= uint64(p[k])
			}
		}
	}
	return or&0x8080808080808080 == 0 || utf8.Valid(p[i:j])
}

// readStr is readBlob of a str, with the common case inline: most keys
// and names are fixstrs of eight bytes or less, checked in one load.
func readStr(b []byte) ([]byte, []byte, error) {
	if len(b) > 8 && b[0]&0xe0 == 0xa0 && b[0]&0x1f <= 8 {
		n := int(b[0] & 0x1f)
		if binary.LittleEndian.Uint64(b[1:])&(1<<(8*n)-1)&0x8080808080808080 == 0 {
			return b[1 : 1+n], b[1+n:], nil
		}
	}
	return readBlob(b, true)
}

// readBlob reads a MessagePack str (with str) or bin and returns its
// bytes, a view of b, checking that a str is valid UTF-8. It checks the
// length against the bytes left in 64-bit arithmetic: msgp's readers
// convert it to int, which is 32 bits on arm and mips, where a str32 of
// 2 GiB or more would then pass for negative.
func readBlob(b []byte, str bool) ([]byte, []byte, error) {
	if len(b) == 0 {
		return nil, b, msgpack.ErrShort
	}
	c := b[0]
	h, n := 1, uint64(c&0x1f) // header and body size
	w := 0                    // bytes of the body size
	switch {
	case str && c&0xe0 == 0xa0: // fixstr
	case str && c >= 0xd9 && c <= 0xdb: // str8-32
		w = 1 << (c - 0xd9)
	case !str && c >= 0xc4 && c <= 0xc6: // bin8-32
		w = 1 << (c - 0xc4)
	case str:
		return msgpack.ReadStr(b) // its error names the type found
	default:
		return msgpack.ReadBin(b)
	}
	if w > 0 {
		if h += w; len(b) < h {
			return nil, b, msgpack.ErrShort
		}
		n = 0
		for _, x := range b[1:h] {
			n = n<<8 | uint64(x)
		}
	}
	if n > uint64(len(b)-h) {
		return nil, b, msgpack.ErrShort
	}
	end := h + int(n)
	if str && !validStr(b, h, end) {
		return nil, b, errBadUTF8
	}
	return b[h:end], b[end:], nil
}

// msgItem returns the elements (2 per map entry) that follow the item at
// the start of p, and the size of its header and body.
func msgItem(p []byte) (elems uint64, size int, err error) {
	if len(p) == 0 {
		return 0, 0, errShort
	}
	c := p[0]
	var head, body uint64
	be := binary.BigEndian
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return 0, 1, nil
	case c&0xf0 == 0x80:
		return 2 * uint64(c&0x0f), 1, nil
	case c&0xf0 == 0x90:
		return uint64(c & 0x0f), 1, nil
	case c&0xe0 == 0xa0:
		head, body = 1, uint64(c&0x1f)
	case c == 0xc1:
		return 0, 0, errBadLead
	case c == 0xc4 || c == 0xd9:
		if len(p) < 2 {
			return 0, 0, errShort
		}
		head, body = 2, uint64(p[1])
	case c == 0xc5 || c == 0xda:
		if len(p) < 3 {
			return 0, 0, errShort
		}
		head, body = 3, uint64(be.Uint16(p[1:]))
	case c == 0xc6 || c == 0xdb:
		if len(p) < 5 {
			return 0, 0, errShort
		}
		head, body = 5, uint64(be.Uint32(p[1:]))
	case c == 0xc7:
		if len(p) < 3 {
			return 0, 0, errShort
		}
		head, body = 3, uint64(p[1])
	case c == 0xc8:
		if len(p) < 4 {
			return 0, 0, errShort
		}
		head, body = 4, uint64(be.Uint16(p[1:]))
	case c == 0xc9:
		if len(p) < 6 {
			return 0, 0, errShort
		}
		head, body = 6, uint64(be.Uint32(p[1:]))
	case c == 0xca:
		head = 5
	case c == 0xcb:
		head = 9
	case c >= 0xcc && c <= 0xd3:
		head = 1 + 1<<((c-0xcc)&3)
	case c >= 0xd4 && c <= 0xd8:
		head = 2 + 1<<(c-0xd4)
	case c == 0xdc || c == 0xde:
		if len(p) < 3 {
			return 0, 0, errShort
		}
		n := uint64(be.Uint16(p[1:]))
		if c == 0xde {
			n *= 2
		}
		return n, 3, nil
	case c == 0xdd || c == 0xdf:
		if len(p) < 5 {
			return 0, 0, errShort
		}
		n := uint64(be.Uint32(p[1:]))
		if c == 0xdf {
			n *= 2
		}
		return n, 5, nil
	}
	if head+body > uint64(len(p)) {
		return 0, 0, errShort
	}
	return 0, int(head + body), nil
}
