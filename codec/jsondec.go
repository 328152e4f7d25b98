package codec

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// DecodeJSON decodes one JSON record from p into r, reusing r's field
// storage. Keys may come in any order; unknown keys are skipped (readers of
// this version keep reading records of later ones) and missing keys leave
// zero values. Trailing white space is allowed, anything else after the
// object is an error. Errors are *DecodeError with the byte offset.
func DecodeJSON(p []byte, r *Record) error {
	return decodeJSON(p, r, false)
}

// decodeJSON is DecodeJSON; with alias, as for Codec.DecodeAlias, the
// record's strings are views of p and escaped strings are unescaped in
// place.
func decodeJSON(p []byte, r *Record, alias bool) error {
	d := jsonDecoder{p: p, alias: alias}
	r.reset()
	if err := d.record(r); err != nil {
		return &DecodeError{Codec: JSON, Offset: d.i, Err: err}
	}
	d.ws()
	if d.i != len(d.p) {
		return &DecodeError{Codec: JSON, Offset: d.i, Err: errTrailing}
	}
	if err := r.validate(false); err != nil {
		return &DecodeError{Codec: JSON, Offset: -1, Err: err}
	}
	return nil
}

type jsonDecoder struct {
	p   []byte
	i   int
	buf []byte // unescaped string scratch
	// alias: strings are views of p, and escaped ones are unescaped in
	// place in p (never longer than their escaped form), not in buf.
	alias bool
}

var (
	errSyntax      = errors.New("invalid JSON")
	errReservedKey = errors.New("key starts with '$', which is reserved")
	errBadNumber   = errors.New("bad number")
	errBadUTF8     = errors.New("string is not valid UTF-8")
)

