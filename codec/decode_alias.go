package codec

import (
	"errors"

	"github.com/tinylib/msgp/msgp"
)

// DecodeAlias decodes like Decode, with the same checks and errors, but
// without copying strings: the record's Source, Name and Stream, its keys
// and its string and bytes values are views of p. They are valid only as
// long as p is not modified; a caller that reuses p must not keep r, or any
// of its strings, past that (copy what it keeps with strings.Clone). JSON
// strings with escapes are unescaped in place, so p itself is modified.
//
// Once r.Fields has room for the record's fields, a record of scalar
// fields decodes with no allocation at all. The agent's ingest socket uses
// it: a record is decoded from the receive buffer, validated and encoded
// into its ring before the buffer is read into again.
func (c Codec) DecodeAlias(p []byte, r *Record) error {
	switch c {
	case Msgpack:
		return decodeMsg(p, r, true)
	case JSON:
		return decodeJSON(p, r, true)
	}
	return errUnknownCodec
}

// decodeMsg decodes a MessagePack record for Decode and, with alias,
// DecodeAlias. The decoder checks as it reads (one pass over the record);
// only a record it drops is walked again, to explain why.
func decodeMsg(p []byte, r *Record, alias bool) error {
	d := msgDecoder{alias: alias, left: len(p)}
	r.reset()
	rest, err := r.unmarshal(&d, p)
	switch {
	case err != nil:
	case len(rest) > 0:
		err = errTrailing
	default:
		// Record.validate's checks; d has checked the fields'.
		if err = r.validateHead(false); err == nil {
			err = d.rule
		}
	}
	if err != nil {
		return msgError(p, err)
	}
	return nil
}

// msgError returns the DecodeError of a record the decoder dropped for
// err. A fault of structure (a length, the type byte 0xc1, nesting, UTF-8,
// trailing bytes), wherever it is, is reported as checkMsg finds it, at
// its offset; otherwise err, a value of the wrong type (msgp's message
// names the field) or a broken rule, has no offset.
func msgError(p []byte, err error) error {
	// The record map, its fields map, then MaxDepth levels of values.
	n, cerr := checkMsg(p, MaxDepth+2)
	if cerr == nil && n != len(p) {
		cerr = errTrailing
	}
	if cerr != nil {
		return &DecodeError{Codec: Msgpack, Offset: n, Err: cerr}
	}
	return &DecodeError{Codec: Msgpack, Offset: -1, Err: err}
}

// unmarshal decodes as the generated Record.UnmarshalMsg (record_gen.go)
// does, key for key, except that strings are as d makes them, and
// that it checks what checkMsg does, as it reads, and keeps the rules of
// docs/FORMAT.md section 4 on the record's own keys that the generated one
// lacks: keys are str (not bin), none of the ten twice, and wall is the
// official timestamp (not msgp's type 5). It returns the bytes after the
// record. One hand-written decoder serves both Decode and DecodeAlias, so
// the firmware does not carry two (the generated one is then not linked).
// FuzzDecodeMsgpack checks that every record it accepts checkMsg and the
// generated one accept, and decode the same.
func (z *Record) unmarshal(d *msgDecoder, b []byte) ([]byte, error) {
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return b, msgp.WrapError(err)
	}
	if n > maxRecordKeys {
		return b, errRecordKeys
	}
	var seen uint16
	for i := 1; i <= int(n); i++ {
		var key []byte
		if key, b, err = readStr(b); err != nil {
			return b, msgp.WrapError(err)
		}
		k := keyIndex(key)
		if err := recordKey(&seen, k, i); err != nil {
			return b, err
		}
		what := ""
		switch k {
		case keySeq:
			what = "Seq"
			z.Seq, b, err = msgp.ReadUint64Bytes(b)
		case keyStream:
			what = "Stream"
			z.Stream, b, err = d.str(b)
		case keyBoot:
			what = "Boot"
			var v []byte
			v, b, err = readBlob(b, false)
			if copy(z.Boot[:], v); err == nil && len(v) != len(z.Boot) {
				err = msgp.ArrayError{Wanted: uint32(len(z.Boot)), Got: uint32(len(v))}
			}
		case keyBootn:
			what = "BootCount"
			z.BootCount, b, err = msgp.ReadUint32Bytes(b)
		case keyWall:
			what = "Wall"
			// Not ext32 (0xc9), whose length msgp takes as an int (no
			// timestamp is one).
			if len(b) < 3 || b[0] == 0xc9 || b[0] == 0xc7 && b[2] != 0xff || b[0] != 0xc7 && b[1] != 0xff {
				err = errWallType
				break
			}
			z.Wall, b, err = msgp.ReadTimeUTCBytes(b)
		case keyMono:
			what = "Mono"
			z.Mono, b, err = msgp.ReadInt64Bytes(b)
		case keySrc:
			what = "Source"
			z.Source, b, err = d.str(b)
		case keyLevel:
			what = "Level"
			var l uint8
			l, b, err = msgp.ReadUint8Bytes(b)
			z.Level = Level(l)
		case keyName:
			what = "Name"
			z.Name, b, err = d.str(b)
		case keyFields:
			what = "Fields"
			b, err = d.fields(&z.Fields, b)
		default:
			// Any value, checked as the record is; the record is depth 1.
			var size int
			if size, err = checkMsg(b, MaxDepth+1); err == nil {
				b = b[size:]
			}
		}
		if err != nil {
			if what == "" {
				return b, msgp.WrapError(err)
			}
			return b, msgp.WrapError(err, what)
		}
	}
	return b, nil
}

var errWallType = errors.New("want a timestamp (extension type -1)")
