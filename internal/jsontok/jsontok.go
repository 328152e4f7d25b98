// Package jsontok scans the two JSON tokens (RFC 8259) whose grammar is
// more than a byte: numbers and strings. It is the one definition the
// record decoder (package codec) and the bundle manifest's reader share;
// each keeps its own structure, errors and limits.
//
// Both scanners work on a byte slice and an offset, allocate nothing
// but what a string's escapes make them append, and return a *Error
// naming the offset and what is wrong.
package jsontok

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// An Error is a token that does not scan: Off is the offset of the
// byte at fault (for a string with escapes that is not UTF-8, the
// string's start: unescaped in place, its bytes are gone), Msg what is
// wrong, one of the constants below for the
// faults a caller may tell apart.
//
// In a string, \u escapes and their surrogates are decoded as RFC 8259
// says; a byte that is not UTF-8 is an error (NotUTF8), where
// encoding/json replaces it.
type Error struct {
	Off int
	Msg string
}

// Messages of an Error a caller may tell apart.
const (
	Unterminated = "unterminated string"
	NotUTF8      = "a string that is not valid UTF-8"
)

func (e *Error) Error() string { return e.Msg + " at offset " + strconv.Itoa(e.Off) }

// Number scans the number that starts at p[i] and returns the offset
// after it, and whether it has a fraction or an exponent.
func Number(p []byte, i int) (end int, float bool, err error) {
	digits := func() bool {
		s := i
		for i < len(p) && '0' <= p[i] && p[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(p) && p[i] == '-' {
		i++
	}
	if i < len(p) && p[i] == '0' {
		i++
	} else if !digits() {
		return i, false, &Error{i, "want a digit"}
	}
	if i < len(p) && p[i] == '.' {
		i++
		float = true
		if !digits() {
			return i, false, &Error{i, "want a digit after '.'"}
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		float = true
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if !digits() {
			return i, false, &Error{i, "want a digit in the exponent"}
		}
	}
	return i, float, nil
}

// String scans the string whose opening quote is p[i] and returns its
// bytes and the offset after its closing quote. Without escapes the
// bytes are p's own; with them, they are appended to dst, which may be
// p[i+1:i+1] to unescape in place (each escape writes fewer bytes than
// it reads). A \u escape of half a surrogate pair is U+FFFD, or with
// strict an error. The bytes must be UTF-8.
func String(dst, p []byte, i int, strict bool) (s []byte, end int, err error) {
	if i >= len(p) || p[i] != '"' {
		return nil, i, &Error{i, "want a string"}
	}
	start := i + 1
	for i = start; i < len(p); i++ {
		switch c := p[i]; {
		case c == '"':
			if bad := invalidUTF8(p[start:i]); bad >= 0 {
				return nil, i, &Error{start + bad, NotUTF8}
			}
			return p[start:i], i + 1, nil
		case c == '\\':
			return unescape(append(dst, p[start:i]...), p, i, start, strict)
		case c < 0x20:
			return nil, i, &Error{i, "control character " + strconv.QuoteRune(rune(c)) + " in a string"}
		}
	}
	return nil, len(p), &Error{len(p), Unterminated}
}

// invalidUTF8 returns the offset of the first byte of b that is not
// UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// unescape is String from the first escape, at p[i], on.
func unescape(b, p []byte, i, start int, strict bool) ([]byte, int, error) {
	for i < len(p) {
		c := p[i]
		switch {
		case c == '"':
			if !utf8.Valid(b) { // unescaped, in place maybe: the string's start
				return nil, i, &Error{start, NotUTF8}
			}
			return b, i + 1, nil
		case c < 0x20:
			return nil, i, &Error{i, "control character " + strconv.QuoteRune(rune(c)) + " in a string"}
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(p) {
			return nil, len(p), &Error{len(p), Unterminated}
		}
		esc := p[i+1]
		n := 2
		switch esc {
		case '"', '\\', '/':
			b = append(b, esc)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(p, i+2)
			if !ok {
				return nil, i, &Error{i + 1, `bad \u escape`}
			}
			n = 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+7 < len(p) && p[i+6] == '\\' && p[i+7] == 'u' {
					r2, ok = hex4(p, i+8)
				}
				switch dec := utf16.DecodeRune(r, r2); {
				case ok && dec != utf8.RuneError:
					r, n = dec, 12
				case strict:
					return nil, i, &Error{i + 1, `\u escape of half a surrogate pair`}
				default:
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return nil, i, &Error{i + 1, "bad escape " + strconv.QuoteRune(rune(esc)) + " in a string"}
		}
		i += n
	}
	return nil, len(p), &Error{len(p), Unterminated}
}

// hex4 decodes the four hex digits at p[i:].
func hex4(p []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(p) {
		return 0, false
	}
	var r rune
	for _, c := range p[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
