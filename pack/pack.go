// Package pack compresses a run of MessagePack records of one stream into
// a block, and expands it again.
//
// Periodic samples repeat themselves: the same record names, field names and
// types every interval, with numbers that move a little. A block therefore
// stores a record either whole (a literal) or as a reference to one of the
// 32 records before it that has the same shape, followed by the change of
// each of its numbers. Two records have the same shape when their
// MessagePack items are the same one by one, except numbers: every integer,
// float and timestamp may differ in value, and an integer in width.
//
// A block is a sequence of entries, one per record:
//
//	entry   = tag [uvarint gap] body
//	tag     = one byte: bits 0-5 ref (0 to 32), bit 6 set when gap follows, bit 7 zero
//	gap     = the record's sequence number minus the previous one's, minus 1
//	          (the first record's is counted from the block's first sequence number)
//	body    = uvarint length, then length bytes of one MessagePack record  (ref 0)
//	        | one delta per number of the referenced record, in order         (ref k)
//
// A record with ref k is the record k entries back with its numbers
// replaced, each delta taken against that record's number:
//
//   - integer (positive or negative fixint, uint8-64, int8-64): a uvarint of
//     the zigzag of new − old, in 64-bit wrap-around arithmetic on the
//     numbers' two's-complement bits. The new integer is written as msgp
//     writes it: with the old one's signedness (uint8-64 unsigned; fixints
//     and int8-64 signed), in the fewest bytes.
//   - float32, float64: a uvarint of new XOR old, as IEEE 754 bits.
//   - timestamp (extension type −1 with 4, 8 or 12 data bytes, whose
//     nanoseconds since 1970 fit an int64): a uvarint of the zigzag of the
//     difference in nanoseconds, written as msgp's AppendTimeExt writes it.
//
// The first Predicted numbers of a reference store their difference minus
// a prediction: the difference of the same position in the last reference
// that had a number there (0 for a float, and 0 at first). docs/FORMAT.md
// section 3.4 has the exact rule.
//
// Every other item is copied unchanged. The packer emits a reference only
// when the reconstruction gives back the record's bytes exactly, so
// unpacking yields byte for byte what was packed.
//
// Packing allocates nothing; its references point into the records it was
// given, which must stay unchanged until the next Reset. Unpacking keeps
// the last 32 records, each at most MaxRecord bytes, so it needs at most
// about 2 MiB whatever the block holds, and rejects every malformed block
// with an error naming the offset.
package pack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	// Refs is how many earlier records an entry may refer to.
	Refs = 32
	// MaxRecord bounds every record of a block, packed or unpacked.
	MaxRecord = 64 << 10
	// MaxRefRecord bounds the records a Packer refers to, and so its
	// memory: larger ones are stored whole.
	MaxRefRecord = 2 << 10
	// Predicted is how many leading numbers of a record are stored as the
	// change of their difference: in an itiny record, seq, bootn, wall and
	// mono, whose differences repeat from record to record.
	Predicted = 4

	tagRef = 0x3f
	tagGap = 0x40
	tagBad = 0x80
)

// ErrCorrupt is wrapped by every error from unpacking a malformed block.
var ErrCorrupt = errors.New("pack: corrupt block")

// item classes.
const (
	kindOther = iota // copied
	kindInt
	kindF32
	kindF64
	kindTime
)

// An item is one MessagePack item's header and body, without children.
type item struct {
	size  int    // bytes of header and body
	kids  int    // items that follow as its elements (2 per map entry)
	kind  uint8  // kindOther, kindInt, ...
	value uint64 // the number's bits: int64/uint64, float bits, or ns since 1970
}

