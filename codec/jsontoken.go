// The JSON decoder's scalar tokens: true and false, numbers, and strings,
// unescaped and checked as UTF-8.

package codec

import (
	"errors"
	"math"
	"strconv"
	"unsafe"

	"github.com/itiny/itiny/internal/jsontok"
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
	end, isFloat, err := jsontok.Number(d.p, d.i)
	if err != nil {
		return nil, false, errBadNumber
	}
	text, d.i = d.p[d.i:end], end
	return text, isFloat, nil
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
	dst := d.buf[:0]
	if d.alias {
		dst = d.p[d.i+1 : d.i+1]
	}
	s, end, err := jsontok.String(dst, d.p, d.i, false)
	if err != nil {
		te := err.(*jsontok.Error)
		d.i = te.Off
		return nil, errors.New(te.Msg)
	}
	if !d.alias && len(s) < end-d.i-2 { // unescaped into d.buf: keep it grown
		d.buf = s[:0]
	}
	d.i = end
	return s, nil
}
