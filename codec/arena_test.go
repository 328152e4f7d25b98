package codec

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// values counts a record's fields, list elements and map entries at every
// depth: what it takes of an arena.
func values(fs Fields) int {
	n := len(fs)
	for _, f := range fs {
		n += values(f.Value.sub)
	}
	return n
}

// aliasInputs returns encoded records with lists, maps, escapes and
// $base64 values, in both codecs.
func aliasInputs(t *testing.T) map[Codec][][]byte {
	inputs := map[Codec][][]byte{}
	for _, tt := range roundTripRecords() {
		for _, c := range codecs {
			b, err := c.Append(nil, &tt.r)
			if err != nil {
				t.Fatal(err)
			}
			inputs[c] = append(inputs[c], b)
		}
	}
	inputs[JSON] = append(inputs[JSON], []byte(escapedJSON),
		[]byte(`{"fields":{"a":[[{"$base64":"AQIDBAUGBwgJCgsMDQ4PEA=="},{"$float":"-Inf"}],{}],"b":{"c":[],"d":{"$base64":""}}}}`))
	return inputs
}

// checkArena: DecodeArena decodes in as Decode did, to want, every
// string a view of the input (JSON's bytes values too, decoded in place),
// every container in the arena; an arena one value short refuses it.
// TestDecodeAlias calls it for each of its inputs.
func checkArena(t *testing.T, c Codec, in []byte, want *Record) {
	t.Helper()
	n := values(want.Fields)
	a := NewArena(n)
	p := append([]byte(nil), in...)
	var got Record
	if err := c.DecodeArena(p, &got, a); err != nil {
		t.Fatalf("%s: DecodeArena into %d: %v\n%q", c, n, err, in)
	}
	if d := recordDiff(&got, want); d != "" {
		t.Fatalf("%s: DecodeArena: %s\n%q", c, d, in)
	}
	stringsOf(&got, Msgpack, func(s string) {
		if !within(s, p) {
			t.Errorf("%s: string %q is a copy", c, s)
		}
	})
	var walk func(Fields)
	walk = func(fs Fields) {
		if len(fs) > 0 && !inArena(fs, a) {
			t.Errorf("%s: fields %v are not in the arena", c, fs)
		}
		for _, f := range fs {
			walk(f.Value.sub)
		}
	}
	walk(got.Fields)
	if n == 0 {
		return
	}
	copy(p, in)
	err := c.DecodeArena(p, &got, NewArena(n-1))
	if !errors.Is(err, ErrArenaFull) || !strings.Contains(err.Error(), "arena") {
		t.Errorf("%s: %d values into an arena of %d: %v", c, n, n-1, err)
	}
}

func inArena(fs Fields, a *Arena) bool {
	for i := range a.buf {
		if &a.buf[i] == &fs[0] {
			return i+len(fs) <= len(a.buf)
		}
	}
	return false
}

// TestDecodeArenaZeroAllocs: with an arena, records of lists and maps
// decode with no allocation in either codec, $base64 values included.
func TestDecodeArenaZeroAllocs(t *testing.T) {
	a := NewArena(MaxFields * 2)
	for c, ins := range aliasInputs(t) {
		for _, in := range ins {
			var r Record
			p := make([]byte, len(in))
			run := func() {
				copy(p, in)
				if err := c.DecodeArena(p, &r, a); err != nil {
					t.Fatal(err)
				}
			}
			run()
			if n := testing.AllocsPerRun(100, run); n != 0 {
				t.Errorf("%s %.40q: %v allocations per DecodeArena", c, in, n)
			}
		}
	}
}

// TestDecodeArenaHostile: records built to make a decoder hold many
// values (a 1-byte element takes a 72-byte Field) are refused by a small
// arena before they fill more than it, in both codecs.
func TestDecodeArenaHostile(t *testing.T) {
	nested := &Record{Name: "x"}
	inner := make([]Value, 100)
	for i := range inner {
		inner[i] = Int(int64(i))
	}
	for i := 0; i < 50; i++ {
		nested.Fields = append(nested.Fields, Field{Key: "k" + itoa(i), Value: List(List(inner...), Map(Field{"a", List(inner...)}))})
	}
	for _, c := range codecs {
		b, err := c.Append(nil, nested)
		if err != nil {
			t.Fatal(err)
		}
		a := NewArena(1000)
		if err := c.DecodeArena(b, new(Record), a); !errors.Is(err, ErrArenaFull) {
			t.Errorf("%s: %d values into 1000: %v", c, values(nested.Fields), err)
		}
		if a.lo > a.hi || a.hi > len(a.buf) {
			t.Errorf("%s: arena lo %d hi %d of %d", c, a.lo, a.hi, len(a.buf))
		}
	}
}

