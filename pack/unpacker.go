package pack

import (
	"encoding/binary"
	"io"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// An Unpacker expands a block into its records.
type Unpacker struct {
	src     []byte
	off     int
	seq     uint64
	n       int
	buf     []byte         // the records of the window, back to back
	win     [Refs][2]int32 // start and end in buf of the last records, a ring
	pred    [Predicted]uint64
	size    int  // bytes of the records of a version 3 block returned, up to MaxUnpackedRead
	v2      bool // a version 2 or 3 block, read by d2
	started bool // its version is known
	d2      decoder
}

// Reset starts unpacking block, whose first record has sequence number first.
func (u *Unpacker) Reset(block []byte, first uint64) {
	u.src, u.off, u.seq, u.n, u.buf, u.pred, u.size = block, 0, first, 0, u.buf[:0], [Predicted]uint64{}, 0
	u.v2 = len(block) > 0 && block[0]&tagBad != 0
	u.started = false
}

// Next returns the next record and its sequence number. The record is
// valid until the next call to Next or Reset. At the end of the block it
// returns io.EOF.
func (u *Unpacker) Next() (uint64, []byte, error) {
	if u.off >= len(u.src) {
		return 0, nil, io.EOF
	}
	seq, rec, err := u.next()
	if err == nil && u.v2 && u.d2.s.v3 {
		if u.size += len(rec); u.size > MaxUnpackedRead {
			u.off = len(u.src)
			return 0, nil, u.corrupt(0, "records of over %d bytes", MaxUnpackedRead)
		}
	}
	return seq, rec, err
}

func (u *Unpacker) next() (uint64, []byte, error) {
	if u.v2 {
		return u.next2()
	}
	at := u.off
	tag := u.src[u.off]
	u.off++
	k := int(tag & tagRef)
	if tag&tagBad != 0 || k > Refs || k > u.n {
		return 0, nil, u.corrupt(at, "bad tag 0x%02x", tag)
	}
	seq := u.seq
	if u.n > 0 {
		seq++
	}
	if tag&tagGap != 0 {
		g, ok := u.uvarint()
		if !ok || g == 0 || seq+g < seq {
			return 0, nil, u.corrupt(at, "bad sequence gap")
		}
		seq += g
	}
	u.compact()
	start := len(u.buf)
	if k == 0 {
		n, ok := u.uvarint()
		if !ok || n == 0 || n > MaxRecord || n > uint64(len(u.src)-u.off) {
			return 0, nil, u.corrupt(at, "bad literal length")
		}
		u.buf = append(u.buf, u.src[u.off:u.off+int(n)]...)
		u.off += int(n)
	} else if err := u.expand(at, k); err != nil {
		u.buf = u.buf[:start]
		return 0, nil, err
	}
	u.win[u.n%Refs] = [2]int32{int32(start), int32(len(u.buf))}
	u.n++
	u.seq = seq
	return seq, u.buf[start:], nil
}

// expand appends to buf the record k entries back with the deltas at off
// applied.
func (u *Unpacker) expand(at, k int) error {
	start := len(u.buf)
	w := u.win[(u.n-k)%Refs]
	old := u.buf[w[0]:w[1]]
	oo, left, i := 0, 1, 0
	for left > 0 {
		it, ok := parseItem(old[oo:])
		if !ok || it.kids > len(old) {
			return u.corrupt(at, "referenced record is not MessagePack")
		}
		if it.kind == kindOther {
			u.buf = append(u.buf, old[oo:oo+it.size]...)
		} else {
			d, ok := u.uvarint()
			if !ok {
				return u.corrupt(at, "bad delta")
			}
			var pred uint64
			if i < Predicted {
				pred = u.pred[i]
			}
			v, di := undiff(it.kind, it.value, d, pred)
			if i < Predicted {
				u.pred[i] = di
			}
			i++
			u.buf = appendNumber(u.buf, old[oo], it.kind, v)
		}
		if len(u.buf)-start > MaxRecord {
			return u.corrupt(at, "record over %d bytes", MaxRecord)
		}
		oo += it.size
		left += it.kids - 1
		if left > len(old)-oo {
			return u.corrupt(at, "referenced record is not MessagePack")
		}
	}
	if oo != len(old) {
		return u.corrupt(at, "referenced record is not MessagePack")
	}
	return nil
}

// compact drops records that have left the window from the front of buf,
// once they make up more than half of it.
func (u *Unpacker) compact() {
	if u.n < Refs {
		return
	}
	from := int(u.win[u.n%Refs][0]) // the oldest record the next one may refer to
	if from < len(u.buf)/2 {
		return
	}
	copy(u.buf, u.buf[from:])
	u.buf = u.buf[:len(u.buf)-from]
	for i := range u.win {
		u.win[i][0] -= int32(from)
		u.win[i][1] -= int32(from)
	}
}

func (u *Unpacker) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(u.src[u.off:])
	if n <= 0 {
		return 0, false
	}
	u.off += n
	return v, true
}

func (u *Unpacker) corrupt(at int, format string, args ...any) error {
	return tinyfmt.Errorf("%w: entry %d at offset %d: %s", ErrCorrupt, u.n, at, tinyfmt.Sprintf(format, args...))
}
