package bundle

import (
	"encoding/json"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/jsonw"
)

// writeManifest is the manifest's text as Write writes it.
func writeManifest(m *Manifest) []byte { return jsonw.Indent(nil, m.AppendJSON(nil), "", "  ") }

var manifests = []*Manifest{
	{Format: 1, Created: codec.Time{Time: time.Date(2026, 12, 3, 17, 28, 9, 558267796, time.UTC)}, Host: "vm", Tool: "itiny-read 0.1.0-dev",
		Files: []FileSum{{Name: "events/stage", Size: 4224, SHA256: "3094dd79606dec24657f27f96834ca989234ba26e15551fbb04d9d71f315b09f"}}},
	{Format: -1, Created: codec.Time{Time: time.Unix(math.MaxInt64/2, 999999999).UTC()}, Host: "<h&st>\"\\\n\t\b\f\x00\u2028 é 日本",
		Tool: "", Files: []FileSum{{Name: "a/b", Size: math.MaxInt64}, {Name: "\x7f", Size: math.MinInt64, SHA256: "x"}}},
	{Format: math.MaxInt32, Created: codec.Time{Time: time.Unix(-math.MaxInt64/2, 0).UTC()}, Files: []FileSum{}},
}

// checkManifest fails unless m is written as encoding/json's MarshalIndent
// writes it, byte for byte, and ParseManifest reads that back as
// encoding/json reads it (as m, but for invalid UTF-8 made U+FFFD).
func checkManifest(t *testing.T, m *Manifest) {
	t.Helper()
	want, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := writeManifest(m)
	if string(got) != string(want) {
		t.Fatalf("got\n%s\nwant (encoding/json)\n%s", got, want)
	}
	var back Manifest
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if m, err := ParseManifest(got); err != nil || !reflect.DeepEqual(m, &back) {
		t.Fatalf("ParseManifest(%s) = %+v, %v; want %+v", got, m, err, &back)
	}
}

func TestManifestJSON(t *testing.T) {
	for _, m := range manifests {
		checkManifest(t, m)
		if back, err := ParseManifest(writeManifest(m)); err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("ParseManifest: %+v, %v; want %+v", back, err, m)
		}
	}
}

