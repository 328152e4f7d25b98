package ringlog

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestFormatSpec reads the golden rings with a reader written from
// docs/FORMAT.md alone (offsets, checksums, salts), sharing no code with
// the package, so the document and the files cannot drift apart.
func TestFormatSpec(t *testing.T) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	if got := crc32.Checksum([]byte("123456789"), tab); got != 0xE3069283 {
		t.Fatalf("CRC-32C check value %08x", got)
	}
	salted := func(seg uint64, p []byte) uint32 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], seg)
		return crc32.Update(crc32.Update(0, tab, b[:]), tab, p)
	}
	for _, name := range []string{"v1-msgpack", "v1-json"} {
		dir := filepath.Join(goldenDir, name)
		paths, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
		var seqs []uint64
		for _, p := range paths { // ls order is segment order for these
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var seg, first uint64
			off := 0
			if bytes.HasPrefix(b, []byte("\x89ITINY\r\n")) {
				le := binary.LittleEndian
				if le.Uint16(b[8:]) != 1 || le.Uint16(b[10:]) != 128 || b[16] != 1 {
					t.Fatalf("%s: version/size/codec", p)
				}
				if crc32.Checksum(b[:124], tab) != le.Uint32(b[124:]) {
					t.Fatalf("%s: header crc", p)
				}
				slen := int(b[17])
				if string(b[88:88+slen]) != "metrics" {
					t.Fatalf("%s: stream %q", p, b[88:88+slen])
				}
				seg, first, off = le.Uint64(b[40:]), le.Uint64(b[48:]), 128
				for off < len(b) {
					crc, n, seq := le.Uint32(b[off:]), int(le.Uint32(b[off+4:])), le.Uint64(b[off+8:])
					if salted(seg, b[off+4:off+16+n]) != crc {
						t.Fatalf("%s: frame at %d: crc", p, off)
					}
					if seq != first+uint64(len(seqs)-countBefore(seqs, first)) {
						t.Fatalf("%s: seq %d not consecutive from %d", p, seq, first)
					}
					seqs = append(seqs, seq)
					off += 16 + n
				}
				continue
			}
			// Text segment: header line, then one frame per line.
			lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
			hdr := lines[0]
			i := bytes.Index(hdr, []byte(`,"hcrc":"`))
			want, _ := strconv.ParseUint(string(hdr[i+9:i+17]), 16, 32)
			if uint32(want) != crc32.Checksum(hdr[:i], tab) {
				t.Fatalf("%s: header crc", p)
			}
			field := func(key string) uint64 {
				j := bytes.Index(hdr, []byte(`"`+key+`":`)) + len(key) + 3
				k := j + bytes.IndexAny(hdr[j:], ",}")
				v, _ := strconv.ParseUint(string(hdr[j:k]), 10, 64)
				return v
			}
			seg, first = field("segment"), field("first")
			for _, line := range lines[1:] {
				if !bytes.HasPrefix(line, []byte(`{"crc":"`)) || string(line[16:18]) != `",` {
					t.Fatalf("%s: frame prefix %q", p, line[:18])
				}
				crc, _ := hex.DecodeString(string(line[8:16]))
				if binary.BigEndian.Uint32(crc) != salted(seg, line[18:]) {
					t.Fatalf("%s: text frame crc", p)
				}
				var seq uint64
				fmt.Sscanf(string(line[18:]), `"seq":%d,`, &seq)
				seqs = append(seqs, seq)
			}
			_ = first
		}
		for i := range seqs {
			if seqs[i] != uint64(i+1) {
				t.Fatalf("%s: record %d has seq %d", name, i, seqs[i])
			}
		}
		if len(seqs) != 40 {
			t.Fatalf("%s: %d records, want 40", name, len(seqs))
		}
	}
}

// countBefore counts the numbers in s below first.
func countBefore(s []uint64, first uint64) int {
	n := 0
	for _, v := range s {
		if v < first {
			n++
		}
	}
	return n
}

