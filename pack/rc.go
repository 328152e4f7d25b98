package pack

// Version 3 blocks code the bits of version 2's syntax with a binary
// range coder, the one of LZMA (the xz file format's LZMA2 chunks use it
// too), so that a bit whose value is nearly certain costs nearly
// nothing. Each bit is coded with a probability that adapts to the bits
// coded with it before, or, for bits no better than a coin, without one
// (a direct bit). docs/FORMAT.md 3.6 is the exact definition.

const (
	probBits  = 12 // a probability is a count out of 1 << probBits
	probMask  = 1<<probBits - 1
	probInit  = 1 << (probBits - 1)
	probShift = 4 // how fast it adapts: by 1/16 of the distance a bit
	topValue  = 1 << 24
)

// A prob is the probability, out of 1 << probBits, that the next bit
// coded with it is 0.
type prob uint16

func (p *prob) update(bit uint64) {
	n := *p >> probBits
	v := *p & probMask
	sh := min(n+1, probShift)
	if bit == 0 {
		v += (1<<probBits - v) >> sh
	} else {
		v -= v >> sh
	}
	*p = min(n+1, 15)<<probBits | v
}

func (p prob) v() uint32 { return uint32(p & probMask) }

// A rangeEncoder appends a coded bit stream to b. LZMA's encoder writes
// a 0 byte first, always; this one leaves it out (skip).
type rangeEncoder struct {
	b     []byte
	low   uint64
	rng   uint32
	cache byte
	n     int64 // bytes owed: the cache and the 0xff bytes after it
	skip  bool  // the first byte is still to be left out
}

func (e *rangeEncoder) reset(b []byte) {
	*e = rangeEncoder{b: b, rng: 0xffffffff, n: 1, skip: true}
}

// bit codes the low bit of bit with probability p, and adapts p.
func (e *rangeEncoder) bit(p *prob, bit uint64) {
	bound := (e.rng >> probBits) * p.v()
	if bit&1 == 0 {
		e.rng = bound
	} else {
		e.low += uint64(bound)
		e.rng -= bound
	}
	p.update(bit & 1)
	for e.rng < topValue {
		e.rng <<= 8
		e.shift()
	}
}

// direct codes the k low bits of v, most significant first, each as a
// coin.
func (e *rangeEncoder) direct(v uint64, k uint) {
	for k > 0 {
		k--
		e.rng >>= 1
		if v>>k&1 != 0 {
			e.low += uint64(e.rng)
		}
		for e.rng < topValue {
			e.rng <<= 8
			e.shift()
		}
	}
}

// shift moves the top byte of low out, once a carry can no longer
// change it.
func (e *rangeEncoder) shift() {
	if uint32(e.low) < 0xff000000 || e.low >= 1<<32 {
		carry := byte(e.low >> 32)
		c := e.cache
		for ; e.n > 0; e.n-- {
			if e.skip {
				e.skip = false
			} else {
				e.b = append(e.b, c+carry)
			}
			c = 0xff
		}
		e.cache = byte(e.low >> 24)
	}
	e.n++
	e.low = (e.low & 0x00ffffff) << 8
}

// flush writes out what the decoder needs to read every bit coded.
func (e *rangeEncoder) flush() {
	for range 5 {
		e.shift()
	}
}

// A rangeDecoder reads a stream rangeEncoder wrote. Past the end of src
// it reads 0 bytes and counts them in over: a stream cut short.
type rangeDecoder struct {
	src  []byte
	pos  int
	over int
	rng  uint32
	code uint32
}

func (d *rangeDecoder) reset(src []byte) {
	*d = rangeDecoder{src: src, rng: 0xffffffff}
	for range 4 {
		d.code = d.code<<8 | uint32(d.next())
	}
}

func (d *rangeDecoder) next() byte {
	if d.pos >= len(d.src) {
		d.over++
		return 0
	}
	c := d.src[d.pos]
	d.pos++
	return c
}

func (d *rangeDecoder) bit(p *prob) uint64 {
	bound := (d.rng >> probBits) * p.v()
	var bit uint64
	if d.code < bound {
		d.rng = bound
	} else {
		d.code -= bound
		d.rng -= bound
		bit = 1
	}
	p.update(bit)
	for d.rng < topValue {
		d.rng <<= 8
		d.code = d.code<<8 | uint32(d.next())
	}
	return bit
}

func (d *rangeDecoder) direct(k uint) uint64 {
	var v uint64
	for ; k > 0; k-- {
		d.rng >>= 1
		var bit uint64
		if d.code >= d.rng {
			d.code -= d.rng
			bit = 1
		}
		v = v<<1 | bit
		for d.rng < topValue {
			d.rng <<= 8
			d.code = d.code<<8 | uint32(d.next())
		}
	}
	return v
}
