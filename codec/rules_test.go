package codec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// mpKey returns a MessagePack str8 of s (any length below 256).
func mpKey(s string) []byte { return append([]byte{0xd9, byte(len(s))}, s...) }

// mpMany returns a map16 of n keys k0, k1, ... with value 1, the last key
// replaced by last when it is not "".
func mpMany(n int, last string) []byte {
	b := []byte{0xde, byte(n >> 8), byte(n)}
	for i := range n {
		k := "k" + itoa(i)
		if i == n-1 && last != "" {
			k = last
		}
		b = append(append(b, mpStr(k)...), 0x01)
	}
	return b
}

// jsMany is mpMany in JSON, without the braces.
func jsMany(n int, last string) string {
	var b strings.Builder
	for i := range n {
		k := "k" + itoa(i)
		if i == n-1 && last != "" {
			k = last
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + k + `":1`)
	}
	return b.String()
}

// nest wraps v in n lists, as MessagePack and as JSON.
func nestMsg(n int, v []byte) []byte  { return append([]byte(repeat("\x91", n)), v...) }
func nestJSON(n int, v string) string { return repeat("[", n) + v + repeat("]", n) }

// ruleCases are records in both encodings, byte for byte alike, that a
// reader must keep or drop by docs/FORMAT.md section 4. Both decoders must
// agree: both keep the same record, or both drop it with an error naming
// what is wrong (want, case-insensitive).
var ruleCases = []struct {
	name string
	mp   []byte
	js   string
	want string // "" if the record is kept
}{
	// Kept: unknown keys hold anything well-formed, and are not checked.
	{"empty", mp(0x80), `{}`, ""},
	{"unknown key null", mp(0x81, mpStr("x"), 0xc0), `{"x":null}`, ""},
	{"unknown key twice", mp(0x82, mpStr("x"), 0x01, mpStr("x"), 0x02), `{"x":1,"x":2}`, ""},
	{"unknown value with $ key", mp(0x81, mpStr("x"), 0x81, mpStr("$k"), 0x01), `{"x":{"$k":1}}`, ""},
	{"unknown value with duplicate keys", mp(0x81, mpStr("x"), 0x82, mpStr("k"), 0x01, mpStr("k"), 0xc0), `{"x":{"k":1,"k":null}}`, ""},
	{"unknown value 9 deep", mp(0x81, mpStr("x"), nestMsg(8, mp(0x90))), `{"x":` + nestJSON(8, "[]") + `}`, ""},
	{"32 keys", mpMany(32, ""), `{` + jsMany(32, "") + `}`, ""},
	{"field value 8 deep", fieldsOf(0x81, mpStr("a"), nestMsg(7, mp(0x90))), `{"fields":{"a":` + nestJSON(7, "[]") + `}}`, ""},
	{"key of 128 bytes", fieldsOf(0x81, mpKey(repeat("k", 128)), 0x01), `{"fields":{"` + repeat("k", 128) + `":1}}`, ""},
	{"keys in any order", mp(0x82, mpStr("name"), mpStr("n"), mpStr("seq"), 0x05), `{"name":"n","seq":5}`, ""},
	{"level 7", mp(0x81, mpStr("level"), 0x07), `{"level":7}`, ""},
	{"1024 fields", fieldsOf(mpMany(1024, "")), `{"fields":{` + jsMany(1024, "") + `}}`, ""},
	{"wall year 12000", mp(0x81, mpStr("wall"), 0xc7, 0x0c, 0xff, be32(0), 0x00, 0x00, 0x00, 0x49, 0xb1, 0xd6, 0x01, 0x00),
		`{"wall":"+12000-01-01T00:00:00.000000000Z"}`, ""},

	// Dropped: what would make the record ambiguous or unprintable.
	{"level 8", mp(0x81, mpStr("level"), 0x08), `{"level":8}`, "level"},
	{"level 255", mp(0x81, mpStr("level"), 0xcc, 0xff), `{"level":255}`, "level"},
	{"stream not a name", mp(0x81, mpStr("stream"), mpStr("Metrics")), `{"stream":"Metrics"}`, "invalid stream name"},
	{"stream with a slash", mp(0x81, mpStr("stream"), mpStr("a/b")), `{"stream":"a/b"}`, "invalid stream name"},
	{"$ key", fieldsOf(0x81, mpStr("$k"), 0x01), `{"fields":{"$k":1}}`, "starts with '$'"},
	{"$float key", fieldsOf(0x81, mpStr("$float"), mpStr("NaN")), `{"fields":{"$float":"NaN"}}`, "starts with '$'"},
	{"$ key in a map", fieldsOf(0x81, mpStr("a"), 0x81, mpStr("$k"), 0x01), `{"fields":{"a":{"$k":1}}}`, "starts with '$'"},
	{"$ key second in a map", fieldsOf(0x81, mpStr("a"), 0x82, mpStr("b"), 0x01, mpStr("$k"), 0x01), `{"fields":{"a":{"b":1,"$k":1}}}`, "starts with '$'"},
	{"empty key", fieldsOf(0x81, mpStr(""), 0x01), `{"fields":{"":1}}`, "empty key"},
	{"key of 129 bytes", fieldsOf(0x81, mpKey(repeat("k", 129)), 0x01), `{"fields":{"` + repeat("k", 129) + `":1}}`, "longer than 128"},
	{"duplicate key", fieldsOf(0x82, mpStr("a"), 0x01, mpStr("a"), 0x02), `{"fields":{"a":1,"a":2}}`, `duplicate key "a"`},
	{"duplicate key in a map", fieldsOf(0x81, mpStr("m"), 0x82, mpStr("a"), 0x01, mpStr("a"), 0x01), `{"fields":{"m":{"a":1,"a":1}}}`, `duplicate key "a"`},
	{"duplicate key of 1000", fieldsOf(mpMany(1000, "k3")), `{"fields":{` + jsMany(1000, "k3") + `}}`, `duplicate key "k3"`},
	{"seq twice", mp(0x82, mpStr("seq"), 0x01, mpStr("seq"), 0x02), `{"seq":1,"seq":2}`, `"seq" appears twice`},
	{"fields twice", mp(0x82, mpStr("fields"), 0x80, mpStr("fields"), 0x80), `{"fields":{},"fields":{}}`, `"fields" appears twice`},
	{"33 keys", mpMany(33, ""), `{` + jsMany(33, "") + `}`, "more than 32 keys"},
	{"1025 fields", fieldsOf(mpMany(1025, "")), `{"fields":{` + jsMany(1025, "") + `}}`, "too many"},
	{"list of 1025", fieldsOf(0x81, mpStr("l"), 0xdc, 0x04, 0x01, repeat("\x01", 1025)), `{"fields":{"l":[` + repeat("1,", 1024) + `1]}}`, "too many"},
	{"name not UTF-8", mp(0x81, mpStr("name"), 0xa2, 'a', 0xff), "{\"name\":\"a\xff\"}", "not valid UTF-8"},
	{"src an encoded surrogate", mp(0x81, mpStr("src"), 0xa3, 0xed, 0xa0, 0x80), "{\"src\":\"\xed\xa0\x80\"}", "not valid UTF-8"},
	{"key not UTF-8", fieldsOf(0x81, 0xa1, 0xff, 0x01), "{\"fields\":{\"\xff\":1}}", "not valid UTF-8"},
	{"string value not UTF-8", fieldsOf(0x81, mpStr("a"), 0xd9, 0x01, 0xc3), "{\"fields\":{\"a\":\"\xc3\"}}", "not valid UTF-8"},
	{"unknown key not UTF-8", mp(0x81, 0xa2, 'x', 0xff, 0x01), "{\"x\xff\":1}", "not valid UTF-8"},
	{"unknown value not UTF-8", mp(0x81, mpStr("x"), 0x91, 0xa1, 0xff), "{\"x\":[\"\xff\"]}", "not valid UTF-8"},
	{"null field", fieldsOf(0x81, mpStr("a"), 0xc0), `{"fields":{"a":null}}`, "invalid value"},
	{"null in a list", fieldsOf(0x81, mpStr("a"), 0x92, 0x01, 0xc0), `{"fields":{"a":[1,null]}}`, "invalid value"},
	{"null name", mp(0x81, mpStr("name"), 0xc0), `{"name":null}`, "name"},
	{"null seq", mp(0x81, mpStr("seq"), 0xc0), `{"seq":null}`, "seq"},
	{"null fields", mp(0x81, mpStr("fields"), 0xc0), `{"fields":null}`, "fields"},
	{"null wall", mp(0x81, mpStr("wall"), 0xc0), `{"wall":null}`, "wall"},
	{"field value 9 deep", fieldsOf(0x81, mpStr("a"), nestMsg(8, mp(0x90))), `{"fields":{"a":` + nestJSON(8, "[]") + `}}`, "nested deeper"},
	{"field value 9 deep maps", fieldsOf(0x81, mpStr("a"), repeat("\x81\xa1k", 8), 0x80), `{"fields":{"a":` + repeat(`{"k":`, 8) + "{}" + repeat("}", 8) + `}}`, "nested deeper"},
	{"unknown value 10 deep", mp(0x81, mpStr("x"), nestMsg(9, mp(0x90))), `{"x":` + nestJSON(9, "[]") + `}`, "nested deeper"},
	{"seq negative", mp(0x81, mpStr("seq"), 0xff), `{"seq":-1}`, "seq"},
	{"bootn 2^32", mp(0x81, mpStr("bootn"), 0xcf, 0, 0, 0, 1, 0, 0, 0, 0), `{"bootn":4294967296}`, "boot"},
	{"boot of 15 bytes", mp(0x81, mpStr("boot"), 0xc4, 0x0f, repeat("\x00", 15)), `{"boot":"` + repeat("00", 15) + `"}`, "boot"},
	{"name a number", mp(0x81, mpStr("name"), 0x01), `{"name":1}`, "name"},
	{"fields a list", mp(0x81, mpStr("fields"), 0x91, 0x01), `{"fields":[1]}`, "fields"},
}