// TestFormatSpecPacked unpacks the packed golden ring with an unpacker
// written from docs/FORMAT.md section 3.4 alone, and finds every record
// byte for byte as in the unpacked golden ring, which holds the same
// records.
func TestFormatSpecPacked(t *testing.T) {
	tab := crc32.MakeTable(crc32.Castagnoli)
	le := binary.LittleEndian
	frames := func(name string, each func(seg, seq uint64, packed bool, payload []byte)) {
		paths, _ := filepath.Glob(filepath.Join(goldenDir, name, "seg-*"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			seg := le.Uint64(b[40:])
			if packed := le.Uint32(b[12:])&1 != 0; packed != (name == "v1-msgpack-packed") {
				t.Fatalf("%s: packed flag %v", p, packed)
			}
			for off := 128; off < len(b); {
				n := le.Uint32(b[off+4:])
				size := int(n &^ (1 << 31))
				var s [8]byte
				le.PutUint64(s[:], seg)
				if crc32.Update(crc32.Update(0, tab, s[:]), tab, b[off+4:off+16+size]) == le.Uint32(b[off:]) {
					each(seg, le.Uint64(b[off+8:]), n>>31 == 1, b[off+16:off+16+size])
				}
				off += 16 + size
			}
		}
	}
	want := map[uint64][]byte{}
	frames("v1-msgpack", func(_, seq uint64, packed bool, p []byte) {
		if packed {
			t.Fatal("packed frame in an unpacked segment")
		}
		want[seq] = p
	})
	got := 0
	frames("v1-msgpack-packed", func(_, first uint64, packed bool, blk []byte) {
		if !packed {
			t.Fatal("unpacked frame in a packed segment")
		}
		for seq, rec := range specUnpack(t, blk, first) {
			if !bytes.Equal(rec, want[seq]) {
				t.Fatalf("seq %d:\n got %x\nwant %x", seq, rec, want[seq])
			}
			got++
		}
	})
	if got != 36 { // 40 records, 4 of them in the damaged block
		t.Fatalf("%d records unpacked, want 36", got)
	}
}

// specUnpack is FORMAT.md 3.4 transcribed: it returns the block's records
// by sequence number.
func specUnpack(t *testing.T, blk []byte, first uint64) map[uint64][]byte {
	uv := func() uint64 {
		v, n := binary.Uvarint(blk)
		if n <= 0 {
			t.Fatal("bad uvarint")
		}
		blk = blk[n:]
		return v
	}
	out := map[uint64][]byte{}
	var recs [][]byte
	var pred [4]uint64
	seq := first
	for len(blk) > 0 {
		tag := blk[0]
		blk = blk[1:]
		if len(recs) > 0 {
			seq++
		}
		if tag&0x40 != 0 {
			seq += uv()
		}
		ref := int(tag & 0x3f)
		var rec []byte
		if ref == 0 {
			n := uv()
			rec, blk = blk[:n], blk[n:]
		} else {
			r := recs[len(recs)-ref]
			var next [4]uint64
			i := 0
			for off, left := 0, 1; left > 0; left-- {
				c := r[off]
				size, kids := specItem(r[off:])
				num, bits, isTime, ok := specNumber(r[off : off+size])
				if !ok {
					rec = append(rec, r[off:off+size]...)
				} else {
					v := uv()
					var p uint64
					if i < 4 {
						p = pred[i]
					}
					var nv, d uint64
					if c == 0xca || c == 0xcb {
						nv = num ^ v
					} else {
						d = (v>>1 ^ -(v & 1)) + p
						nv = num + d
					}
					if i < 4 {
						next[i] = d
					}
					i++
					rec = specAppend(rec, c, bits, isTime, nv)
				}
				off += size
				left += kids
			}
			pred = next
		}
		recs = append(recs, rec)
		out[seq] = rec
	}
	return out
}

// specItem returns the size of the MessagePack item at p without its
// elements, and how many elements follow it.
func specItem(p []byte) (size, kids int) {
	c := p[0]
	be := func(k int) int {
		v := 0
		for _, b := range p[1 : 1+k] {
			v = v<<8 | int(b)
		}
		return v
	}
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return 1, 0
	case c&0xf0 == 0x80:
		return 1, 2 * int(c&0xf)
	case c&0xf0 == 0x90:
		return 1, int(c & 0xf)
	case c&0xe0 == 0xa0:
		return 1 + int(c&0x1f), 0
	case c == 0xc4 || c == 0xd9:
		return 2 + be(1), 0
	case c == 0xc5 || c == 0xda:
		return 3 + be(2), 0
	case c == 0xc6 || c == 0xdb:
		return 5 + be(4), 0
	case c == 0xc7:
		return 3 + be(1), 0
	case c == 0xca:
		return 5, 0
	case c == 0xcb:
		return 9, 0
	case c >= 0xcc && c <= 0xcf:
		return 1 + 1<<(c-0xcc), 0
	case c >= 0xd0 && c <= 0xd3:
		return 1 + 1<<(c-0xd0), 0
	case c >= 0xd4 && c <= 0xd8:
		return 2 + 1<<(c-0xd4), 0
	case c == 0xdc:
		return 3, be(2)
	case c == 0xde:
		return 3, 2 * be(2)
	}
	panic(fmt.Sprintf("type byte %#x not in the golden records", c))
}

