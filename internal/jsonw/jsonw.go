// Package jsonw writes JSON as encoding/json does, for the documents a
// tool prints (itiny-read verify --json, a bundle's manifest) without
// encoding/json and the reflection it links in: a type writes itself in
// an AppendJSON method, compact, with these functions, and Indent lays the
// document out as json.MarshalIndent does. The output is byte for byte
// encoding/json's (its tests compare the two).
//
// Records' JSON (codec.AppendJSON) is a format of its own, docs/FORMAT.md
// section 4.2: it writes floats with AppendFloat and strings with
// AppendRecordString, which escapes fewer characters than encoding/json.
package jsonw

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendString appends s as a JSON string, escaped as encoding/json
// escapes it: '"', '\\' and control characters, and also '<', '>', '&',
// U+2028 and U+2029, so that the text is safe inside HTML and JavaScript.
// Invalid UTF-8 is written as \ufffd.
func AppendString(b []byte, s string) []byte { return appendString(b, s, &htmlSafe) }

// AppendRecordString appends s as a JSON string as records' JSON writes
// strings (docs/FORMAT.md section 4.2): '"', '\\' and control characters
// escaped, these as \n, \r, \t or \u00XX; invalid UTF-8 as \ufffd.
func AppendRecordString(b []byte, s string) []byte { return appendString(b, s, &recordSafe) }

// An escaping says how strings are escaped: each ASCII byte written as it
// is (0), as \u00XX ('u'), or as '\\' and the letter given; and whether
// U+2028 and U+2029 are escaped.
type escaping struct {
	ascii      [utf8.RuneSelf]byte
	separators bool
}

var htmlSafe, recordSafe = newEscaping(true), newEscaping(false)

func newEscaping(html bool) escaping {
	e := escaping{separators: html}
	for c := range 0x20 {
		e.ascii[c] = 'u'
	}
	e.ascii['"'], e.ascii['\\'] = '"', '\\'
	e.ascii['\n'], e.ascii['\r'], e.ascii['\t'] = 'n', 'r', 't'
	if html {
		e.ascii['\b'], e.ascii['\f'] = 'b', 'f'
		e.ascii['<'], e.ascii['>'], e.ascii['&'] = 'u', 'u', 'u'
	}
	return e
}

func appendString(b []byte, s string, e *escaping) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch esc := e.ascii[c]; esc {
			case 0:
				i++
				continue
			case 'u':
				b = append(b, s[start:i]...)
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, s[start:i]...)
				b = append(b, '\\', esc)
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case e.separators && (r == '\u2028' || r == '\u2029'):
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendFloat appends f as encoding/json writes a float64: the shortest
// text that reads back as f, with an exponent only below 1e-6 and from
// 1e21 on. JSON has no NaN or infinities, which encoding/json refuses:
// AppendFloat writes them as null.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 to e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// AppendArray appends s as a JSON array, each element written by elem,
// and a nil s as null, as encoding/json writes a slice. elem takes the
// element first so that a method expression serves: (*T).AppendJSON.
func AppendArray[E any](b []byte, s []E, elem func(e *E, b []byte) []byte) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(&s[i], b)
	}
	return append(b, ']')
}

// Indent appends src, compact JSON as the Append functions write it, to
// dst laid out as json.MarshalIndent lays out a document: each element of
// an array or object on a line of its own, beginning with prefix and one
// indent for each level it is nested, a space after each colon, and empty
// arrays and objects kept as [] and {}. Indent does not check src: it
// copies strings as they are and acts on the punctuation between them.
func Indent(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			// Copy the string through its closing quote.
			j := i + 1
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' {
					j++
				}
			}
			dst = append(dst, src[i:min(j+1, len(src))]...)
			i = j
			continue
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			newline()
			continue
		case '}', ']':
			depth--
			newline()
		case ',':
			dst = append(dst, c)
			newline()
			continue
		case ':':
			dst = append(dst, c, ' ')
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
