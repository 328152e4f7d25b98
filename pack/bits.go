package pack

// Version 2 blocks are a stream of bits, most significant bit first: the
// first bit of the stream is bit 7 of its first byte.

// A bitWriter appends bits to a byte slice. The bits not yet making a
// whole byte wait in acc.
type bitWriter struct {
	b   []byte
	acc uint64
	n   uint // bits in acc, below 8 between calls
}

// write appends the k low bits of v, k ≤ 64.
func (w *bitWriter) write(v uint64, k uint) {
	if k > 56 {
		w.write(v>>32, k-32)
		v, k = v&(1<<32-1), 32
	}
	if k < 64 {
		v &= 1<<k - 1
	}
	w.acc = w.acc<<k | v
	w.n += k
	for w.n >= 8 {
		w.n -= 8
		w.b = append(w.b, byte(w.acc>>w.n))
	}
}

// finish writes the waiting bits as a last byte padded with zeros and
// returns how many of its bits are used (0 when none wait).
func (w *bitWriter) finish() uint8 {
	n := w.n
	if n > 0 {
		w.b = append(w.b, byte(w.acc<<(8-n)))
	}
	w.acc, w.n = 0, 0
	return uint8(n)
}

// resume continues writing after a block whose last byte has used bits.
func (w *bitWriter) resume(b []byte, used uint8) {
	w.b, w.acc, w.n = b, 0, 0
	if used > 0 {
		last := b[len(b)-1]
		w.b = b[:len(b)-1]
		w.acc, w.n = uint64(last>>(8-used)), uint(used)
	}
}

// A bitReader reads bits from src starting at bit pos.
type bitReader struct {
	src []byte
	pos int // in bits
}

func (r *bitReader) left() int { return len(r.src)*8 - r.pos }

// read returns the next k bits, k ≤ 64, or false if fewer are left.
func (r *bitReader) read(k uint) (uint64, bool) {
	if int(k) > r.left() {
		r.pos = len(r.src) * 8
		return 0, false
	}
	var v uint64
	for k > 0 {
		off := uint(r.pos & 7)
		take := min(8-off, k)
		c := uint64(r.src[r.pos>>3]>>(8-off-take)) & (1<<take - 1)
		v = v<<take | c
		r.pos += int(take)
		k -= take
	}
	return v, true
}

// zigzag maps signed differences to unsigned numbers, small magnitudes
// of either sign to small numbers.
func zigzag(d uint64) uint64   { return d<<1 ^ uint64(int64(d)>>63) }
func unzigzag(z uint64) uint64 { return z>>1 ^ -(z & 1) }
