package pack

import "math/bits"

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

// bytes writes the length of p and its bytes.
func (w *bitWriter) bytes(p []byte) {
	w.uint(uint64(len(p)))
	for _, c := range p {
		w.write(uint64(c), 8)
	}
}

// xor writes x, a nonzero XOR of two values of width bits, as the count
// of its leading zero bits and of its bits from the first one to the
// last, in lw bits each (the second less 1), and those bits.
func (w *bitWriter) xor(x uint64, lw, width uint) {
	lz := uint(bits.LeadingZeros64(x)) - (64 - width)
	tz := uint(bits.TrailingZeros64(x))
	k := width - lz - tz
	w.write(uint64(lz), lw)
	w.write(uint64(k-1), lw)
	w.write(x>>tz, k)
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

func (r *bitReader) bit() (bool, bool) {
	v, ok := r.read(1)
	return v == 1, ok
}

// uint writes z in the adaptive code against width 0.
func (w *bitWriter) uint(z uint64) {
	var exp uint8
	w.adaptive(z, &exp, true)
}

func (r *bitReader) uint() (uint64, bool) {
	var exp uint8
	return r.adaptive(&exp, true)
}

// ones reads one bits up to max of them, and the zero bit that ends
// fewer, and returns how many ones it read.
func (r *bitReader) ones(max int) (int, bool) {
	for i := 0; i < max; i++ {
		b, ok := r.bit()
		if !ok || !b {
			return i, ok
		}
	}
	return max, true
}

// zigzag maps signed differences to unsigned numbers, small magnitudes
// of either sign to small numbers.
func zigzag(d uint64) uint64   { return d<<1 ^ uint64(int64(d)>>63) }
func unzigzag(z uint64) uint64 { return z>>1 ^ -(z & 1) }

// The adaptive code of an unsigned number z against a width w, the bit
// length of the last nonzero number coded so: the bit 0 for z = 0; else
// the bit 1, the bit length L of z as the Elias gamma code of
// zigzag(L − w) + 1, then the L − 1 bits of z below its top bit.
func (w *bitWriter) adaptive(z uint64, exp *uint8, zero bool) {
	if zero {
		if z == 0 {
			w.write(0, 1)
			return
		}
		w.write(1, 1)
	}
	l := bits.Len64(z)
	g := zigzag(uint64(l-int(*exp))) + 1
	n := uint(bits.Len64(g))
	w.write(0, n-1)
	w.write(g, n)
	if l > 1 {
		w.write(z, uint(l-1))
	}
	*exp = uint8(l)
}

func (r *bitReader) adaptive(exp *uint8, zero bool) (uint64, bool) {
	if zero {
		if b, ok := r.bit(); !b || !ok {
			return 0, ok
		}
	}
	n := uint(0)
	for {
		b, ok := r.bit()
		if !ok || n > 8 {
			return 0, false
		}
		if b {
			break
		}
		n++
	}
	g, ok := r.read(n)
	g |= 1 << n
	l := int(*exp) + int(int64(unzigzag(g-1)))
	if !ok || l < 0 || l > 64 || zero && l == 0 {
		return 0, false
	}
	*exp = uint8(l)
	if l == 0 {
		return 0, true
	}
	z, ok := r.read(uint(l - 1))
	return z | 1<<(l-1), ok
}