func (d *jsonDecoder) ws() {
	for d.i < len(d.p) {
		switch d.p[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte without consuming it,
// or 0 at the end of input.
func (d *jsonDecoder) next() byte {
	d.ws()
	if d.i < len(d.p) {
		return d.p[d.i]
	}
	return 0
}

func (d *jsonDecoder) expect(c byte) error {
	if d.next() != c {
		return errors.New("want " + strconv.QuoteRune(rune(c)))
	}
	d.i++
	return nil
}

// object calls member for each key of an object; key is valid only until
// member returns.
func (d *jsonDecoder) object(member func(key []byte) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.next() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch d.next() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return errors.New("want ',' or '}'")
		}
	}
}

func (d *jsonDecoder) record(r *Record) error {
	var seen uint16
	n := 0
	return d.object(func(key []byte) error {
		k := keyIndex(key)
		n++
		if err := recordKey(&seen, k, n); err != nil {
			return err
		}
		var err error
		switch k {
		case keySeq:
			r.Seq, err = d.uint(math.MaxUint64)
		case keyStream:
			r.Stream, err = d.string()
		case keyBoot:
			var s []byte
			if s, err = d.str(); err == nil {
				if len(s) != 2*len(r.Boot) {
					return errors.New("boot: want 32 hex digits")
				}
				if _, err = hex.Decode(r.Boot[:], s); err != nil {
					return errors.New("boot: " + err.Error())
				}
			}
		case keyBootn:
			var n uint64
			n, err = d.uint(math.MaxUint32)
			r.BootCount = uint32(n)
		case keyWall:
			var s []byte
			if s, err = d.str(); err == nil {
				r.Wall, err = parseWall(s)
			}
		case keyMono:
			var v Value
			if c := d.next(); c != '-' && (c < '0' || c > '9') {
				err = errors.New("want an integer")
			} else if v, err = d.number(); err == nil && v.kind != KindInt {
				err = errors.New("want an integer")
			}
			r.Mono = v.Int()
		case keySrc:
			r.Source, err = d.string()
		case keyLevel:
			r.Level, err = d.level()
		case keyName:
			r.Name, err = d.string()
		case keyFields:
			r.Fields, err = d.fields(r.Fields[:0], true, 1)
		default:
			// Nested as deep as a known key's value may be: the record is
			// depth 1, its keys' values 2 to MaxDepth+2.
			err = d.skip(1)
		}
		if err != nil {
			name := ""
			if k >= 0 {
				name = recordKeyNames[k]
			}
			return &keyError{name, err}
		}
		return nil
	})
}

// keyError names the record key whose value was bad, keeping the cause
// for errors.Is.
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string {
	if e.key == "" {
		return "unknown key: " + e.err.Error()
	}
	return strconv.Quote(e.key) + ": " + e.err.Error()
}
func (e *keyError) Unwrap() error { return e.err }

func (d *jsonDecoder) level() (Level, error) {
	if d.next() == '"' {
		s, err := d.str()
		if err != nil {
			return 0, err
		}
		return ParseLevel(string(s))
	}
	n, err := d.uint(255) // above 7: Record.validate names it, as for MessagePack
	return Level(n), err
}

// fields decodes an object (keyed) or an array into fs.
func (d *jsonDecoder) fields(fs []Field, keyed bool, depth int) ([]Field, error) {
	if !keyed {
		if err := d.expect('['); err != nil {
			return fs, err
		}
		if d.next() == ']' {
			d.i++
			return fs, nil
		}
		for {
			if len(fs) == MaxFields {
				return fs, ErrTooMany
			}
			v, err := d.value(depth)
			if err != nil {
				return fs, err
			}
			fs = append(fs, Field{Value: v})
			switch d.next() {
			case ',':
				d.i++
			case ']':
				d.i++
				return fs, nil
			default:
				return fs, errors.New("want ',' or ']'")
			}
		}
	}
	err := d.object(func(key []byte) error {
		if len(key) > 0 && key[0] == '$' {
			return errReservedKey
		}
		if len(fs) == MaxFields {
			return ErrTooMany
		}
		k := d.keep(key)
		v, err := d.value(depth)
		fs = append(fs, Field{Key: k, Value: v})
		return err
	})
	return fs, err
}

func (d *jsonDecoder) value(depth int) (Value, error) {
	switch c := d.next(); {
	case c == '"':
		s, err := d.string()
		return String(s), err
	case c == '[' || c == '{':
		if c == '{' {
			if v, ok, err := d.tagged(); ok || err != nil {
				return v, err // a scalar, allowed at any depth
			}
		}
		if depth > MaxDepth {
			return Value{}, ErrTooDeep
		}
		sub, err := d.fields(nil, c == '{', depth+1)
		if c == '{' {
			return Value{kind: KindMap, sub: sub}, err
		}
		return Value{kind: KindList, sub: sub}, err
	case c == 't' || c == 'f':
		return d.literal()
	case c == 'n':
		return Value{}, invalidValue("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 0:
		return Value{}, errors.New("unexpected end of input")
	}
	return Value{}, errSyntax
}

// tagged decodes {"$float":"NaN"} and {"$base64":"..."}. It consumes
// nothing and reports false when the object at d.i is a plain map.
func (d *jsonDecoder) tagged() (Value, bool, error) {
	save := d.i
	d.i++ // '{'
	if d.next() != '"' {
		d.i = save
		return Value{}, false, nil
	}
	// A plain map's first key is read again: never unescape it in place.
	alias := d.alias
	d.alias = false
	key, err := d.str()
	d.alias = alias
	if err != nil || len(key) == 0 || key[0] != '$' {
		d.i = save
		return Value{}, false, nil
	}
	var v Value
	switch string(key) {
	case "$float":
		err = d.tagValue(func(s []byte) error {
			switch string(s) {
			case "NaN":
				v = Float(math.NaN())
			case "+Inf":
				v = Float(math.Inf(1))
			case "-Inf":
				v = Float(math.Inf(-1))
			default:
				return errors.New(`$float: want "NaN", "+Inf" or "-Inf"`)
			}
			return nil
		})
	case "$base64":
		err = d.tagValue(func(s []byte) error {
			out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
			n, err := base64.StdEncoding.Decode(out, s)
			if err != nil {
				return errors.New("$base64: " + err.Error())
			}
			v = Value{kind: KindBytes, str: string(out[:n])}
			return nil
		})
	default:
		return Value{}, true, errReservedKey
	}
	return v, true, err
}

func (d *jsonDecoder) tagValue(f func([]byte) error) error {
	if err := d.expect(':'); err != nil {
		return err
	}
	s, err := d.str()
	if err != nil {
		return err
	}
	if err := f(s); err != nil {
		return err
	}
	return d.expect('}')
}

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

// skip skips any JSON value at depth (the record is 1), its containers
// nested at most MaxDepth+2 deep, as checkMsg bounds MessagePack.
func (d *jsonDecoder) skip(depth int) error {
	switch c := d.next(); c {
	case '"':
		_, err := d.str()
		return err
	case '{':
		if depth >= MaxDepth+2 {
			return ErrTooDeep
		}
		return d.object(func([]byte) error { return d.skip(depth + 1) })
	case '[':
		if depth >= MaxDepth+2 {
			return ErrTooDeep
		}
		d.i++
		if d.next() == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			switch d.next() {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return errors.New("want ',' or ']'")
			}
		}
	case 'n':
		if len(d.p)-d.i >= 4 && string(d.p[d.i:d.i+4]) == "null" {
			d.i += 4
			return nil
		}
		return errSyntax
	default:
		if c == '-' || '0' <= c && c <= '9' {
			_, _, err := d.numberText() // any size: it is not kept
			return err
		}
		_, err := d.value(depth)
		return err
	}
}