// parseItem parses the item at the start of p.
func parseItem(p []byte) (item, bool) {
	if len(p) == 0 {
		return item{}, false
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return item{size: 1, kind: kindInt, value: uint64(c)}, true
	case c >= 0xe0:
		return item{size: 1, kind: kindInt, value: uint64(int64(int8(c)))}, true
	case c >= 0xa0 && c <= 0xbf: // fixstr
		return bodyItem(p, 1, uint64(c&0x1f))
	case c >= 0x80 && c <= 0x8f: // fixmap
		return item{size: 1, kids: 2 * int(c&0x0f)}, true
	case c >= 0x90 && c <= 0x9f: // fixarray
		return item{size: 1, kids: int(c & 0x0f)}, true
	}
	be := binary.BigEndian
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return item{size: 1}, true
	case 0xcc, 0xd0:
		if len(p) < 2 {
			return item{}, false
		}
		v := uint64(p[1])
		if c == 0xd0 {
			v = uint64(int64(int8(p[1])))
		}
		return item{size: 2, kind: kindInt, value: v}, true
	case 0xcd, 0xd1:
		if len(p) < 3 {
			return item{}, false
		}
		v := uint64(be.Uint16(p[1:]))
		if c == 0xd1 {
			v = uint64(int64(int16(v)))
		}
		return item{size: 3, kind: kindInt, value: v}, true
	case 0xce, 0xd2, 0xca:
		if len(p) < 5 {
			return item{}, false
		}
		v := uint64(be.Uint32(p[1:]))
		switch c {
		case 0xd2:
			v = uint64(int64(int32(v)))
		case 0xca:
			return item{size: 5, kind: kindF32, value: v}, true
		}
		return item{size: 5, kind: kindInt, value: v}, true
	case 0xcf, 0xd3, 0xcb:
		if len(p) < 9 {
			return item{}, false
		}
		k := uint8(kindInt)
		if c == 0xcb {
			k = kindF64
		}
		return item{size: 9, kind: k, value: be.Uint64(p[1:])}, true
	case 0xc4, 0xd9: // bin8, str8
		if len(p) < 2 {
			return item{}, false
		}
		return bodyItem(p, 2, uint64(p[1]))
	case 0xc5, 0xda:
		if len(p) < 3 {
			return item{}, false
		}
		return bodyItem(p, 3, uint64(be.Uint16(p[1:])))
	case 0xc6, 0xdb:
		if len(p) < 5 {
			return item{}, false
		}
		return bodyItem(p, 5, uint64(be.Uint32(p[1:])))
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext: type byte and 1-16 bytes
		return bodyItem(p, 2, 1<<(c-0xd4))
	case 0xc7: // ext8
		if len(p) < 3 {
			return item{}, false
		}
		return bodyItem(p, 3, uint64(p[1]))
	case 0xc8:
		if len(p) < 4 {
			return item{}, false
		}
		return bodyItem(p, 4, uint64(be.Uint16(p[1:])))
	case 0xc9:
		if len(p) < 6 {
			return item{}, false
		}
		return bodyItem(p, 6, uint64(be.Uint32(p[1:])))
	case 0xdc, 0xde: // array16, map16
		if len(p) < 3 {
			return item{}, false
		}
		n := int(be.Uint16(p[1:]))
		if c == 0xde {
			n *= 2
		}
		return item{size: 3, kids: n}, true
	case 0xdd, 0xdf:
		if len(p) < 5 {
			return item{}, false
		}
		n := uint64(be.Uint32(p[1:]))
		if n > uint64(len(p)) { // every element takes a byte
			return item{}, false
		}
		if c == 0xdf {
			n *= 2
		}
		return item{size: 5, kids: int(n)}, true
	}
	return item{}, false // 0xc1
}

// bodyItem is the item of a head-byte header followed by body bytes: a
// string, bytes or an extension, which may be a timestamp.
func bodyItem(p []byte, head int, body uint64) (item, bool) {
	if head > len(p) || body > uint64(len(p)-head) {
		return item{}, false
	}
	it := item{size: head + int(body)}
	if c := p[0]; c == 0xd6 || c == 0xd7 || c == 0xc7 {
		if ns, ok := timeNanos(p[:it.size]); ok {
			it.kind, it.value = kindTime, uint64(ns)
		}
	}
	return it, true
}

// timeNanos decodes a MessagePack timestamp as nanoseconds since 1970.
func timeNanos(p []byte) (int64, bool) {
	var sec int64
	var nsec uint64
	switch {
	case len(p) == 6 && p[0] == 0xd6 && p[1] == 0xff:
		sec = int64(binary.BigEndian.Uint32(p[2:]))
	case len(p) == 10 && p[0] == 0xd7 && p[1] == 0xff:
		v := binary.BigEndian.Uint64(p[2:])
		sec, nsec = int64(v&(1<<34-1)), v>>34
	case len(p) == 15 && p[0] == 0xc7 && p[1] == 12 && p[2] == 0xff:
		nsec = uint64(binary.BigEndian.Uint32(p[3:]))
		sec = int64(binary.BigEndian.Uint64(p[7:]))
	default:
		return 0, false
	}
	// Whether sec×10^9 + nsec fits an int64; the sum wraps through the
	// edges and comes out right when it does.
	const maxSec, minSec = 9223372036, -9223372037 // ⌊(2^63−1)/10^9⌋, ⌊−2^63/10^9⌋
	if nsec >= 1e9 || sec > maxSec || sec < minSec ||
		sec == maxSec && nsec > 1<<63-1-maxSec*1e9 || sec == minSec && int64(nsec) < -1<<63-minSec*1e9 {
		return 0, false
	}
	return sec*1e9 + int64(nsec), true
}

