package codec

import (
	"errors"
	"math"
	"strconv"
	"unsafe"

	"github.com/itiny/itiny/internal/hex"
)

// DecodeJSON decodes one JSON record from p into r, reusing r's field
// storage. Keys may come in any order; unknown keys are skipped (readers of
// this version keep reading records of later ones) and missing keys leave
// zero values. Trailing white space is allowed, anything else after the
// object is an error. Errors are *DecodeError with the byte offset.
func DecodeJSON(p []byte, r *Record) error {
	return decodeJSON(p, r, false, nil)
}

// decodeJSON is DecodeJSON; with alias, as for Codec.DecodeAlias, the
// record's strings are views of p and escaped strings are unescaped in
// place; with an arena, as for Codec.DecodeArena, containers are stored
// in it.
func decodeJSON(p []byte, r *Record, alias bool, a *Arena) error {
	d := jsonDecoder{p: p, alias: alias, arena: a}
	r.reset()
	if a != nil {
		r.Fields = nil
	}
	if err := d.record(r); err != nil {
		if err == ErrArenaFull {
			return err // DecodeArena's, without allocating
		}
		return a.fault(JSON, d.i, err)
	}
	d.ws()
	if d.i != len(d.p) {
		return a.fault(JSON, d.i, errTrailing)
	}
	if err := r.validate(false); err != nil {
		return a.fault(JSON, -1, err)
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
	arena *Arena // if set, the storage of every container (arena.go)
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
	defer func() {
		if d.arena != nil {
			d.arena.seen = seen
		}
	}()
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
			fs := r.Fields[:0]
			if d.arena != nil {
				fs = nil // the arena's open container: see add
			}
			r.Fields, err = d.fields(fs, true, 1)
		default:
			// Nested as deep as a known key's value may be: the record is
			// depth 1, its keys' values 2 to MaxDepth+2.
			err = d.skip(1)
		}
		if err != nil {
			return keyFault(k, err, d.arena)
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

// keyFault returns the error of the value of record key k (-1: unknown):
// a keyError, a's own with an arena, or ErrArenaFull itself.
func keyFault(k int, err error, a *Arena) error {
	if err == ErrArenaFull {
		return err
	}
	name := ""
	if k >= 0 {
		name = recordKeyNames[k]
	}
	if a == nil {
		return &keyError{name, err}
	}
	a.key = keyError{name, err}
	return &a.key
}

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
			if fs, err = d.add(fs, Field{Value: v}); err != nil {
				return fs, err
			}
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
		if err != nil {
			return err
		}
		fs, err = d.add(fs, Field{Key: k, Value: v})
		return err
	})
	return fs, err
}

// add appends f to fs: with an arena, fs is the open container on top of
// it (nil before its first element).
func (d *jsonDecoder) add(fs []Field, f Field) ([]Field, error) {
	if d.arena == nil {
		return append(fs, f), nil
	}
	return d.arena.push(fs, f)
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
		if d.arena != nil && err == nil {
			sub = d.arena.seal(sub)
		}
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
			// With an arena, in place, as escapes are unescaped: the
			// decoder writes each quantum behind the bytes it read.
			out := s
			if d.arena == nil {
				out = make([]byte, len(s)/4*3)
			}
			n, err := decodeBase64(out, s)
			if err != nil {
				return err
			}
			if d.arena == nil {
				v = Value{kind: KindBytes, str: string(out[:n])}
			} else {
				v = Value{kind: KindBytes, str: unsafe.String(unsafe.SliceData(out), n)}
			}
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