// TestDecodeArenaRejectZeroAllocs: DecodeArena refuses MessagePack that
// does not parse, or whose values are of the wrong type, with the error
// Decode gives, at the same offset, and without allocating: the fault is
// the arena's, and so is the error of a record key's value.
func TestDecodeArenaRejectZeroAllocs(t *testing.T) {
	fields := []byte{0x82, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'x', 0xa6, 'f', 'i', 'e', 'l', 'd', 's', 0x81, 0xa1, 'a'}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "at byte 0: length runs past the end of the record"},
		{"lead 0xc1", []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xc1}, "at byte 6: invalid MessagePack type byte 0xc1"},
		{"lead 0xc1 in fields", append(fields[:len(fields):len(fields)], 0xc1), "at byte 18: invalid MessagePack type byte 0xc1"},
		{"short str", []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xa5, 'x'}, "at byte 6: length runs past the end of the record"},
		{"trailing", []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'x', 0x00}, "at byte 8: trailing bytes after record"},
		{"not a map", []byte{0x05}, `: msgpack: attempted to decode type "int" with method for "map"`},
		{"int name", []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0x05}, `: "name": msgpack: attempted to decode type "int" with method for "str"`},
		{"str seq", []byte{0x81, 0xa3, 's', 'e', 'q', 0xa1, 'x'}, `: "seq": msgpack: attempted to decode type "str" with method for "uint"`},
		{"nil value", append(fields[:len(fields):len(fields)], 0xc0), `: "fields": invalid value: nil`},
	}
	a := NewArena(100)
	for _, tt := range tests {
		want := "codec: bad msgpack record " + tt.want
		if tt.want[0] == ':' {
			want = "codec: bad msgpack record" + tt.want
		}
		if err := Msgpack.Decode(tt.in, new(Record)); err == nil || err.Error() != want {
			t.Errorf("%s: Decode: %v, want %s", tt.name, err, want)
		}
		var r Record
		var err error
		p := make([]byte, len(tt.in))
		run := func() {
			copy(p, tt.in)
			err = Msgpack.DecodeArena(p, &r, a)
		}
		if n := testing.AllocsPerRun(100, run); n != 0 {
			t.Errorf("%s: %v allocations", tt.name, n)
		}
		var de *DecodeError
		if !errors.As(err, &de) || string(de.AppendTo(nil)) != want {
			t.Errorf("%s: DecodeArena: %v, want %s", tt.name, err, want)
		}
	}
}

// TestArenaPresent: after a decode, the arena says which of the record's
// own keys the input had, in both codecs, and forgets them on the next.
func TestArenaPresent(t *testing.T) {
	a := NewArena(16)
	full, _ := Msgpack.Append(nil, &Record{Name: "x", Level: LevelWarning})
	for _, tc := range []struct {
		c    Codec
		in   []byte
		want []string
	}{
		{JSON, []byte(`{"name":"x"}`), []string{"name"}},
		{JSON, []byte(`{"name":"x","level":"emerg","fields":{"level":1}}`), []string{"name", "level", "fields"}},
		{Msgpack, []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'x'}, []string{"name"}},
		{Msgpack, full, recordKeyNames[:]},
		{JSON, []byte(`{}`), nil},
	} {
		var r Record
		if err := tc.c.DecodeArena(tc.in, &r, a); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		for _, k := range recordKeyNames {
			if got, want := a.Present(k), slices.Contains(tc.want, k); got != want {
				t.Errorf("%s %q: Present(%q) = %v", tc.c, tc.in, k, got)
			}
		}
	}
	if a.Present("nosuch") {
		t.Error("Present of a key records do not have")
	}
}
