package codec

import (
	"testing"
	"unsafe"
)

// escapedJSON is a record whose strings and keys need unescaping.
const escapedJSON = `{"stream":"ev\u0065nts","src":"a\/b","name":"line\none \"two\"","level":"info",` +
	`"fields":{"k\u00e9y":"\ud83d\ude00 \t tab","path":"C:\\dir\\","bad":"\ud800x","n":1}}`

// within reports whether s is empty or lies inside p.
func within(s string, p []byte) bool {
	if len(s) == 0 {
		return true
	}
	q := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return q >= start && q+uintptr(len(s)) <= start+uintptr(len(p))
}

// stringsOf calls f with every string of r but JSON's bytes values, which
// are decoded from base64 into new storage.
func stringsOf(r *Record, c Codec, f func(string)) {
	f(r.Stream)
	f(r.Source)
	f(r.Name)
	var walk func(Fields)
	walk = func(fs Fields) {
		for _, fl := range fs {
			f(fl.Key)
			if c != JSON || fl.Value.kind != KindBytes {
				f(fl.Value.str)
			}
			walk(fl.Value.sub)
		}
	}
	walk(r.Fields)
}

func TestDecodeAlias(t *testing.T) {
	for c, ins := range aliasInputs(t) {
		var got Record
		for _, in := range ins {
			var want Record
			if err := c.Decode(in, &want); err != nil {
				t.Fatalf("%s: Decode: %v", c, err)
			}
			p := append([]byte(nil), in...)
			if err := c.DecodeAlias(p, &got); err != nil {
				t.Fatalf("%s: DecodeAlias: %v\n%q", c, err, in)
			}
			if d := recordDiff(&got, &want); d != "" {
				t.Fatalf("%s: DecodeAlias: %s\n%q", c, d, in)
			}
			stringsOf(&got, c, func(s string) {
				if !within(s, p) {
					t.Errorf("%s: string %q is a copy", c, s)
				}
			})
			checkArena(t, c, in, &want)
		}
	}
}

// TestDecodeAliasZeroAllocs: a record of scalar fields decodes with no
// allocation into a record that has room, escaped JSON strings included.
func TestDecodeAliasZeroAllocs(t *testing.T) {
	var every *Record
	for _, tt := range roundTripRecords() {
		if tt.name == "every kind" {
			every = &tt.r
		}
	}
	type input struct {
		c    Codec
		name string
		b    []byte
	}
	var ins []input
	for _, c := range codecs {
		b, _ := c.Append(nil, metricsRecord())
		ins = append(ins, input{c, "metrics", b})
	}
	// Lists and maps reuse their storage in MessagePack only.
	b, _ := Msgpack.Append(nil, every)
	ins = append(ins, input{Msgpack, "every kind", b})
	ins = append(ins, input{JSON, "escapes", []byte(escapedJSON)})
	long := &Record{Name: "a name longer than the 31 bytes of a fixstr", Fields: Fields{{"s", String(string(make([]byte, 300)))}}}
	// More than 16 keys: duplicates are looked for through a hash table.
	many := &Record{Fields: manyFields(MaxFields)}
	for _, c := range codecs {
		b, _ := c.Append(nil, long)
		ins = append(ins, input{c, "long strings", b})
		b, _ = c.Append(nil, many)
		ins = append(ins, input{c, "1024 fields", b})
	}
	for _, in := range ins {
		var r Record
		p := make([]byte, len(in.b))
		run := func() {
			copy(p, in.b) // JSON is unescaped in place
			if err := in.c.DecodeAlias(p, &r); err != nil {
				t.Fatal(err)
			}
		}
		run()
		if n := testing.AllocsPerRun(100, run); n != 0 {
			t.Errorf("%s %s: %v allocations per DecodeAlias", in.c, in.name, n)
		}
	}
}
