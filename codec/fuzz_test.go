package codec

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/itiny/itiny/codec/internal/oracle"
)

// addRecordSeeds adds the encodings with c of the round-trip records.
func addRecordSeeds(f *testing.F, c Codec) {
	for _, tt := range roundTripRecords() {
		if tt.name == "many fields" || tt.name == "bytes" {
			continue // large seeds slow the fuzzer down
		}
		b, err := c.Append(nil, &tt.r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// fuzzDecode checks the properties every input must have when decoded
// with c: no panic, a *DecodeError inside the input on failure, and on
// success a record that passes Validate, survives c again, has valid JSON,
// and that the other codec keeps too, giving it back unchanged: the two
// decoders drop the same records (docs/FORMAT.md section 4).
func fuzzDecode(t *testing.T, c Codec, in []byte) {
	var r Record
	err := c.Decode(in, &r)
	checkAlias(t, c, in, &r, err)
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
		}
		if de.Codec != c || de.Offset < -1 || de.Offset > len(in) {
			t.Fatalf("DecodeError{Codec: %v, Offset: %d} for %d bytes of %v", de.Codec, de.Offset, len(in), c)
		}
		return
	}

	if err := r.Validate(); err != nil {
		t.Fatalf("%s decodes a record Validate rejects: %v\ninput: %q", c, err, in)
	}
	j, err := AppendJSON(nil, &r)
	if err != nil {
		t.Fatalf("AppendJSON of a decoded record: %v", err)
	}
	checkJSONText(t, j)
	other := JSON
	if c == JSON {
		other = Msgpack
	}
	o, err := other.Append(nil, &r)
	if err != nil {
		t.Fatalf("%s: encoding a record %s decoded: %v", other, c, err)
	}
	var ro Record
	if err := other.Decode(o, &ro); err != nil {
		t.Fatalf("%s drops what %s keeps: %v\ninput: %q\n%s: %q", other, c, err, in, other, o)
	}
	if d := recordDiff(&ro, &r); d != "" {
		t.Fatalf("%s gives back a record %s decoded changed: %s\ninput: %q", other, c, d, in)
	}

	b, err := c.Append(nil, &r)
	if err != nil {
		t.Fatalf("re-encoding a decoded record: %v", err)
	}
	var r2 Record
	if err := c.Decode(b, &r2); err != nil {
		t.Fatalf("decoding the re-encoding: %v\ninput: %q\nre-encoding: %q", err, in, b)
	}
	if d := recordDiff(&r2, &r); d != "" {
		t.Fatalf("re-encoding does not round-trip: %s\ninput: %q\nre-encoding: %q", d, in, b)
	}
}

// checkAlias checks that DecodeAlias decodes in, into a record with used
// storage, exactly as Decode did: the same record, or the same error. For
// MessagePack, it also checks Decode against the msgp-generated decoder
// that Decode's hand-written one replaces (decode_alias.go).
func checkAlias(t *testing.T, c Codec, in []byte, want *Record, wantErr error) {
	sameErr := func(what string, err error) {
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("%s: error %v, Decode: %v\ninput: %q", what, err, wantErr, in)
		}
	}
	used := func() Record {
		return Record{Name: "old", Fields: Fields{{"old", List(Int(1), String("x"))}, {"old2", Map(Field{"k", Int(2)})}}}
	}
	p := append([]byte(nil), in...) // DecodeAlias may write to it
	got := used()
	err := c.DecodeAlias(p, &got)
	sameErr("DecodeAlias", err)
	if err == nil {
		if d := recordDiff(&got, want); d != "" {
			t.Fatalf("DecodeAlias and Decode differ: %s\ninput: %q", d, in)
		}
	}
	// DecodeArena: the same record or error, but for a record with more
	// values than the arena holds, which it refuses. No value takes less
	// than a byte, so len(in) values always fit.
	for _, n := range []int{8, len(in)} {
		p := append([]byte(nil), in...)
		got := used()
		err := c.DecodeArena(p, &got, NewArena(n))
		if wantErr == nil && values(want.Fields) > n {
			if !errors.Is(err, ErrArenaFull) {
				t.Fatalf("DecodeArena(%d) of %d values: %v\ninput: %q", n, values(want.Fields), err, in)
			}
			continue
		}
		if wantErr != nil && err != nil && errors.Is(err, ErrArenaFull) {
			continue // refused for want of room before the fault was found
		}
		sameErr("DecodeArena", err)
		if err == nil {
			if d := recordDiff(&got, want); d != "" {
				t.Fatalf("DecodeArena and Decode differ: %s\ninput: %q", d, in)
			}
		}
	}
	if c != Msgpack {
		return
	}
	// What Decode did before decode_alias.go: checkMsg, then the generated
	// decoder, which lacks the rules of FORMAT.md 4 on the record's own
	// keys, stream and level (its fields go through Fields.UnmarshalMsg,
	// Decode's). Every record Decode accepts it decodes alike; every
	// record it rejects, Decode rejects.
	gen := used()
	n, err := checkMsg(in, MaxDepth+2)
	if err == nil && n == len(in) {
		o := oracle.Record{Wall: Epoch} // as decodeMsg resets it
		if _, err = o.UnmarshalMsg(in); err == nil {
			gen = Record{Seq: o.Seq, Stream: o.Stream, Boot: BootID(o.Boot), BootCount: o.BootCount, Wall: o.Wall, Mono: o.Mono,
				Source: o.Source, Level: Level(o.Level), Name: o.Name, Fields: gen.Fields[:0]}
			if o.Fields != nil {
				_, err = gen.Fields.UnmarshalMsg(o.Fields)
			}
		}
	}
	if err != nil && wantErr == nil {
		t.Fatalf("the generated decoder fails (%v) where Decode succeeds\ninput: %q", err, in)
	}
	if err == nil && wantErr == nil {
		if d := recordDiff(&gen, want); d != "" {
			t.Fatalf("Decode and the generated decoder differ: %s\ninput: %q", d, in)
		}
	}
}

