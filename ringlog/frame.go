package ringlog

import (
	"bytes"
	"encoding/binary"
)

// Frame layouts; part of the on-disk format, never change.
const (
	// Binary frame: crc u32 | length u32 | seq u64 | payload. Bit 31 of
	// length marks a packed block (package pack) rather than one record.
	binFrameHeader = 16
	packedBit      = 1 << 31
	// Text frame: {"crc":"xxxxxxxx","seq":N,...}\n
	textPrefix    = `{"crc":"`
	textPrefixLen = len(textPrefix) + 8 + 2 // `{"crc":"` hex8 `",`
	textSeqKey    = `"seq":`

	// MaxSegmentSize bounds a segment file, and so what a reader will
	// read of any one file, however large it claims to be.
	MaxSegmentSize = 64 << 20
)

// sealFrame completes the frame in f, which holds a placeholder header
// (binFrameHeader zero bytes, or the text prefix) followed by the payload.
// For text frames the payload is a JSON object whose first byte '{' is
// dropped here, since the prefix opens the object.
func sealFrame(f []byte, text bool, s salt, seq uint64) []byte {
	if text {
		copy(f[textPrefixLen:], f[textPrefixLen+1:])
		f[len(f)-1] = '\n'
		crc := frameCRC(s, f[textPrefixLen:len(f)-1])
		appendHex32(f[len(textPrefix):len(textPrefix)], crc) // in place, over the zeros
		return f
	}
	le := binary.LittleEndian
	le.PutUint32(f[4:], uint32(len(f)-binFrameHeader))
	le.PutUint64(f[8:], seq)
	le.PutUint32(f[0:], frameCRC(s, f[4:]))
	return f
}

// sealBlock completes a binary frame holding a packed block whose first
// record is seq.
func sealBlock(f []byte, s salt, seq uint64) []byte {
	le := binary.LittleEndian
	le.PutUint32(f[4:], uint32(len(f)-binFrameHeader)|packedBit)
	le.PutUint64(f[8:], seq)
	le.PutUint32(f[0:], frameCRC(s, f[4:]))
	return f
}

// framePlaceholder starts a frame in b.
func framePlaceholder(b []byte, text bool) []byte {
	if text {
		return append(b, `{"crc":"00000000",`...)
	}
	return append(b, make([]byte, binFrameHeader)...)
}

// frameStatus classifies the bytes at the start of a buffer.
type frameStatus uint8

const (
	frameOK      frameStatus = iota
	frameZero                // an all-zero frame header
	frameBad                 // checksum mismatch or impossible header
	frameShort               // the frame runs past the end of the buffer
	frameForeign             // a valid frame of another segment (stale)
)

// A frame is a parsed frame; Payload aliases the buffer it was parsed from.
type frame struct {
	Seq     uint64 // of its record; of the first record of a packed block
	Payload []byte // for text frames, the whole line without its newline
	Len     int    // bytes the frame occupies
	Packed  bool   // Payload is a packed block
}

// parseFrame parses the frame at the start of p, which belongs to the
// segment of salt s and holds payloads of at most maxPayload bytes.
func parseFrame(p []byte, text bool, s salt, maxPayload int) (frame, frameStatus) {
	if text {
		return parseTextFrame(p, s, maxPayload)
	}
	if len(p) < binFrameHeader {
		if allZero(p) {
			return frame{}, frameZero
		}
		return frame{}, frameShort
	}
	le := binary.LittleEndian
	crc, n, seq := le.Uint32(p), le.Uint32(p[4:]), le.Uint64(p[8:])
	if crc == 0 && n == 0 && seq == 0 {
		return frame{}, frameZero
	}
	packed := n&packedBit != 0
	n &^= packedBit
	if n == 0 || int64(n) > int64(maxPayload) {
		return frame{}, frameBad
	}
	end := binFrameHeader + int(n)
	if end > len(p) {
		return frame{}, frameShort
	}
	if frameCRC(s, p[4:end]) != crc {
		return frame{}, frameBad
	}
	return frame{Seq: seq, Payload: p[binFrameHeader:end], Len: end, Packed: packed}, frameOK
}

func parseTextFrame(p []byte, s salt, maxPayload int) (frame, frameStatus) {
	if len(p) < textPrefixLen+len(textSeqKey)+2 {
		if allZero(p) {
			return frame{}, frameZero
		}
		if bytes.HasPrefix([]byte(textPrefix), p[:min(len(p), len(textPrefix))]) {
			return frame{}, frameShort
		}
		return frame{}, frameBad
	}
	if p[0] == 0 && allZero(p[:textPrefixLen]) {
		return frame{}, frameZero
	}
	if string(p[:len(textPrefix)]) != textPrefix || string(p[textPrefixLen-2:textPrefixLen]) != `",` ||
		string(p[textPrefixLen:textPrefixLen+len(textSeqKey)]) != textSeqKey {
		return frame{}, frameBad
	}
	limit := min(len(p), textPrefixLen+maxPayload+1)
	nl := bytes.IndexByte(p[:limit], '\n')
	if nl < 0 {
		if limit < len(p) {
			return frame{}, frameBad
		}
		return frame{}, frameShort
	}
	crc, ok := parseHex32(p[len(textPrefix) : len(textPrefix)+8])
	if !ok || p[nl-1] != '}' {
		return frame{}, frameBad
	}
	seq, ok := parseSeq(p[textPrefixLen+len(textSeqKey) : nl])
	if !ok {
		return frame{}, frameBad
	}
	if frameCRC(s, p[textPrefixLen:nl]) != crc {
		return frame{}, frameBad
	}
	return frame{Seq: seq, Payload: p[:nl], Len: nl + 1}, frameOK
}

// parseSeq parses the decimal digits at the start of p, up to a ','.
func parseSeq(p []byte) (uint64, bool) {
	var v uint64
	for i, c := range p {
		if c == ',' && i > 0 {
			return v, true
		}
		if c < '0' || c > '9' || i >= 20 || v > (1<<64-1-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return 0, false
}

func allZero(p []byte) bool {
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}
