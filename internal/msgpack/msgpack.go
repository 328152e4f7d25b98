// Package msgpack writes and reads the MessagePack items itiny's records
// are made of (https://github.com/msgpack/msgpack/blob/master/spec.md):
// nil, booleans, integers, floats, strings, binary, arrays, maps and the
// timestamp extension (-1). Writers choose the smallest encoding of a
// number, as the format documents (docs/FORMAT.md section 4); readers take
// any encoding of the kind asked for and never read past their input.
//
// It replaces github.com/tinylib/msgp in the binaries: that package's
// initialisation links encoding/json and its reflection, about 400 KB of a
// 3 MiB firmware budget, for the few dozen functions used here. Its
// encodings are the same byte for byte, and so are its readers' answers
// (msgpack_test.go checks both against it).
package msgpack

import (
	"encoding/binary"
	"errors"
	"strconv"
)

var be = binary.BigEndian

// A Type is the kind of the next item.
type Type uint8

// Item types. Int is a signed encoding or a positive fixint, Uint an
// unsigned encoding (uint 8 to uint 64).
const (
	Invalid Type = iota
	Nil
	Bool
	Int
	Uint
	Float32
	Float64
	Str
	Bin
	Array
	Map
	Ext
	Time // the timestamp extension, -1
)

var typeNames = [...]string{"invalid", "nil", "bool", "int", "uint", "float32", "float64", "str", "bin", "array", "map", "ext", "time"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "invalid"
}

// TimeExt is the timestamp extension's type.
const TimeExt = -1

var (
	// ErrShort means the input ends inside an item.
	ErrShort = errors.New("msgpack: too few bytes left to read object")
	// ErrInvalid means the unused lead byte 0xc1.
	ErrInvalid = errors.New("msgpack: invalid lead byte 0xc1")
)

// A TypeError says that the next item is not of the type asked for.
type TypeError struct {
	Want, Got Type
}

func (e TypeError) Error() string {
	return "msgpack: attempted to decode type " + strconv.Quote(e.Got.String()) + " with method for " + strconv.Quote(e.Want.String())
}

// typeErrors holds every TypeError, so that the readers return one as a
// pointer and a decoder that refuses input of the wrong type allocates
// nothing (a TypeError in an interface would take a heap object).
var typeErrors [Time + 1][Time + 1]TypeError

func init() {
	for w := range typeErrors {
		for g := range typeErrors[w] {
			typeErrors[w][g] = TypeError{Type(w), Type(g)}
		}
	}
}

// typeError returns the *TypeError of want and got.
func typeError(want, got Type) error {
	if got > Time {
		got = Invalid
	}
	return &typeErrors[want][got]
}

// A RangeError says that a number does not fit the type asked for.
type RangeError struct {
	Value string // the number, in decimal
	Want  string // what it does not fit
}

func (e RangeError) Error() string { return "msgpack: " + e.Value + " does not fit in " + e.Want }

// NextType returns the type of the item at the start of b, Invalid if b
// is empty or starts with the unused byte 0xc1.
func NextType(b []byte) Type {
	if len(b) == 0 {
		return Invalid
	}
	c := b[0]
	switch {
	case c <= 0x7f || c >= 0xe0:
		return Int
	case c <= 0x8f:
		return Map
	case c <= 0x9f:
		return Array
	case c <= 0xbf:
		return Str
	}
	switch c {
	case 0xc0:
		return Nil
	case 0xc2, 0xc3:
		return Bool
	case 0xc4, 0xc5, 0xc6:
		return Bin
	case 0xca:
		return Float32
	case 0xcb:
		return Float64
	case 0xcc, 0xcd, 0xce, 0xcf:
		return Uint
	case 0xd0, 0xd1, 0xd2, 0xd3:
		return Int
	case 0xd9, 0xda, 0xdb:
		return Str
	case 0xdc, 0xdd:
		return Array
	case 0xde, 0xdf:
		return Map
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xc7, 0xc8, 0xc9:
		if typ, ok := extType(b); ok && (typ == TimeExt || typ == msgpTimeExt) {
			return Time
		}
		return Ext
	}
	return Invalid
}

// extType returns an extension item's type byte, if b holds more than
// the item's header.
func extType(b []byte) (int8, bool) {
	head := 2 // fixext: lead, type
	switch b[0] {
	case 0xc7:
		head = 3
	case 0xc8:
		head = 4
	case 0xc9:
		head = 6
	}
	if len(b) <= head {
		return 0, false
	}
	return int8(b[head-1]), true
}

// msgpTimeExt is the extension msgp wrote times as before it wrote the
// standard one; it is read as a time, as msgp reads it.
const msgpTimeExt = 5
