package pack

import (
	"encoding/binary"
	"errors"
)

// FNV-1a constants, for shape hashes (taken a word at a time).
const (
	hashInit  = 14695981039346656037
	hashPrime = 1099511628211
)

// shapeOf hashes the parts of a record that a reference must share: every
// item that is not a number, and the class of every number. It reports
// false if p is not one well-formed MessagePack item.
func shapeOf(p []byte) (uint64, bool) {
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
	gap, err := nextGap(rec, p.n, p.lastSeq, seq)
	if err != nil {
		return dst, err
	}
	h, ok := shapeOf(rec)
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

// What Append refuses; ringlog says which stream and record.
var (
	errRecordSize = errors.New("pack: record of 0 or over 65,536 bytes")
	errSeqOrder   = errors.New("pack: sequence number not above the last")
)

// nextGap checks that rec may follow n records, the last numbered last,
// as number seq, and returns the gap before it.
func nextGap(rec []byte, n int, last, seq uint64) (uint64, error) {
	if len(rec) == 0 || len(rec) > MaxRecord {
		return 0, errRecordSize
	}
	if n == 0 {
		return 0, nil
	}
	if seq <= last {
		return 0, errSeqOrder
	}
	return seq - last - 1, nil
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