func FuzzDecodeMsgpack(f *testing.F) {
	addRecordSeeds(f, Msgpack)
	for _, tt := range hostileMsgpack {
		if len(tt.in) < 4096 {
			f.Add(tt.in)
		}
	}
	for _, tt := range ruleCases {
		if len(tt.mp) < 4096 {
			f.Add(tt.mp)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzDecode(t, Msgpack, in)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	addRecordSeeds(f, JSON)
	for _, tt := range hostileJSON {
		if len(tt.in) < 4096 {
			f.Add([]byte(tt.in))
		}
	}
	for _, tt := range ruleCases {
		if len(tt.js) < 4096 {
			f.Add([]byte(tt.js))
		}
	}
	f.Add([]byte(`{"wall":"0000-01-01T00:00:00+01:00"}`))
	f.Add([]byte(`{"fields":{"a":[[{"$base64":"AQID"},{"$float":"-Inf"}]],"b":"\ud800\u00e9"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzDecode(t, JSON, in)
	})
}

func FuzzJSONAlwaysValid(f *testing.F) {
	f.Add("key", "name", "source", "value", math.Float64bits(1.5), []byte{1, 2, 3})
	f.Add("", "", "", "", math.Float64bits(math.NaN()), []byte(nil))
	f.Add("$x", "a\nb", "\x00\x1f\"\\", "\u2028😀", math.Float64bits(math.Copysign(0, -1)), []byte{0xff})
	f.Add("k\xff", "\xed\xa0\x80", "\xc3", "\xf4\x90\x80\x80", uint64(0x7ff0000000000001), []byte("ab"))
	f.Add("é", "\ufffd", "</script>", "\t", math.Float64bits(math.Inf(-1)), make([]byte, 300))
	f.Add("k", "n", "s", "v", math.Float64bits(1e21), []byte{})
	f.Add("k", "n", "s", "v", uint64(1), []byte{}) // smallest denormal
	f.Fuzz(func(t *testing.T, key, name, source, str string, fbits uint64, bs []byte) {
		fv := math.Float64frombits(fbits)
		want := &Record{
			Seq: 42, Stream: "fuzz", Boot: BootID{1}, BootCount: 1, Wall: wall2026, Mono: -1,
			Source: source, Level: LevelNotice, Name: name,
			Fields: Fields{
				{key, String(str)},
				{"f", Float(fv)},
				{"b", Bytes(bs)},
				{"l", List(String(str), Float(fv), Bytes(bs), Map(Field{key, Float(fv)}))},
				{"m", Map(Field{key, String(str)}, Field{key + "2", Bytes(bs)})},
			},
		}
		b, err := AppendJSON(nil, want)
		if err != nil {
			t.Fatalf("AppendJSON: %v", err)
		}
		checkJSONText(t, b)

		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("encoding/json: %v\n%s", err, b)
		}
		if seq, ok := m["seq"].(float64); !ok || seq != 42 {
			t.Errorf("encoding/json read seq %v", m["seq"])
		}
		if _, ok := m["fields"].(map[string]any); !ok {
			t.Errorf("encoding/json read fields %v", m["fields"])
		}

		if want.Validate() != nil {
			return
		}
		// Valid strings read back the same with encoding/json.
		if m["name"] != name || m["src"] != source {
			t.Errorf("encoding/json read name %q, src %q; want %q, %q", m["name"], m["src"], name, source)
		}
		for _, c := range codecs {
			b, err := c.Append(nil, want)
			if err != nil {
				t.Fatalf("%s: Append: %v", c, err)
			}
			var got Record
			if err := c.Decode(b, &got); err != nil {
				t.Fatalf("%s: Decode: %v\n%q", c, err, b)
			}
			if d := recordDiff(&got, want); d != "" {
				t.Fatalf("%s: round trip: %s\n%q", c, d, b)
			}
		}
	})
}
