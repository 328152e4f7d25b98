// The JSON decoder's scalar tokens: true and false, numbers, and strings,
// unescaped and checked as UTF-8.

package codec

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

func (d *jsonDecoder) literal() (Value, error) {
	rest := d.p[d.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.i += 4
		return Bool(true), nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.i += 5
		return Bool(false), nil
	}
	return Value{}, errSyntax
}

// number decodes a JSON number: an integer when it has no fraction or
// exponent and fits in 64 bits, a float otherwise.
func (d *jsonDecoder) number() (Value, error) {
	text, isFloat, err := d.numberText()
	if err != nil {
		return Value{}, err
	}
	if !isFloat {
		if text[0] == '-' {
			if n, ok := parseUint(text[1:]); ok && n <= 1<<63 {
				return Int(int64(-n)), nil
			}
		} else if n, ok := parseUint(text); ok {
			return Uint(n), nil
		}
	}
	// The bytes are not modified while ParseFloat reads them.
	f, err := strconv.ParseFloat(unsafe.String(&text[0], len(text)), 64)
	if math.IsInf(f, 0) {
		// Infinities are written {"$float":"+Inf"}; a number this large is
		// an error, as in encoding/json. Underflow rounds to zero.
		return Value{}, errors.New("number out of range of a float64")
	} else if err != nil && f != 0 {
		return Value{}, errBadNumber
	}
	return Float(f), nil
}

// numberText scans a JSON number (RFC 8259's grammar) and returns its text
// and whether it has a fraction or an exponent.
func (d *jsonDecoder) numberText() (text []byte, isFloat bool, err error) {
	d.ws()
	start := d.i
	p := d.p
	i := d.i
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
		return nil, false, errBadNumber
	}
	if i < len(p) && p[i] == '.' {
		i++
		isFloat = true
		if !digits() {
			return nil, false, errBadNumber
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		isFloat = true
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false, errBadNumber
		}
	}
	d.i = i
	return p[start:i], isFloat, nil
}

// parseUint parses decimal digits, reporting false on overflow.
func parseUint(s []byte) (uint64, bool) {
	var n uint64
	for _, c := range s {
		if n > (math.MaxUint64-9)/10 {
			if n > math.MaxUint64/10 || n*10 > math.MaxUint64-uint64(c-'0') {
				return 0, false
			}
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func (d *jsonDecoder) uint(max uint64) (uint64, error) {
	if c := d.next(); c != '-' && (c < '0' || c > '9') {
		return 0, errors.New("want an integer from 0 to " + strconv.FormatUint(max, 10))
	}
	v, err := d.number()
	if err != nil {
		return 0, err
	}
	if v.kind != KindInt && v.kind != KindUint || v.kind == KindInt && v.Int() < 0 || v.num > max {
		return 0, errors.New("want an integer from 0 to " + strconv.FormatUint(max, 10))
	}
	return v.num, nil
}

// string decodes a string value into a new Go string, or with d.alias a
// view of the input.
func (d *jsonDecoder) string() (string, error) {
	s, err := d.str()
	return d.keep(s), err
}

// keep returns a string that outlives the next call of str: a copy of s,
// or with d.alias s itself (then a view of the input).
func (d *jsonDecoder) keep(s []byte) string {
	if d.alias {
		return unsafe.String(unsafe.SliceData(s), len(s))
	}
	return string(s)
}

// str decodes a string and returns its bytes, valid until the next call:
// a view of the input when it has no escapes, else d's scratch buffer (with
// d.alias, a view of the input unescaped in place, valid as long as it).
func (d *jsonDecoder) str() ([]byte, error) {
	if d.next() != '"' {
		return nil, errors.New("want a string")
	}
	d.i++
	start := d.i
	p := d.p
	for i := start; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '"':
			d.i = i + 1
			s := p[start:i]
			if !utf8.Valid(s) {
				return nil, errBadUTF8
			}
			return s, nil
		case c == '\\':
			return d.unescape(start, i)
		case c < 0x20:
			d.i = i
			return nil, errors.New("control character in string")
		}
	}
	d.i = len(p)
	return nil, errors.New("unterminated string")
}

func (d *jsonDecoder) unescape(start, i int) ([]byte, error) {
	p := d.p
	var b []byte
	if d.alias {
		// In place: each escape writes fewer bytes than it reads, so the
		// writes stay behind the bytes still to read.
		b = p[start:i]
	} else {
		b = append(d.buf[:0], p[start:i]...)
		defer func() { d.buf = b[:0] }()
	}
	for i < len(p) {
		c := p[i]
		switch {
		case c == '"':
			d.i = i + 1
			if !utf8.Valid(b) {
				return nil, errBadUTF8
			}
			return b, nil
		case c < 0x20:
			d.i = i
			return nil, errors.New("control character in string")
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(p) {
			break
		}
		i++
		switch p[i] {
		case '"', '\\', '/':
			b = append(b, p[i])
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
			r, ok := hex4(p[i+1:])
			if !ok {
				d.i = i
				return nil, errors.New(`bad \u escape`)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+2 < len(p) && p[i+1] == '\\' && p[i+2] == 'u' {
					r2, ok = hex4(p[i+3:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			d.i = i
			return nil, errors.New("bad escape")
		}
		i++
	}
	d.i = len(p)
	return nil, errors.New("unterminated string")
}

func hex4(p []byte) (rune, bool) {
	if len(p) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p[:4] {
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