// appendNumber appends the number v of class kind, written the way old (an
// item of the same class) suggests. The widths are those msgp chooses,
// fixed here so that the format does not depend on a library's version.
func appendNumber(b []byte, old byte, kind uint8, v uint64) []byte {
	be := binary.BigEndian
	switch kind {
	case kindInt:
		if old >= 0xcc && old <= 0xcf {
			switch {
			case v <= 0x7f:
				return append(b, byte(v))
			case v <= 0xff:
				return append(b, 0xcc, byte(v))
			case v <= 0xffff:
				return be.AppendUint16(append(b, 0xcd), uint16(v))
			case v <= 0xffffffff:
				return be.AppendUint32(append(b, 0xce), uint32(v))
			}
			return be.AppendUint64(append(b, 0xcf), v)
		}
		x := int64(v)
		switch {
		case x >= -32 && x <= 0x7f:
			return append(b, byte(x))
		case x >= -128 && x < 0:
			return append(b, 0xd0, byte(x))
		case x >= -1<<15 && x < 1<<15:
			return be.AppendUint16(append(b, 0xd1), uint16(x))
		case x >= -1<<31 && x < 1<<31:
			return be.AppendUint32(append(b, 0xd2), uint32(x))
		}
		return be.AppendUint64(append(b, 0xd3), v)
	case kindF32:
		return be.AppendUint32(append(b, 0xca), uint32(v))
	case kindF64:
		return be.AppendUint64(append(b, 0xcb), v)
	}
	t := int64(v)
	sec, nsec := t/1e9, t%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	switch {
	case nsec == 0 && sec > 0 && sec <= 0xffffffff:
		return be.AppendUint32(append(b, 0xd6, 0xff), uint32(sec))
	case sec < 0 || sec >= 1<<34:
		return be.AppendUint64(be.AppendUint32(append(b, 0xc7, 12, 0xff), uint32(nsec)), uint64(sec))
	}
	return be.AppendUint64(append(b, 0xd7, 0xff), uint64(sec)|uint64(nsec)<<34)
}

// diff returns what a new number is stored as, given the old one and, for
// integers and timestamps, the predicted difference pred; and the
// difference itself.
func diff(kind uint8, old, new, pred uint64) (stored, d uint64) {
	if kind == kindF32 || kind == kindF64 {
		return old ^ new, 0
	}
	d = new - old
	e := int64(d - pred)
	return uint64(e<<1) ^ uint64(e>>63), d
}

// undiff inverts diff: it returns the new number and its difference.
func undiff(kind uint8, old, stored, pred uint64) (new, d uint64) {
	if kind == kindF32 || kind == kindF64 {
		return old ^ stored, 0
	}
	d = (stored>>1 ^ -(stored & 1)) + pred
	return old + d, d
}

// FNV-1a constants, for shape hashes (taken a word at a time).
const (
	hashInit  = 14695981039346656037
	hashPrime = 1099511628211
)

// shape hashes the parts of a record that a reference must share: every
// item that is not a number, and the class of every number. It reports
// false if p is not one well-formed MessagePack item.
func shape(p []byte) (uint64, bool) {
	h := uint64(hashInit)
	off, left := 0, 1
	for left > 0 {
		it, ok := parseItem(p[off:])
		if !ok || it.kids > len(p) {
			return 0, false
		}
		if it.kind == kindOther {
			b := p[off : off+it.size]
			for ; len(b) >= 8; b = b[8:] {
				h = (h ^ binary.LittleEndian.Uint64(b)) * hashPrime
			}
			for _, c := range b {
				h = (h ^ uint64(c)) * hashPrime
			}
		} else {
			h = (h ^ uint64(0x100+int(it.kind))) * hashPrime
		}
		off += it.size
		left += it.kids - 1
		if left > len(p)-off { // every item takes a byte
			return 0, false
		}
	}
	return h, off == len(p)
}

// A Packer builds a block. The zero value is ready to use.
type Packer struct {
	refs    [Refs]ref // ring of the last records
	win     []byte    // copies of the records refs point to, back to back
	n       int       // records in the block
	lastSeq uint64
	pred    [Predicted]uint64
	tmp     [16]byte
}

type ref struct {
	start, end int // in win
	hash       uint64
	ok         bool // a well-formed record that others may refer to
}

// Reset starts a new block, keeping the Packer's memory.
func (p *Packer) Reset() { *p = Packer{win: p.win[:0]} }

// Len reports how many records were added since Reset.
func (p *Packer) Len() int { return p.n }

