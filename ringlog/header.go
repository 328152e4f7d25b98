package ringlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/hex"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// Binary segment header layout; part of the on-disk format, never change.
const (
	binHeaderSize = 128
	binMagic      = "\x89ITINY\r\n"
	// Version is the newest segment format version this package writes.
	// Readers read every version up to it.
	Version = 1

	maxTextHeader = 512
	textMagic     = `{"itiny":"segment","v":`
)

// Header flags. The low 16 bits are incompatible flags: a reader that does
// not know one must refuse the segment. The high 16 bits are compatible
// flags that a reader may ignore.
const (
	// FlagPacked marks a MessagePack segment whose frames each hold a
	// block of records packed by package pack (docs/FORMAT.md 3.4).
	FlagPacked = 1 << 0
	// FlagPacked2 marks a packed segment whose blocks may be of version 2
	// (docs/FORMAT.md 3.5), so that a reader that knows only version 1
	// refuses the segment as unsupported rather than damaged.
	FlagPacked2 = 1 << 1
	// FlagPacked3 marks a packed segment whose blocks may be of version 3
	// (docs/FORMAT.md 3.6), set with FlagPacked2, for the same reason.
	FlagPacked3 = 1 << 2
	// packedFlags are all the flags of packed segments.
	packedFlags = FlagPacked | FlagPacked2 | FlagPacked3

	incompatMask   = 0x0000ffff
	knownIncompat  = packedFlags
	binMaxStream   = 32
	headerCodecOff = 16
)

// A Header is the first thing in every segment file.
type Header struct {
	Version  uint16
	Flags    uint32
	Codec    codec.Codec
	Stream   string
	Ring     [16]byte // random at ring creation; the same in all its segments
	Segment  uint64   // segment sequence number: order of segments in the ring
	First    uint64   // sequence number of the first record written to it
	Boot     codec.BootID
	Wall     time.Time // creation time, wall clock (untrusted)
	Mono     int64     // creation time, nanoseconds since boot
	Size     int       // bytes the header occupies in the file
	textForm bool
}

// appendHeader encodes h in its codec's form: binary for MessagePack
// rings, one JSON line for JSON rings.
func appendHeader(b []byte, h *Header) []byte {
	if h.Codec == codec.JSON {
		return appendTextHeader(b, h)
	}
	start := len(b)
	b = append(b, make([]byte, binHeaderSize)...)
	p := b[start:]
	copy(p, binMagic)
	le := binary.LittleEndian
	le.PutUint16(p[8:], Version)
	le.PutUint16(p[10:], binHeaderSize)
	le.PutUint32(p[12:], h.Flags)
	p[headerCodecOff] = byte(h.Codec)
	p[17] = byte(len(h.Stream))
	copy(p[24:40], h.Ring[:])
	le.PutUint64(p[40:], h.Segment)
	le.PutUint64(p[48:], h.First)
	copy(p[56:72], h.Boot[:])
	le.PutUint64(p[72:], uint64(h.Wall.UnixNano()))
	le.PutUint64(p[80:], uint64(h.Mono))
	copy(p[88:120], h.Stream)
	le.PutUint32(p[124:], checksum(p[:124]))
	return b
}

func appendTextHeader(b []byte, h *Header) []byte {
	start := len(b)
	b = append(b, textMagic...)
	b = strconv.AppendUint(b, Version, 10)
	b = append(b, `,"flags":`...)
	b = strconv.AppendUint(b, uint64(h.Flags), 10)
	b = append(b, `,"codec":"json","stream":"`...)
	b = append(b, h.Stream...) // stream names need no escaping
	b = append(b, `","ring":"`...)
	b = hex.AppendEncode(b, h.Ring[:])
	b = append(b, `","segment":`...)
	b = strconv.AppendUint(b, h.Segment, 10)
	b = append(b, `,"first":`...)
	b = strconv.AppendUint(b, h.First, 10)
	b = append(b, `,"boot":"`...)
	b = hex.AppendEncode(b, h.Boot[:])
	b = append(b, `","wall":"`...)
	b = codec.AppendWall(b, h.Wall) // any year: a device clock may be far off
	b = append(b, `","mono":`...)
	b = strconv.AppendInt(b, h.Mono, 10)
	sum := checksum(b[start:])
	b = append(b, `,"hcrc":"`...)
	b = appendHex32(b, sum)
	return append(b, "\"}\n"...)
}

func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for s := 28; s >= 0; s -= 4 {
		b = append(b, digits[v>>uint(s)&0xf])
	}
	return b
}

