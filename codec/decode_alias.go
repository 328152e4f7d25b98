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
func (c Codec) DecodeAlias(p []byte, r *Record) error { return c.decodeAlias(p, r, nil) }

// DecodeArena decodes like DecodeAlias, but takes the storage of the
// record's fields, and of every list and map in them, from a, never from
// r's storage or new memory: r.Fields is valid until a decodes again. It
// allocates nothing, whatever p holds, except an error's message, and a
// record with more values than a holds is refused with ErrArenaFull. In
// JSON, a $base64 value is decoded in place, like an escaped string. A
// record refused for want of room gets ErrArenaFull itself, not a
// *DecodeError; any other fault a *DecodeError that a holds, valid until
// it decodes again, and (DecodeError.AppendTo) words without allocating
// when its cause is one of the codec's own errors.
//
// The agent's ingest socket uses it, so that the memory a record can make
// it hold does not depend on the record.
func (c Codec) DecodeArena(p []byte, r *Record, a *Arena) error {
	a.reset()
	return c.decodeAlias(p, r, a)
}

func (c Codec) decodeAlias(p []byte, r *Record, a *Arena) error {
	switch c {
	case Msgpack:
		return decodeMsg(p, r, true, a)
	case JSON:
		return decodeJSON(p, r, true, a)
	}
	return errUnknownCodec
}

// decodeMsg decodes a MessagePack record for Decode and, with alias,
// DecodeAlias and DecodeArena.
func decodeMsg(p []byte, r *Record, alias bool, a *Arena) error {
	// The record map, its fields map, then MaxDepth levels of values: the
	// structural check makes every length the decoder reads possible, and
	// checks every string.
	n, err := checkMsg(p, MaxDepth+2)
	if err != nil {
		return a.fault(Msgpack, n, err)
	}
	if n != len(p) {
		return a.fault(Msgpack, n, errTrailing)
	}
	r.reset()
	if a != nil {
		r.Fields = nil
	}
	if err := r.unmarshal(p, alias, a); err != nil {
		if err == ErrArenaFull {
			return err
		}
		// A type mismatch; msgp's message names the field.
		return a.fault(Msgpack, -1, err)
	}
	if err := r.validate(false); err != nil {
		return a.fault(Msgpack, -1, err)
	}
	return nil
}

// unmarshal decodes as the generated Record.UnmarshalMsg (record_gen.go)
// does, key for key, except that with alias strings are views of b, and
// that it keeps the rules of docs/FORMAT.md section 4 on the record's own
// keys that the generated one lacks: keys are str (not bin), none of the
// ten twice, and wall is the official timestamp (not msgp's type 5).
// One hand-written decoder serves both Decode and DecodeAlias, so the
// firmware does not carry two (the generated one is then not linked).
// FuzzDecodeMsgpack checks that every record it accepts the generated one
// decodes the same.
func (z *Record) unmarshal(b []byte, alias bool, a *Arena) error {
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return msgp.WrapError(err)
	}
	if n > maxRecordKeys {
		return errRecordKeys
	}
	var seen uint16
	for i := 1; i <= int(n); i++ {
		var key []byte
		if key, b, err = msgp.ReadStringZC(b); err != nil {
			return msgp.WrapError(err)
		}
		k := keyIndex(key)
		if err := recordKey(&seen, k, i); err != nil {
			return err
		}
		what := ""
		switch k {
		case keySeq:
			what = "Seq"
			z.Seq, b, err = msgp.ReadUint64Bytes(b)
		case keyStream:
			what = "Stream"
			z.Stream, b, err = readStr(b, alias)
		case keyBoot:
			what = "Boot"
			b, err = msgp.ReadExactBytes(b, z.Boot[:])
		case keyBootn:
			what = "BootCount"
			z.BootCount, b, err = msgp.ReadUint32Bytes(b)
		case keyWall:
			what = "Wall"
			if len(b) < 3 || b[0] == 0xc7 && b[2] != 0xff || b[0] != 0xc7 && b[1] != 0xff {
				err = errWallType
				break
			}
			z.Wall, b, err = msgp.ReadTimeUTCBytes(b)
		case keyMono:
			what = "Mono"
			z.Mono, b, err = msgp.ReadInt64Bytes(b)
		case keySrc:
			what = "Source"
			z.Source, b, err = readStr(b, alias)
		case keyLevel:
			what = "Level"
			var l uint8
			l, b, err = msgp.ReadUint8Bytes(b)
			z.Level = Level(l)
		case keyName:
			what = "Name"
			z.Name, b, err = readStr(b, alias)
		case keyFields:
			what = "Fields"
			b, err = z.Fields.unmarshalMsg(b, alias, a)
		default:
			b, err = msgp.Skip(b)
		}
		if err != nil {
			if err == ErrArenaFull {
				return err
			}
			if what == "" {
				return msgp.WrapError(err)
			}
			return msgp.WrapError(err, what)
		}
	}
	return nil
}

var errWallType = errors.New("want a timestamp (extension type -1)")
