package codec

import "errors"

// An Arena is fixed storage for the fields, list elements and map entries
// of the records Codec.DecodeArena decodes: every decode starts it empty,
// and none allocates or holds more than the arena, whatever the input. A
// record with more values, counting every field, element and entry at
// every depth, is refused with ErrArenaFull.
type Arena struct {
	buf []Field
	// MessagePack takes each container's storage from lo up, its length
	// being known. JSON's are only known once closed: an open container's
	// elements are pushed from lo up, and a closed one moves to the top,
	// from hi down, so each value is in one place and n values fit in n.
	lo, hi int
	seen   uint16      // the record keys the last decode met (recordKey)
	err    DecodeError // the last decode's fault
	key    keyError    // its cause when a record key's value was bad
}

// Present reports whether the record the arena last decoded had the key
// named, one of the record's own ten ("seq" ... "fields"): a key missing
// decodes as its zero (FORMAT.md section 4), and a receiver may want
// another default, as the agent's socket does for "level".
func (a *Arena) Present(key string) bool {
	for i, k := range recordKeyNames {
		if k == key {
			return a.seen&(1<<i) != 0
		}
	}
	return false
}

// NewArena returns an arena for records of up to n values.
func NewArena(n int) *Arena { return &Arena{buf: make([]Field, n)} }

// Cap returns the number of values the arena holds.
func (a *Arena) Cap() int { return len(a.buf) }

// ErrArenaFull means a record has more fields, list elements and map
// entries than the arena it is decoded into holds.
var ErrArenaFull = errors.New("codec: more fields and elements than the decoder's arena holds")

func (a *Arena) reset() {
	clear(a.buf[:a.lo]) // keep no views of the last input
	clear(a.buf[a.hi:])
	a.lo, a.hi, a.seen = 0, len(a.buf), 0
}

// take returns storage for a container of n values.
func (a *Arena) take(n int) ([]Field, error) {
	if n > a.hi-a.lo {
		return nil, ErrArenaFull
	}
	if n == 0 {
		return nil, nil
	}
	a.lo += n
	return a.buf[a.lo-n : a.lo : a.lo], nil
}

// push appends f to fs, the open container on top of the arena (nil when
// it has no element yet).
func (a *Arena) push(fs []Field, f Field) ([]Field, error) {
	if a.lo == a.hi {
		return fs, ErrArenaFull
	}
	a.buf[a.lo] = f
	a.lo++
	return a.buf[a.lo-len(fs)-1 : a.lo : a.lo], nil
}

// seal moves fs, the closed container on top of the arena, to the top
// region and returns it there.
func (a *Arena) seal(fs []Field) []Field {
	n := len(fs)
	if n == 0 {
		return nil
	}
	a.hi -= n
	copy(a.buf[a.hi:], fs) // the regions may overlap: copy is memmove
	a.lo -= n
	return a.buf[a.hi : a.hi+n : a.hi+n]
}

// room returns storage for a container of n values: from the arena when
// there is one, else old's if it has the capacity, else new.
func room(old []Field, n int, a *Arena) ([]Field, error) {
	if a != nil {
		return a.take(n)
	}
	return grow(old, n), nil
}

// fault returns a decode error: a's own with an arena, else a new one.
func (a *Arena) fault(c Codec, off int, err error) error {
	if a == nil {
		return &DecodeError{Codec: c, Offset: off, Err: err}
	}
	a.err = DecodeError{Codec: c, Offset: off, Err: err}
	return &a.err
}