func parseHex32(p []byte) (uint32, bool) {
	if len(p) != 8 {
		return 0, false
	}
	var v uint32
	for _, c := range p {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}

func headerError(format string, args ...any) error {
	return tinyfmt.Errorf("%w: %s", ErrBadSegmentHeader, tinyfmt.Sprintf(format, args...))
}

// newerVersion is the error for a header of a later format version.
func newerVersion(v uint64) error {
	return tinyfmt.Errorf("%w: format version %d (this reader knows up to %d)", ErrUnsupported, v, Version)
}

// parseHeader decodes the header at the start of p, in either form.
func parseHeader(p []byte) (Header, error) {
	if bytes.HasPrefix(p, []byte(textMagic)) {
		return parseTextHeader(p)
	}
	var h Header
	if len(p) < binHeaderSize {
		if len(p) < len(binMagic) || string(p[:len(binMagic)]) != binMagic {
			return h, headerError("not a segment (no magic)")
		}
		return h, headerError("truncated to %d bytes", len(p))
	}
	if string(p[:len(binMagic)]) != binMagic {
		return h, headerError("not a segment (no magic)")
	}
	le := binary.LittleEndian
	if got, want := le.Uint32(p[124:]), checksum(p[:124]); got != want {
		return h, headerError("checksum %08x, want %08x", got, want)
	}
	h.Version = le.Uint16(p[8:])
	if h.Version == 0 {
		return h, headerError("format version 0")
	}
	if h.Version > Version {
		return h, newerVersion(uint64(h.Version))
	}
	size := int(le.Uint16(p[10:]))
	if size < binHeaderSize {
		return h, headerError("header size %d", size)
	}
	h.Size = size
	h.Flags = le.Uint32(p[12:])
	if err := checkFlags(h.Flags); err != nil {
		return h, err
	}
	h.Codec = codec.Codec(p[headerCodecOff])
	if h.Codec != codec.Msgpack {
		return h, headerError("codec %d in a binary header", uint8(h.Codec))
	}
	n := int(p[17])
	if n > binMaxStream || !codec.ValidStream(string(p[88:88+n])) {
		return h, headerError("invalid stream name")
	}
	h.Stream = string(p[88 : 88+n])
	copy(h.Ring[:], p[24:40])
	h.Segment = le.Uint64(p[40:])
	h.First = le.Uint64(p[48:])
	copy(h.Boot[:], p[56:72])
	h.Wall = time.Unix(0, int64(le.Uint64(p[72:]))).UTC()
	h.Mono = int64(le.Uint64(p[80:]))
	return h, nil
}

func checkFlags(f uint32) error {
	if unknown := f & incompatMask &^ knownIncompat; unknown != 0 {
		return tinyfmt.Errorf("%w: incompatible flags %#x", ErrUnsupported, unknown)
	}
	return nil
}

// parseTextHeader decodes the JSON header line. Its keys come in a fixed
// order, so it is parsed as a sequence of literals and values.
func parseTextHeader(p []byte) (Header, error) {
	var h Header
	end := bytes.IndexByte(p[:min(len(p), maxTextHeader)], '\n')
	if end < 0 {
		return h, headerError("text header without newline in %d bytes", min(len(p), maxTextHeader))
	}
	line := p[:end]
	crcAt := bytes.LastIndex(line, []byte(`,"hcrc":"`))
	if crcAt < 0 || crcAt+9 > len(line)-2 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return h, headerError("text header without hcrc")
	}
	want, ok := parseHex32(line[crcAt+9 : len(line)-2])
	if !ok {
		return h, headerError("bad hcrc")
	}
	if got := checksum(line[:crcAt]); got != want {
		return h, headerError("checksum %08x, want %08x", got, want)
	}
	s := textScanner{p: line[:crcAt], i: len(textMagic)}
	v := s.uint(`,"flags":`)
	h.Version = uint16(v)
	if s.err == nil && v == 0 {
		return h, headerError("format version 0")
	}
	if s.err == nil && v > Version {
		return h, newerVersion(v)
	}
	h.Flags = uint32(s.uint(`,"codec":"json","stream":"`))
	h.Stream = string(s.until('"'))
	s.lit(`","ring":"`)
	s.hex(h.Ring[:])
	s.lit(`","segment":`)
	h.Segment = s.uint(`,"first":`)
	h.First = s.uint(`,"boot":"`)
	s.hex(h.Boot[:])
	s.lit(`","wall":"`)
	wall := s.until('"')
	s.lit(`","mono":`)
	mono := s.rest()
	if s.err != nil {
		return h, headerError("text header: %v", s.err)
	}
	var err error
	if h.Mono, err = strconv.ParseInt(string(mono), 10, 64); err != nil {
		return h, headerError("text header: bad mono")
	}
	var t codec.Time
	if err = t.UnmarshalText(wall); err != nil {
		return h, headerError("text header: bad wall time")
	}
	h.Wall = t.Time
	if err := checkFlags(h.Flags); err != nil {
		return h, err
	}
	if h.Flags&packedFlags != 0 {
		return h, headerError("packed flag in a JSON segment")
	}
	if !codec.ValidStream(h.Stream) {
		return h, headerError("invalid stream name")
	}
	h.Codec = codec.JSON
	h.Size = end + 1
	h.textForm = true
	return h, nil
}

type textScanner struct {
	p   []byte
	i   int
	err error
}

func (s *textScanner) lit(l string) {
	if s.err == nil && !bytes.HasPrefix(s.p[s.i:], []byte(l)) {
		s.err = tinyfmt.Errorf("want %s at byte %d", l, s.i)
	}
	if s.err == nil {
		s.i += len(l)
	}
}

// uint reads digits up to the literal that follows them.
func (s *textScanner) uint(next string) uint64 {
	if s.err != nil {
		return 0
	}
	j := bytes.Index(s.p[s.i:], []byte(next))
	if j < 0 {
		s.err = tinyfmt.Errorf("want %s after byte %d", next, s.i)
		return 0
	}
	v, err := strconv.ParseUint(string(s.p[s.i:s.i+j]), 10, 64)
	if err != nil {
		s.err = tinyfmt.Errorf("bad number at byte %d", s.i)
	}
	s.i += j + len(next)
	return v
}

func (s *textScanner) until(c byte) []byte {
	if s.err != nil {
		return nil
	}
	j := bytes.IndexByte(s.p[s.i:], c)
	if j < 0 {
		s.err = errors.New("unterminated string")
		return nil
	}
	v := s.p[s.i : s.i+j]
	s.i += j
	return v
}

func (s *textScanner) hex(dst []byte) {
	v := s.until('"')
	if s.err == nil {
		if len(v) != 2*len(dst) {
			s.err = errors.New("bad hex id")
		} else if _, err := hex.Decode(dst, v); err != nil {
			s.err = err
		}
	}
}

func (s *textScanner) rest() []byte {
	if s.err != nil {
		return nil
	}
	return s.p[s.i:]
}
