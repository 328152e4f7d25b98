package codec

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/itiny/itiny/internal/msgpack"
)

// A Kind is the type of a Value.
type Kind uint8

// Value kinds. An integer that fits in int64 is always KindInt, whatever
// constructor made it: MessagePack and JSON write small unsigned and signed
// integers alike, so KindUint is kept for values above math.MaxInt64 only.
// This keeps decoding exact: a value decodes to the Kind it was encoded from.
const (
	KindInvalid Kind = iota
	KindInt
	KindUint
	KindFloat
	KindBool
	KindString
	KindBytes
	KindList
	KindMap
)

var kindNames = [...]string{"invalid", "int", "uint", "float", "bool", "string", "bytes", "list", "map"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + itoa(int(k)) + ")"
}

// invalidValue is ErrInvalidValue naming what was found instead: nil or
// null, an extension, a timestamp.
type invalidValue string

func (e invalidValue) Error() string        { return "invalid value: " + string(e) }
func (e invalidValue) Is(target error) bool { return target == ErrInvalidValue }

// invalidTypes is the invalidValue of each MessagePack type a value cannot
// be, made once: a refused record allocates no error.
var invalidTypes [msgpack.Time + 1]error

func init() {
	for t := range invalidTypes {
		invalidTypes[t] = invalidValue(msgpack.Type(t).String())
	}
}

// MaxDepth bounds how deeply lists and maps nest inside a field value.
// A field whose value is a list of scalars has depth 1.
const MaxDepth = 8

// A Value is a typed field value. The zero Value is invalid.
// Values are small and copied by value; list and map values share their
// elements with the slice they were built from.
type Value struct {
	kind Kind
	num  uint64  // int, uint, bool, float64 bits
	str  string  // string and bytes
	sub  []Field // list elements (empty keys) and map entries
}

// A Field is a named value. Keys are non-empty UTF-8 strings that do not
// start with '$' (reserved for JSON type tags, see docs/FORMAT.md).
type Field struct {
	Key   string
	Value Value
}

// Fields is a record's ordered list of fields. Order is kept by both
// encodings.
type Fields []Field

// Int returns an integer value.
func Int(v int64) Value { return Value{kind: KindInt, num: uint64(v)} }

// Uint returns an unsigned integer value; see KindUint for its Kind.
func Uint(v uint64) Value {
	if v <= math.MaxInt64 {
		return Value{kind: KindInt, num: v}
	}
	return Value{kind: KindUint, num: v}
}

// Float returns a floating-point value. NaN and infinities are allowed.
func Float(v float64) Value { return Value{kind: KindFloat, num: math.Float64bits(v)} }

// Bool returns a boolean value.
func Bool(v bool) Value {
	if v {
		return Value{kind: KindBool, num: 1}
	}
	return Value{kind: KindBool}
}

// String returns a string value.
func String(v string) Value { return Value{kind: KindString, str: v} }

// SetInt, SetUint, SetFloat, SetBool and SetString set f[i] to the value
// Int, Uint, Float, Bool or String makes: for callers that refill a
// record's fields, as the agent's collectors do each sample, one call
// where the value's constructor and the store of its seven words, with
// write barriers, would be code at each site (docs/DESIGN.md section 14).
func (f Fields) SetInt(i int, v int64)     { f[i].Value = Int(v) }
func (f Fields) SetUint(i int, v uint64)   { f[i].Value = Uint(v) }
func (f Fields) SetFloat(i int, v float64) { f[i].Value = Float(v) }
func (f Fields) SetBool(i int, v bool)     { f[i].Value = Bool(v) }
func (f Fields) SetString(i int, v string) { f[i].Value = String(v) }

// Bytes returns a binary value holding a copy of v.
func Bytes(v []byte) Value { return Value{kind: KindBytes, str: string(v)} }

// List returns a list value of the given elements; their keys are ignored.
func List(elems ...Value) Value {
	sub := make([]Field, len(elems))
	for i, e := range elems {
		sub[i].Value = e
	}
	return Value{kind: KindList, sub: sub}
}

// Map returns a map value of the given entries, in order.
func Map(entries ...Field) Value { return Value{kind: KindMap, sub: entries} }

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// Int returns the value of a KindInt value.
func (v Value) Int() int64 { return int64(v.num) }

// Uint returns the value of a KindInt or KindUint value as uint64.
func (v Value) Uint() uint64 { return v.num }

// Float returns the value of a KindFloat value.
func (v Value) Float() float64 { return math.Float64frombits(v.num) }

// Number returns an integer or a float value as a float64, and false
// for a value that is not a number.
func (v Value) Number() (float64, bool) {
	switch v.kind {
	case KindInt:
		return float64(int64(v.num)), true
	case KindUint:
		return float64(v.num), true
	case KindFloat:
		return math.Float64frombits(v.num), true
	}
	return 0, false
}

