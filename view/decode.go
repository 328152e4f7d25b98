package view

import (
	"bytes"
	"errors"
	"strconv"
	"unsafe"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/msgpack"
	"github.com/itiny/itiny/ringlog"
)

// MaxValues bounds the values (fields, list elements, map entries) of a
// record that readers decode. Decoded, each takes valueSize (72) bytes
// however few bytes it took in the payload, so a crafted megabyte of
// one-byte list elements would take 72 MB: bounded, a record takes at
// most 1.2 MB. Every record an agent with the default max_record (16 KiB)
// stores has fewer values, since each takes a byte at least.
const MaxValues = 16 << 10

// valueSize is what a value takes decoded.
const valueSize = int(unsafe.Sizeof(codec.Field{}))

// keepValues is the most values' worth of memory a record kept from one
// decode to the next may keep once a larger record is gone: a record
// of the agent's has 10 to 40.
const keepValues = 64

// ErrTooManyValues is wrapped by the error of a record with more than
// MaxValues values: it is read, and shown as a record that does not
// decode.
var ErrTooManyValues = errors.New("more values than a reader decodes (" + strconv.Itoa(MaxValues) + ")")

// Decode decodes e's record into r as codec.Decode does, unless it has
// more than MaxValues values.
func Decode(e *ringlog.Entry, r *codec.Record) error {
	if tooMany(e) {
		return ErrTooManyValues
	}
	return e.Codec.Decode(e.Payload, r)
}

// tooMany reports whether e's record has more than MaxValues values. Each
// takes a byte at least, so only a larger payload is looked at.
func tooMany(e *ringlog.Entry) bool {
	return len(e.Payload) > MaxValues && countValues(e.Codec, e.Payload) > MaxValues
}

// keepEscaped is the most bytes of a copied payload (slot.decode) a slot
// keeps from one decode to the next: the default max_record.
const keepEscaped = 16 << 10

// A slot holds one decoded record at a time, as codec.DecodeAlias decodes
// it (strings are views of the payload), reusing its memory from record
// to record, but keeping no more than keepValues values' worth once a
// larger record is gone.
//
// It never writes to the entry's payload. DecodeAlias unescapes a JSON
// string in place, and an entry's bytes are the record as stored: a lean
// merge decodes them a second time, where a raw newline would make a good
// record look undecodable, and migrate sends them on. A JSON payload with
// an escape is decoded from a copy (inPlace).
type slot struct {
	rec    codec.Record
	values int    // in rec
	copied int    // bytes of the copy rec views, if any
	esc    []byte // decode's copies
}

// decode decodes e's record into the slot, a JSON payload with escapes
// from a copy in the slot's own buffer.
func (s *slot) decode(e *ringlog.Entry) error {
	s.esc = s.esc[:0]
	err := s.decodeIn(e, &s.esc)
	if cap(s.esc) > keepEscaped {
		s.esc = nil // the record views the copy; the slot keeps no room this large
	}
	return err
}

// decodeIn is decode with the copy, if one is needed, appended to *buf:
// the bytes already in it stay as they are.
func (s *slot) decodeIn(e *ringlog.Entry, buf *[]byte) error {
	if s.values > keepValues {
		s.rec = codec.Record{}
	}
	s.copied = 0
	if tooMany(e) {
		s.values = 0
		return ErrTooManyValues
	}
	p := e.Payload
	if inPlace(e.Codec, p) {
		start := len(*buf)
		*buf = append(*buf, p...)
		p = (*buf)[start:len(*buf):len(*buf)]
		s.copied = len(p)
	}
	err := e.Codec.DecodeAlias(p, &s.rec)
	s.values = valuesIn(s.rec.Fields)
	return err
}

// inPlace reports whether codec.DecodeAlias writes to payload p: JSON
// strings with escapes are unescaped in place; MessagePack is only read.
func inPlace(c codec.Codec, p []byte) bool {
	return c == codec.JSON && bytes.IndexByte(p, '\\') >= 0
}

// size is what the slot's record takes decoded, its copy included.
func (s *slot) size() int { return s.values*valueSize + s.copied }

// valuesIn counts the fields, list elements and map entries of fs.
func valuesIn(fs codec.Fields) int {
	n := len(fs)
	for i := range fs {
		n += within(fs[i].Value)
	}
	return n
}

// within counts the elements or entries of a list or map value, at every
// depth.
func within(v codec.Value) int {
	if k := v.Kind(); k != codec.KindList && k != codec.KindMap {
		return 0
	}
	n := v.Len()
	for j := 0; j < v.Len(); j++ {
		n += within(v.Entry(j).Value)
	}
	return n
}

// countValues counts the values of a record's payload, at least as many
// as decoding it makes, stopping once past MaxValues: it reads the
// containers' headers only, in time linear in the payload.
func countValues(c codec.Codec, p []byte) int {
	if c == codec.JSON {
		return jsonValues(p)
	}
	n, pending := 0, 1 // values counted; items still to pass over
	for pending > 0 && len(p) > 0 && n <= MaxValues {
		pending--
		var sz uint32
		var err error
		switch msgpack.NextType(p) {
		case msgpack.Map:
			sz, p, err = msgpack.ReadMapHeader(p)
			pending += 2 * int(sz)
		case msgpack.Array:
			sz, p, err = msgpack.ReadArrayHeader(p)
			pending += int(sz)
		default:
			p, err = msgpack.Skip(p)
		}
		if err != nil {
			break // the decoder says what is wrong
		}
		if sz > MaxValues {
			return MaxValues + 1
		}
		n += int(sz)
	}
	return n
}

// jsonValues counts the commas, brackets and braces of a JSON payload
// outside its strings: at least the values decoding it makes.
func jsonValues(p []byte) int {
	n := 0
	for i := 0; i < len(p) && n <= MaxValues; i++ {
		switch p[i] {
		case ',', '[', '{':
			n++
		case '"':
			for i++; i < len(p) && p[i] != '"'; i++ {
				if p[i] == '\\' {
					i++
				}
			}
		}
	}
	return n
}