func TestParseManifest(t *testing.T) {
	const file = `{"name":"m/seg-1","size":3,"sha256":"ab"}`
	one := []FileSum{{Name: "m/seg-1", Size: 3, SHA256: "ab"}}
	for _, tc := range []struct {
		name, in string
		want     *Manifest
		err      string // in the error, if want is nil
	}{
		{"least", `{"format":1,"files":[]}`, &Manifest{Format: 1, Files: []FileSum{}}, ""},
		{"white space", " \t\r\n{ \"files\" : [ " + file + " ] , \"format\" :\n1 }\n", &Manifest{Format: 1, Files: one}, ""},
		{"escapes", `{"format":1,"tool":"a\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00","host":"\u003c","files":[]}`,
			&Manifest{Format: 1, Tool: "a\"\\/\b\f\n\r\t\u00e9\U0001F600", Host: "<", Files: []FileSum{}}, ""},
		{"a later writer's keys", `{"x":[1,-2.5e+3,{"y":[true,false,null,"z",{}],"y":0},[]],"format":1,"files":[{"sha256":"ab","more":{},"size":3,"name":"m/seg-1"}]}`,
			&Manifest{Format: 1, Files: one}, ""},
		{"expanded year", `{"format":1,"created":"+12000-01-01T00:00:00.000000000Z","files":[]}`,
			&Manifest{Format: 1, Created: codec.Time{Time: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}, Files: []FileSum{}}, ""},
		{"empty", ``, nil, "offset 0: want an object, found the end"},
		{"not an object", `[]`, nil, "offset 0: want an object, found an array"},
		{"cut short", `{"format":1,"files":[` + file, nil, "offset 62 (files): want ',' or ']' after files[0], found the end"},
		{"trailing", `{"format":1,"files":[]}x`, nil, `offset 23: 'x' after the manifest`},
		{"trailing comma", `{"format":1,"files":[],}`, nil, "offset 23: want a key, found '}'"},
		{"no files", `{"format":1}`, nil, `offset 12: no "files"`},
		{"no format", `{"files":[]}`, nil, `offset 12: no "format"`},
		{"a file without its sum", `{"format":1,"files":[{"name":"a","size":1}]}`, nil, `(files[0]): no "sha256"`},
		{"twice", `{"format":1,"format":1,"files":[]}`, nil, `offset 12: key "format" twice`},
		{"other case", `{"Format":1,"files":[]}`, nil, `offset 1: key "Format": the key is "format"`},
		{"folded case", `{"format":1,"files":[{"name":"a","ſize":1,"sha256":""}]}`, nil, `(files[0]): key "ſize": the key is "size"`},
		{"size a string", `{"format":1,"files":[{"name":"a","size":"1","sha256":""}]}`, nil, `offset 40 (files[0].size): want an integer, found a string`},
		{"size a fraction", `{"format":1,"files":[{"name":"a","size":1.0,"sha256":""}]}`, nil, `(files[0].size): want an integer, found 1.0`},
		{"size an exponent", `{"format":1,"files":[{"name":"a","size":1e3,"sha256":""}]}`, nil, `want an integer, found 1e3`},
		{"size too large", `{"format":1,"files":[{"name":"a","size":9223372036854775808,"sha256":""}]}`, nil, `9223372036854775808 is out of range`},
		{"leading zero", `{"format":01,"files":[]}`, nil, `offset 11: want ',' or '}' after the value of "format", found a number`},
		{"null", `{"format":1,"host":null,"files":[]}`, nil, `offset 19 (host): want a string, found 'n'`},
		{"bad time", `{"format":1,"created":"2026-02-30T00:00:00Z","files":[]}`, nil, `offset 23 (created): `},
		{"escaped time", `{"format":1,"created":"\u0032026-01-01T00:00:00Z","files":[]}`, nil, `(created): `},
		{"bad UTF-8", "{\"format\":1,\"host\":\"\xff\",\"files\":[]}", nil, `(host): a string that is not valid UTF-8`},
		{"control character", "{\"format\":1,\"host\":\"\n\",\"files\":[]}", nil, `offset 20 (host): control character '\n' in a string`},
		{"half a surrogate", `{"format":1,"host":"\ud800x","files":[]}`, nil, `(host): \u escape of half a surrogate pair`},
		{"bad escape", `{"format":1,"host":"\x","files":[]}`, nil, `offset 21 (host): bad escape 'x'`},
		{"bad \\u", `{"format":1,"host":"\u12","files":[]}`, nil, `offset 21 (host): bad \u escape`},
		{"bad literal", `{"x":nul,"format":1,"files":[]}`, nil, `offset 5 ("x"): want a value, found 'n'`},
		{"bad number", `{"x":-,"format":1,"files":[]}`, nil, `offset 6 ("x"): want a digit, found ','`},
		{"deep", `{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,"format":1,"files":[]}`, nil, `offset 37 ("x"): nested more than 32 deep`},
		{"deep objects", `{"x":` + strings.Repeat(`{"a":`, 40), nil, `nested more than 32 deep`},
		{"binary", "\x00\xff", nil, "offset 0: want an object, found byte 0x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tc.in))
			if tc.want != nil {
				if err != nil || !reflect.DeepEqual(m, tc.want) {
					t.Fatalf("got %+v, %v; want %+v", m, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %+v, %v; want an error with %q", m, err, tc.err)
			}
		})
	}
}

// TestManifestProblem: a manifest that does not parse is a problem of the
// bundle, which is still read.
func TestManifestProblem(t *testing.T) {
	b, err := Read(strings.NewReader(string(tarOf(t, true, reg(ManifestName, `{"format":1,"files":[{"name":"m/seg-1","size":"3"}]}`), reg("m/seg-1", "abc")))), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`itiny-bundle.json: offset 46 (files[0].size): want an integer, found a string`, "no itiny-bundle.json: the files cannot be checked"}
	if !reflect.DeepEqual(b.Problems, want) || b.Manifest != nil {
		t.Fatalf("problems %q, want %q", b.Problems, want)
	}
}

// FuzzParseManifest reads anything as a manifest: never a panic, and what
// it accepts, encoding/json (which read manifests before) accepts and
// reads the same. (It accepts less: a key twice or in other case, null,
// strings not valid UTF-8, half surrogate pairs, deep nesting.)
func FuzzParseManifest(f *testing.F) {
	for _, m := range manifests {
		f.Add(writeManifest(m))
	}
	f.Add([]byte(`{"x":[1,-2.5e+3,{"y":[true,false,null,"z\u00e9",{}]}],"format":1,"files":[{"sha256":"ab","size":-0,"name":"m"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if m != nil {
				t.Fatal("a manifest and an error")
			}
			return
		}
		var want Manifest
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("ParseManifest read %q, encoding/json refused it: %v", data, err)
		}
		if !reflect.DeepEqual(m, &want) {
			t.Fatalf("ParseManifest read %q as\n%+v\nencoding/json as\n%+v", data, m, &want)
		}
	})
}

// FuzzManifestJSON: any manifest is written as encoding/json writes it,
// and read back as encoding/json reads it.
func FuzzManifestJSON(f *testing.F) {
	f.Add(1, int64(1764000000), "vm", "itiny-read 0.1.0-dev", "events/stage", int64(4224), "3094dd")
	f.Fuzz(func(t *testing.T, format int, sec int64, host, tool, name string, size int64, sum string) {
		m := &Manifest{Format: format, Created: codec.Time{Time: time.Unix(sec, int64(size)%1e9).UTC()}, Host: host, Tool: tool,
			Files: []FileSum{{Name: name, Size: size, SHA256: sum}, {Name: sum, Size: ^size, SHA256: name}}}
		checkManifest(t, m)
	})
}

// TestManifestCost: reading a manifest allocates less than ManifestCost
// times its size, garbage included, with the entries that cost the most
// for their bytes (Read counts the manifest so against its limits).
func TestManifestCost(t *testing.T) {
	for _, entry := range []string{
		`{"name":"","size":0,"sha256":""}`,
		`{"name":"\u0041","size":0,"sha256":"","x":[[[[]]]]}`,
		`{"name":"` + strings.Repeat("n", 100) + `","size":0,"sha256":""}`,
	} {
		p := []byte(`{"format":1,"files":[` + strings.Repeat(entry+",", 50000) + entry + `]}`)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m, err := ParseManifest(p)
		runtime.ReadMemStats(&after)
		if err != nil || len(m.Files) != 50001 {
			t.Fatalf("%v", err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n >= ManifestCost*uint64(len(p)) {
			t.Errorf("entries %s: %d bytes allocated for %d bytes of manifest, more than %d times", entry, n, len(p), ManifestCost)
		}
	}
}