// Bool returns the value of a KindBool value.
func (v Value) Bool() bool { return v.num != 0 }

// Str returns the value of a KindString or KindBytes value.
func (v Value) Str() string { return v.str }

// Len returns the number of elements of a list or entries of a map.
func (v Value) Len() int { return len(v.sub) }

// Index returns element i of a list or the value of entry i of a map.
func (v Value) Index(i int) Value { return v.sub[i].Value }

// Entry returns entry i of a map.
func (v Value) Entry(i int) Field { return v.sub[i] }

// Equal reports whether two values are the same; NaN equals NaN, so that a
// record compares equal to itself after a round trip.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case KindFloat:
		a, b := v.Float(), w.Float()
		return a == b && math.Signbit(a) == math.Signbit(b) || a != a && b != b
	case KindString, KindBytes:
		return v.str == w.str
	case KindList, KindMap:
		return Fields(v.sub).Equal(w.sub)
	}
	return v.num == w.num
}

// Equal reports whether two field lists hold the same keys and values in
// the same order.
func (f Fields) Equal(g Fields) bool {
	if len(f) != len(g) {
		return false
	}
	for i := range f {
		if f[i].Key != g[i].Key || !f[i].Value.Equal(g[i].Value) {
			return false
		}
	}
	return true
}

// MarshalMsg appends the fields as a MessagePack map.
func (f Fields) MarshalMsg(b []byte) ([]byte, error) {
	b = msgpack.AppendMapHeader(b, uint32(len(f)))
	for i := range f {
		b = msgpack.AppendString(b, f[i].Key)
		var err error
		if b, err = f[i].Value.appendMsg(b, 1); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (v Value) appendMsg(b []byte, depth int) ([]byte, error) {
	switch v.kind {
	case KindInt:
		return msgpack.AppendInt(b, int64(v.num)), nil
	case KindUint:
		return msgpack.AppendUint(b, v.num), nil
	case KindFloat:
		return msgpack.AppendFloat64(b, v.Float()), nil
	case KindBool:
		return msgpack.AppendBool(b, v.num != 0), nil
	case KindString:
		return msgpack.AppendString(b, v.str), nil
	case KindBytes:
		return appendBin(b, v.str), nil
	case KindList, KindMap:
		if depth > MaxDepth {
			return b, ErrTooDeep
		}
		if v.kind == KindList {
			b = msgpack.AppendArrayHeader(b, uint32(len(v.sub)))
		} else {
			b = msgpack.AppendMapHeader(b, uint32(len(v.sub)))
		}
		for i := range v.sub {
			if v.kind == KindMap {
				b = msgpack.AppendString(b, v.sub[i].Key)
			}
			var err error
			if b, err = v.sub[i].Value.appendMsg(b, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	}
	return b, ErrInvalidValue
}

// appendBin appends s as a MessagePack bin without converting it to []byte.
func appendBin(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = append(b, 0xc5, byte(n>>8), byte(n))
	default:
		b = append(b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, s...)
}

// Msgsize returns an upper bound of the MessagePack size of f.
func (f Fields) Msgsize() int {
	n := 5
	for i := range f {
		n += 5 + len(f[i].Key) + f[i].Value.msgsize()
	}
	return n
}

func (v Value) msgsize() int {
	switch v.kind {
	case KindString, KindBytes:
		return 5 + len(v.str)
	case KindList, KindMap:
		return 5 + Fields(v.sub).Msgsize()
	}
	return 9
}

// UnmarshalMsg decodes a MessagePack map into f, reusing its storage, with
// the checks and rules Decode applies to a record's fields. Every claimed
// element count is checked against the bytes left, so hostile input cannot
// make it allocate more than a small multiple of its size.
func (f *Fields) UnmarshalMsg(b []byte) ([]byte, error) {
	d := msgDecoder{left: len(b)}
	b, err := d.fields(f, b)
	if err == nil {
		err = d.rule
	}
	return b, err
}

// A msgDecoder decodes a MessagePack record's fields in the one pass that
// also checks them: every length against the bytes left (readBlob), every
// str for UTF-8, nesting, element counts, and the rules of docs/FORMAT.md
// section 4 on keys (validateKeys), which Record.validate would check after.
type msgDecoder struct {
	alias bool // strings are views of the input (Codec.DecodeAlias)
	// rule is the first breach of a rule on keys, in the order
	// Record.validate finds them. Decoding goes on: a value of the wrong
	// type anywhere is reported first, as when validate ran after.
	rule error
	// left is what containers not yet read may still claim. Every item
	// of a valid record starts at a byte of its own, so the elements of
	// all its containers, at a byte each and two a map entry, fit in its
	// size; containers cut short then cannot claim, and make the decoder
	// allocate, more than the input could hold.
	left int
	// arena, if set, is the storage of every container and of the error
	// (Codec.DecodeArena); else a container reuses the storage it
	// replaces when it has room.
	arena *Arena
}

// fields decodes the map of a record's fields into f.
func (d *msgDecoder) fields(f *Fields, b []byte) ([]byte, error) {
	n, b, err := d.container(b, msgpack.Map)
	if err != nil {
		return b, err
	}
	if *f, err = room(*f, n, d.arena); err != nil {
		return b, err
	}
	return d.elems(*f, b, true, 1)
}

// elems decodes the entries of a map (keyed) or the elements of a list
// into fs, their values at depth.
func (d *msgDecoder) elems(fs []Field, b []byte, keyed bool, depth int) ([]byte, error) {
	before := d.rule
	var err error
	for i := range fs {
		if !keyed {
			fs[i].Key = ""
		} else if fs[i].Key, b, err = d.str(b); err != nil {
			return b, err
		}
		if b, err = d.value(&fs[i].Value, b, depth); err != nil {
			return b, err
		}
	}
	// A map's keys come before its values' in validate's order.
	if keyed && before == nil {
		if err := validateKeys(fs, false); err != nil {
			d.rule = err
		}
	}
	return b, nil
}

// grow returns fs with length n, reusing its storage when it has room.
func grow(fs []Field, n int) []Field {
	if cap(fs) >= n {
		return fs[:n]
	}
	return make([]Field, n)
}

// str reads a MessagePack str: a copy, or with alias a view of b.
func (d *msgDecoder) str(b []byte) (string, []byte, error) {
	v, b, err := readStr(b)
	return d.string(v), b, err
}

func (d *msgDecoder) string(v []byte) string {
	if d.alias {
		return unsafe.String(unsafe.SliceData(v), len(v))
	}
	return string(v)
}

// container reads a map or array header of a claimed count no larger
// than MaxFields and than the bytes left, and d.left, allow, at a byte an
// element and two a map entry.
func (d *msgDecoder) container(b []byte, t msgpack.Type) (int, []byte, error) {
	var n uint32
	var err error
	min := 1
	if t == msgpack.Map {
		min = 2
		n, b, err = msgpack.ReadMapHeader(b)
	} else {
		n, b, err = msgpack.ReadArrayHeader(b)
	}
	if err != nil {
		return 0, b, err
	}
	claim := int(n) * min
	if n > MaxFields || claim > len(b) || claim > d.left {
		return 0, b, ErrTooMany
	}
	d.left -= claim
	return int(n), b, nil
}

func (d *msgDecoder) value(v *Value, b []byte, depth int) ([]byte, error) {
	if len(b) == 0 {
		return b, msgpack.ErrShort
	}
	// Integers and float64s inline, in one load when a word is left.
	switch c := b[0]; {
	case c <= 0x7f || c >= 0xe0: // fixint
		*v = Int(int64(int8(c)))
		return b[1:], nil
	case c >= 0xcb && c <= 0xd3 && len(b) >= 9: // float64, uint8-64, int8-64
		u := binary.BigEndian.Uint64(b[1:])
		if c == 0xcb {
			*v = Value{kind: KindFloat, num: u}
			return b[9:], nil
		}
		w := 1 << ((c - 0xcc) & 3) // bytes
		if s := 64 - 8*w; c >= 0xd0 {
			*v = Int(int64(u) >> s)
		} else {
			*v = Uint(u >> s)
		}
		return b[1+w:], nil
	}
	var err error
	switch t := msgpack.NextType(b); t {
	case msgpack.Int:
		var i int64
		i, b, err = msgpack.ReadInt(b)
		*v = Int(i)
	case msgpack.Uint:
		var u uint64
		u, b, err = msgpack.ReadUint(b, math.MaxUint64)
		*v = Uint(u)
	case msgpack.Float64, msgpack.Float32:
		var f float64
		f, b, err = msgpack.ReadFloat64(b)
		*v = Float(f)
	case msgpack.Bool:
		var t bool
		t, b, err = msgpack.ReadBool(b)
		*v = Bool(t)
	case msgpack.Str:
		var s string
		s, b, err = d.str(b)
		*v = String(s)
	case msgpack.Bin:
		var p []byte
		p, b, err = readBlob(b, false)
		*v = Value{kind: KindBytes, str: d.string(p)}
	case msgpack.Array, msgpack.Map:
		if depth > MaxDepth {
			return b, ErrTooDeep
		}
		var n int
		if n, b, err = d.container(b, t); err != nil {
			return b, err
		}
		kind := KindList
		if t == msgpack.Map {
			kind = KindMap
		}
		var sub []Field
		if sub, err = room(v.sub, n, d.arena); err != nil {
			return b, err
		}
		b, err = d.elems(sub, b, kind == KindMap, depth+1)
		*v = Value{kind: kind, sub: sub}
	default:
		return b, invalidTypes[t]
	}
	return b, err
}