func TestRulesAgree(t *testing.T) {
	for _, tt := range ruleCases {
		t.Run(tt.name, func(t *testing.T) {
			var rm, rj Record
			errM := Msgpack.Decode(tt.mp, &rm)
			errJ := JSON.Decode([]byte(tt.js), &rj)
			if tt.want == "" {
				if errM != nil || errJ != nil {
					t.Fatalf("want both kept; msgpack: %v; json: %v", errM, errJ)
				}
				if d := recordDiff(&rm, &rj); d != "" {
					t.Fatalf("the codecs decode differently: %s", d)
				}
				if err := rm.Validate(); err != nil {
					t.Fatalf("a decoded record fails Validate: %v", err)
				}
				return
			}
			for _, c := range []struct {
				codec Codec
				err   error
			}{{Msgpack, errM}, {JSON, errJ}} {
				var de *DecodeError
				if !errors.As(c.err, &de) || de.Codec != c.codec {
					t.Errorf("%s: %v, want a *DecodeError", c.codec, c.err)
				} else if !strings.Contains(strings.ToLower(c.err.Error()), strings.ToLower(tt.want)) {
					t.Errorf("%s: %v, want an error naming %q", c.codec, c.err, tt.want)
				}
			}
		})
	}
}

func TestRulesTable(t *testing.T) {
	// The table's two encodings say the same: where both decode, JSON's
	// own encoding of the MessagePack record is the JSON case, re-encoded.
	for _, tt := range ruleCases {
		if tt.want != "" {
			continue
		}
		var r Record
		if err := Msgpack.Decode(tt.mp, &r); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want, _ := AppendJSON(nil, &r)
		var rj Record
		if err := JSON.Decode([]byte(tt.js), &rj); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got, _ := AppendJSON(nil, &rj); string(got) != string(want) {
			t.Errorf("%s: JSON case reads as\n%s\nMessagePack case as\n%s", tt.name, got, want)
		}
	}
	// The year-12000 case's bytes are that time's timestamp.
	b, _ := (&Record{Wall: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}).MarshalMsg(nil)
	if want := string(mp(0xc7, 0x0c, 0xff, be32(0), 0x00, 0x00, 0x00, 0x49, 0xb1, 0xd6, 0x01, 0x00)); !strings.Contains(string(b), want) {
		t.Errorf("year 12000 is % x", b)
	}
}

