// Package hex encodes and decodes lowercase hexadecimal as encoding/hex
// does, for the agent: encoding/hex's error type formats itself with
// fmt, which would link fmt and reflect into the firmware (see
// internal/tinyfmt).
package hex

import "strconv"

const digits = "0123456789abcdef"

// AppendEncode appends the hexadecimal encoding of src to dst.
func AppendEncode(dst, src []byte) []byte {
	for _, c := range src {
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return dst
}

// EncodeToString returns the hexadecimal encoding of src.
func EncodeToString(src []byte) string { return string(AppendEncode(nil, src)) }

// DecodedLen returns the length of a decoding of n source bytes.
func DecodedLen(n int) int { return n / 2 }

// Decode decodes src, upper or lower case, into DecodedLen(len(src))
// bytes of dst and returns their number; on an error, the number of
// bytes decoded before it.
func Decode(dst, src []byte) (int, error) {
	for i := 0; i+1 < len(src); i += 2 {
		hi, ok1 := value(src[i])
		lo, ok2 := value(src[i+1])
		if !ok1 || !ok2 {
			at := i
			if ok1 {
				at++
			}
			return i / 2, invalid(src, at)
		}
		dst[i/2] = hi<<4 | lo
	}
	if len(src)%2 == 1 {
		if _, ok := value(src[len(src)-1]); !ok {
			return len(src) / 2, invalid(src, len(src)-1)
		}
		return len(src) / 2, ErrLength
	}
	return len(src) / 2, nil
}

// ErrLength reports an odd number of digits.
var ErrLength error = Error("hex: odd length hex string")

// An Error describes malformed hexadecimal.
type Error string

func (e Error) Error() string { return string(e) }

func invalid(src []byte, at int) error {
	c := src[at]
	return Error("hex: invalid byte 0x" + string([]byte{digits[c>>4], digits[c&15]}) + " at offset " + strconv.Itoa(at))
}

func value(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
