package ringlog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

func testHeader(c codec.Codec) Header {
	return Header{
		Codec: c, Stream: "metrics", Ring: [16]byte{1, 2, 3, 4}, Segment: 7, First: 1234,
		Boot: codec.BootID{9, 8, 7}, Wall: time.Date(2026, 11, 24, 23, 0, 0, 5, time.UTC), Mono: 42e9,
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		h := testHeader(c)
		b := appendHeader(nil, &h)
		got, err := parseHeader(append(b, "trailing frames"...))
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if got.Size != len(b) || got.Version != Version || got.Codec != c || got.Stream != h.Stream || got.Ring != h.Ring ||
			got.Segment != h.Segment || got.First != h.First || got.Boot != h.Boot || !got.Wall.Equal(h.Wall) || got.Mono != h.Mono {
			t.Fatalf("%v: got %+v\nwant %+v", c, got, h)
		}
		if c == codec.JSON && (b[len(b)-1] != '\n' || strings.Count(string(b), "\n") != 1) {
			t.Fatalf("text header is not one line: %q", b)
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	h := testHeader(codec.Msgpack)
	bin := appendHeader(nil, &h)
	h.Codec = codec.JSON
	text := appendHeader(nil, &h)
	mod := func(b []byte, f func([]byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	setBin := func(off int, v ...byte) []byte {
		return mod(bin, func(b []byte) {
			copy(b[off:], v)
			putCRC(b)
		})
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no magic"},
		{"garbage", []byte("hello world, not a segment at all................"), "no magic"},
		{"truncated", bin[:100], "truncated to 100 bytes"},
		{"checksum", mod(bin, func(b []byte) { b[50] ^= 1 }), "checksum"},
		{"version", setBin(8, 9, 0), "format version 9 (this reader knows up to 1)"},
		{"incompatible flag", setBin(12, 8, 0, 0, 0), "incompatible flags 0x8"},
		{"codec", setBin(16, 2), "codec 2 in a binary header"},
		{"stream", setBin(88, 'B'), "invalid stream name"},
		{"text checksum", mod(text, func(b []byte) { b[40] ^= 1 }), "checksum"},
		{"text no newline", text[:len(text)-1], "without newline"},
		{"text version", []byte(strings.Replace(string(text), `"v":1`, `"v":2`, 1)), "checksum"},
	} {
		_, err := parseHeader(tc.in)
		want := ErrBadSegmentHeader
		if tc.name == "version" || tc.name == "incompatible flag" {
			want = ErrUnsupported
		}
		if !errors.Is(err, want) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %v with %q", tc.name, err, want, tc.want)
		}
	}
	// A compatible (high) flag is ignored.
	if _, err := parseHeader(setBin(12, 0, 0, 1, 0)); err != nil {
		t.Errorf("compatible flag: %v", err)
	}
}

func putCRC(b []byte) {
	c := checksum(b[:124])
	b[124], b[125], b[126], b[127] = byte(c), byte(c>>8), byte(c>>16), byte(c>>24)
}

// TestHeaderAnyYear: a device clock far off (year 12000, or before year
// 0) still makes a JSON segment header its reader reads back, as the
// record codec writes such walls (FORMAT 4.2).
func TestHeaderAnyYear(t *testing.T) {
	for _, wall := range []time.Time{
		time.Date(12000, 1, 2, 3, 4, 5, 6, time.UTC),
		time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 3, 13, 0, 0, 1, time.UTC),
	} {
		h := Header{Codec: codec.JSON, Stream: "events", Segment: 3, First: 7, Wall: wall, Mono: 9}
		got, err := parseHeader(appendHeader(nil, &h))
		if err != nil || !got.Wall.Equal(wall) {
			t.Errorf("wall %v: read back %v, %v", wall, got.Wall, err)
		}
	}
}
