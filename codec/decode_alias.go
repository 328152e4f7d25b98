package codec

import (
	"errors"
	"math"

	"github.com/itiny/itiny/internal/msgpack"
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
// DecodeAlias and DecodeArena. The decoder checks as it reads (one pass
// over the record); only a record it drops is walked again, to explain
// why. A record an arena has no room for is not: ErrArenaFull is the
// answer, whatever else is wrong with it.
func decodeMsg(p []byte, r *Record, alias bool, a *Arena) error {
	d := msgDecoder{alias: alias, left: len(p), arena: a}
	r.reset()
	if a != nil {
		r.Fields = nil
	}
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
	if err == nil {
		return nil
	}
	if err == ErrArenaFull {
		return err
	}
	return msgError(p, err, a)
}

// msgError returns the DecodeError of a record the decoder dropped for
// err. A fault of structure (a length, the type byte 0xc1, nesting, UTF-8,
// trailing bytes), wherever it is, is reported as checkMsg finds it, at
// its offset; otherwise err, a value of the wrong type (msgp's message
// names the field) or a broken rule, has no offset.
// With an arena, the error is a's (Arena.fault).
func msgError(p []byte, err error, a *Arena) error {
	// The record map, its fields map, then MaxDepth levels of values.
	n, cerr := checkMsg(p, MaxDepth+2)
	if cerr == nil && n != len(p) {
		cerr = errTrailing
	}
	if cerr != nil {
		return a.fault(Msgpack, n, cerr)
	}
	return a.fault(Msgpack, -1, err)
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
	n, b, err := msgpack.ReadMapHeader(b)
	if err != nil {
		return b, err
	}
	if n > maxRecordKeys {
		return b, errRecordKeys
	}
	var seen uint16
	for i := 1; i <= int(n); i++ {
		var key []byte
		if key, b, err = readStr(b); err != nil {
			return b, err
		}
		k := keyIndex(key)
		if err := recordKey(&seen, k, i); err != nil {
			return b, err
		}
		switch k {
		case keySeq:
			z.Seq, b, err = msgpack.ReadUint(b, math.MaxUint64)
		case keyStream:
			z.Stream, b, err = d.str(b)
		case keyBoot:
			var v []byte
			v, b, err = readBlob(b, false)
			if copy(z.Boot[:], v); err == nil && len(v) != len(z.Boot) {
				err = errBootSize
			}
		case keyBootn:
			z.BootCount, b, err = readUint32(b)
		case keyWall:
			// The three forms of FORMAT.md 4.1: 32, 64 and 96 bits.
			if len(b) < 3 || !(b[0] == 0xd6 || b[0] == 0xd7) || b[1] != 0xff {
				if len(b) < 3 || b[0] != 0xc7 || b[1] != 12 || b[2] != 0xff {
					err = errWallType
					break
				}
			}
			z.Wall, b, err = msgpack.ReadTime(b)
		case keyMono:
			z.Mono, b, err = msgpack.ReadInt(b)
		case keySrc:
			z.Source, b, err = d.str(b)
		case keyLevel:
			var l uint8
			l, b, err = readUint8(b)
			z.Level = Level(l)
		case keyName:
			z.Name, b, err = d.str(b)
		case keyFields:
			b, err = d.fields(&z.Fields, b)
		default:
			// Any value, checked as the record is; the record is depth 1.
			var size int
			if size, err = checkMsg(b, MaxDepth+1); err == nil {
				b = b[size:]
			}
		}
		if err != nil {
			return b, keyFault(k, err, d.arena) // as JSON's (jsondec.go)
		}
	}
	if d.arena != nil {
		d.arena.seen = seen
	}
	return b, nil
}

var (
	errWallType = errors.New("want a timestamp (extension type -1)")
	errBootSize = errors.New("want 16 bytes")
)

func readUint32(b []byte) (uint32, []byte, error) {
	u, b, err := msgpack.ReadUint(b, math.MaxUint32)
	return uint32(u), b, err
}

func readUint8(b []byte) (uint8, []byte, error) {
	u, b, err := msgpack.ReadUint(b, math.MaxUint8)
	return uint8(u), b, err
}