// Append adds rec, one MessagePack record with sequence number seq, to the
// block in dst and returns the extended block. The first record's seq is
// the block's first sequence number, which the block does not store;
// later ones must be larger than the one before. The Packer keeps a copy
// of each record of at most MaxRefRecord bytes to refer to.
func (p *Packer) Append(dst []byte, rec []byte, seq uint64) ([]byte, error) {
	if len(rec) == 0 || len(rec) > MaxRecord {
		return dst, fmt.Errorf("pack: %d-byte record (1 to %d allowed)", len(rec), MaxRecord)
	}
	gap := uint64(0)
	if p.n > 0 {
		if seq <= p.lastSeq {
			return dst, fmt.Errorf("pack: seq %d after %d", seq, p.lastSeq)
		}
		gap = seq - p.lastSeq - 1
	}
	h, ok := shape(rec)
	tag := byte(0)
	if gap > 0 {
		tag |= tagGap
	}
	start := len(dst)
	matched := false
	for k := 1; ok && !matched && k <= Refs && k <= p.n; k++ {
		r := &p.refs[(p.n-k)%Refs]
		if !r.ok || r.hash != h {
			continue
		}
		dst = appendHead(dst[:start], tag|byte(k), gap)
		dst, matched = p.deltas(dst, p.win[r.start:r.end], rec)
	}
	if !matched { // a literal
		dst = appendHead(dst[:start], tag, gap)
		dst = binary.AppendUvarint(dst, uint64(len(rec)))
		dst = append(dst, rec...)
	}
	p.keep(rec, h, ok && len(rec) <= MaxRefRecord)
	p.n++
	p.lastSeq = seq
	return dst, nil
}

// keep stores rec as the newest record others may refer to, after
// dropping from the window's front the record that leaves it, once the
// dropped bytes make up half the window.
func (p *Packer) keep(rec []byte, hash uint64, ok bool) {
	if p.n >= Refs-1 {
		// The next record may refer to records n-31 .. n: n-32, whose
		// slot this is, leaves.
		from := p.refs[(p.n+1)%Refs].start
		if from > len(p.win)/2 {
			copy(p.win, p.win[from:])
			p.win = p.win[:len(p.win)-from]
			for i := range p.refs {
				p.refs[i].start = max(p.refs[i].start-from, 0)
				p.refs[i].end = max(p.refs[i].end-from, 0)
			}
		}
	}
	r := ref{start: len(p.win), end: len(p.win), hash: hash, ok: ok}
	if ok {
		p.win = append(p.win, rec...)
		r.end = len(p.win)
	}
	p.refs[p.n%Refs] = r
}

func appendHead(b []byte, tag byte, gap uint64) []byte {
	b = append(b, tag)
	if gap > 0 {
		b = binary.AppendUvarint(b, gap)
	}
	return b
}

// deltas appends the deltas that turn old into rec, or reports false if
// the records differ in more than their numbers or a number would not be
// written back exactly.
func (p *Packer) deltas(dst, old, rec []byte) ([]byte, bool) {
	oo, no, left, i := 0, 0, 1, 0
	d := p.pred
	for left > 0 {
		oi, ok1 := parseItem(old[oo:])
		ni, ok2 := parseItem(rec[no:])
		if !ok1 || !ok2 || oi.kind != ni.kind || oi.kids != ni.kids {
			return dst, false
		}
		nb := rec[no : no+ni.size]
		if ni.kind == kindOther {
			if string(old[oo:oo+oi.size]) != string(nb) {
				return dst, false
			}
		} else {
			if string(appendNumber(p.tmp[:0], old[oo], ni.kind, ni.value)) != string(nb) {
				return dst, false
			}
			var pred uint64
			if i < Predicted {
				pred = p.pred[i]
			}
			v, di := diff(ni.kind, oi.value, ni.value, pred)
			if i < Predicted {
				d[i] = di
			}
			i++
			dst = binary.AppendUvarint(dst, v)
		}
		oo += oi.size
		no += ni.size
		left += ni.kids - 1
		if left > len(rec)-no {
			return dst, false
		}
	}
	if no != len(rec) {
		return dst, false
	}
	p.pred = d
	return dst, true
}

// An Unpacker expands a block into its records.
type Unpacker struct {
	src  []byte
	off  int
	seq  uint64
	n    int
	buf  []byte         // the records of the window, back to back
	win  [Refs][2]int32 // start and end in buf of the last records, a ring
	pred [Predicted]uint64
}

// Reset starts unpacking block, whose first record has sequence number first.
func (u *Unpacker) Reset(block []byte, first uint64) {
	u.src, u.off, u.seq, u.n, u.buf, u.pred = block, 0, first, 0, u.buf[:0], [Predicted]uint64{}
}

// Next returns the next record and its sequence number. The record is
// valid until the next call to Next or Reset. At the end of the block it
// returns io.EOF.
func (u *Unpacker) Next() (uint64, []byte, error) {
	if u.off >= len(u.src) {
		return 0, nil, io.EOF
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
	return fmt.Errorf("%w: entry %d at offset %d: %s", ErrCorrupt, u.n, at, fmt.Sprintf(format, args...))
}