func TestMsgpackOnlyRules(t *testing.T) {
	// Rules only MessagePack can break: JSON has no binary keys and no
	// extension types.
	for _, tt := range []struct {
		name string
		in   []byte
		want string
	}{
		{"record key bin", mp(0x81, 0xc4, 0x03, "seq", 0x01), `"bin"`},
		{"wall msgp's type 5", mp(0x81, mpStr("wall"), 0xc7, 0x0c, 0x05, repeat("\x00", 12)), "extension type -1"},
		{"wall ext16", mp(0x81, mpStr("wall"), 0xc8, 0x00, 0x0c, 0xff, repeat("\x00", 12)), "extension type -1"},
		{"wall 32 bits as ext8", mp(0x81, mpStr("wall"), 0xc7, 0x04, 0xff, be32(1)), "extension type -1"},
		{"wall 64 bits as ext8", mp(0x81, mpStr("wall"), 0xc7, 0x08, 0xff, be32(0), be32(1)), "extension type -1"},
		{"field ext", fieldsOf(0x81, mpStr("a"), 0xd4, 0x01, 0x00), "invalid value: ext"},
		{"field timestamp", fieldsOf(0x81, mpStr("a"), 0xd6, 0xff, be32(0)), "invalid value"},
		{"bin key in a map", fieldsOf(0x81, mpStr("a"), 0x81, 0xc4, 0x01, 'k', 0x01), `"bin"`},
	} {
		var r Record
		err := Msgpack.Decode(tt.in, &r)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}
