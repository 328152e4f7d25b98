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