// specNumber decodes a number item: its value, its width in bits, and
// whether it is a timestamp.
func specNumber(p []byte) (v uint64, bits int, isTime, ok bool) {
	c := p[0]
	u := func(b []byte) uint64 {
		var x uint64
		for _, y := range b {
			x = x<<8 | uint64(y)
		}
		return x
	}
	switch {
	case c <= 0x7f:
		return uint64(c), 0, false, true
	case c >= 0xe0:
		return uint64(int64(int8(c))), 0, false, true
	case c >= 0xcc && c <= 0xcf:
		return u(p[1:]), 0, false, true
	case c >= 0xd0 && c <= 0xd3:
		n := len(p) - 1
		return uint64(int64(u(p[1:])<<(64-8*n)) >> (64 - 8*n)), 0, false, true
	case c == 0xca:
		return u(p[1:5]), 32, false, true
	case c == 0xcb:
		return u(p[1:9]), 64, false, true
	}
	var sec, nsec int64
	switch {
	case c == 0xd6 && p[1] == 0xff:
		sec = int64(u(p[2:6]))
	case c == 0xd7 && p[1] == 0xff:
		x := u(p[2:10])
		sec, nsec = int64(x&(1<<34-1)), int64(x>>34)
	case c == 0xc7 && p[1] == 12 && p[2] == 0xff:
		nsec, sec = int64(u(p[3:7])), int64(u(p[7:15]))
	default:
		return 0, 0, false, false
	}
	if nsec >= 1e9 || sec > 9223372035 || sec < -9223372035 { // fits int64 (edges not in the golden data)
		return 0, 0, false, false
	}
	return uint64(sec*1e9 + nsec), 0, true, true
}

// specAppend writes a new number the way section 3.4 says.
func specAppend(b []byte, old byte, bits int, isTime bool, v uint64) []byte {
	be := binary.BigEndian
	switch {
	case bits == 32:
		return be.AppendUint32(append(b, 0xca), uint32(v))
	case bits == 64:
		return be.AppendUint64(append(b, 0xcb), v)
	case isTime:
		t := int64(v)
		s := t / 1e9
		if t%1e9 < 0 {
			s--
		}
		n := t - s*1e9
		switch {
		case n == 0 && s > 0 && s <= 1<<32-1:
			return be.AppendUint32(append(b, 0xd6, 0xff), uint32(s))
		case s < 0 || s >= 1<<34:
			return be.AppendUint64(be.AppendUint32(append(b, 0xc7, 12, 0xff), uint32(n)), uint64(s))
		}
		return be.AppendUint64(append(b, 0xd7, 0xff), uint64(n)<<34|uint64(s))
	case old >= 0xcc && old <= 0xcf: // unsigned
		switch {
		case v <= 127:
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
	case x >= 0 && x <= 127, x >= -32 && x < 0:
		return append(b, byte(x))
	case x >= 0 && x <= 32767:
		return be.AppendUint16(append(b, 0xd1), uint16(x))
	case x >= 0 && x <= 1<<31-1:
		return be.AppendUint32(append(b, 0xd2), uint32(x))
	case x >= 0:
		return be.AppendUint64(append(b, 0xd3), uint64(x))
	case x >= -128:
		return append(b, 0xd0, byte(x))
	case x >= -32768:
		return be.AppendUint16(append(b, 0xd1), uint16(x))
	case x >= -1<<31:
		return be.AppendUint32(append(b, 0xd2), uint32(x))
	}
	return be.AppendUint64(append(b, 0xd3), uint64(x))
}
