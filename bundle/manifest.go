package bundle

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/jsontok"
	"github.com/itiny/itiny/internal/jsonw"
)

// ManifestName is the manifest's name in a bundle.
const ManifestName = "itiny-bundle.json"

// A Manifest describes a bundle. The struct tags are the JSON it is
// written as (AppendJSON writes it so, as encoding/json would: the tests
// compare the two).
type Manifest struct {
	Format  int        `json:"format"`         // 1
	Created codec.Time `json:"created"`        // wall clock of the device (untrusted), in any year
	Host    string     `json:"host,omitempty"` // the device's host name
	Tool    string     `json:"tool"`           // what wrote it, with its version
	Files   []FileSum  `json:"files"`
}

// A FileSum is one file of a bundle.
type FileSum struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // lowercase hex
}

// AppendJSON appends m as a compact JSON object.
func (m *Manifest) AppendJSON(b []byte) []byte {
	b = append(b, `{"format":`...)
	b = strconv.AppendInt(b, int64(m.Format), 10)
	b = append(b, `,"created":"`...)
	b = codec.AppendWall(b, m.Created.Time)
	b = append(b, '"')
	if m.Host != "" {
		b = append(b, `,"host":`...)
		b = jsonw.AppendString(b, m.Host)
	}
	b = append(b, `,"tool":`...)
	b = jsonw.AppendString(b, m.Tool)
	b = append(b, `,"files":`...)
	b = jsonw.AppendArray(b, m.Files, (*FileSum).AppendJSON)
	return append(b, '}')
}

// AppendJSON appends f as a compact JSON object.
func (f *FileSum) AppendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = jsonw.AppendString(b, f.Name)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, f.Size, 10)
	b = append(b, `,"sha256":`...)
	b = jsonw.AppendString(b, f.SHA256)
	return append(b, '}')
}

// maxSkipDepth bounds the nesting of the values of keys the manifest's
// reader does not know and skips.
const maxSkipDepth = 32

// ParseManifest reads a manifest, strictly: one JSON object with the keys
// of a Manifest, format and files required, and each file with all three
// of its keys; keys it does not know are skipped (a later writer may add
// some), and a known key twice, or in other case ("Format"), is an error.
// Strings must be valid UTF-8. The manifest is untrusted: whatever p
// holds, ParseManifest returns an error naming what is wrong and at which
// byte, never panics, and takes memory and stack bounded by len(p)
// (Limits.ManifestCost).
func ParseManifest(p []byte) (*Manifest, error) {
	d := &manifestReader{p: p, file: -1}
	m, err := d.manifest()
	if err != nil {
		return nil, err
	}
	if d.ws(); d.i < len(d.p) {
		return nil, d.errorf("", "%s after the manifest", d.found())
	}
	return m, nil
}

// A manifestReader reads a manifest from p; i is the offset of the next
// byte, file the index of the file being read (-1 outside files).
type manifestReader struct {
	p    []byte
	i    int
	file int
}

// errorf returns an error at the current offset in the value at path (a
// key), within the file being read if any: files[N] is put before path
// here, so that it is made only for an error.
func (d *manifestReader) errorf(path, format string, args ...any) error {
	if d.file >= 0 {
		path = strings.TrimSuffix("files["+strconv.Itoa(d.file)+"]."+path, ".")
	}
	if path != "" {
		path = " (" + path + ")"
	}
	return fmt.Errorf("offset %d%s: %s", d.i, path, fmt.Sprintf(format, args...))
}

// found names the next token for an error.
func (d *manifestReader) found() string {
	d.ws()
	if d.i >= len(d.p) {
		return "the end"
	}
	switch c := d.p[d.i]; {
	case c == '"':
		return "a string"
	case c == '-' || '0' <= c && c <= '9':
		return "a number"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c >= 0x20 && c < utf8.RuneSelf:
		return strconv.QuoteRune(rune(c))
	default:
		return fmt.Sprintf("byte %#02x", c)
	}
}

func (d *manifestReader) ws() {
	for d.i < len(d.p) && (d.p[d.i] == ' ' || d.p[d.i] == '\t' || d.p[d.i] == '\n' || d.p[d.i] == '\r') {
		d.i++
	}
}

// peek skips white space and returns the next byte, 0 at the end.
func (d *manifestReader) peek() byte {
	if d.ws(); d.i < len(d.p) {
		return d.p[d.i]
	}
	return 0
}

// object reads an object at path, calling member for each key with the
// reader at its value. keys are the keys member knows: one given twice,
// or in other case, is an error, and so is the absence of keys[k] when
// bit k of required is set.
func (d *manifestReader) object(path string, keys []string, required uint, member func(key string) error) error {
	if d.peek() != '{' {
		return d.errorf(path, "want an object, found %s", d.found())
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		return nil
	}
	var seen uint // bit k: keys[k] read
	for {
		if d.peek() != '"' {
			return d.errorf(path, "want a key, found %s", d.found())
		}
		start := d.i
		key, _, err := d.string(path)
		if err != nil {
			return err
		}
		for k, known := range keys {
			switch {
			case key == known && seen&(1<<k) != 0:
				d.i = start
				return d.errorf(path, "key %q twice", key)
			case key == known:
				seen |= 1 << k
			case strings.EqualFold(key, known):
				d.i = start
				return d.errorf(path, "key %q: the key is %q", key, known)
			}
		}
		if d.peek() != ':' {
			return d.errorf(path, "want ':' after key %q, found %s", key, d.found())
		}
		d.i++
		if err := member(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			for k, known := range keys {
				if required&^seen&(1<<k) != 0 {
					return d.errorf(path, "no %q", known)
				}
			}
			return nil
		default:
			return d.errorf(path, "want ',' or '}' after the value of %q, found %s", key, d.found())
		}
	}
}

// The keys of a manifest and of a file, and those required (bits).
var (
	manifestKeys = []string{"format", "created", "host", "tool", "files"}
	fileKeys     = []string{"name", "size", "sha256"}
)

const manifestRequired, fileRequired = 1<<0 | 1<<4, 1<<0 | 1<<1 | 1<<2

func (d *manifestReader) manifest() (*Manifest, error) {
	m := &Manifest{}
	err := d.object("", manifestKeys, manifestRequired, func(key string) (err error) {
		switch key {
		case "format":
			var n int64
			n, err = d.int(key, strconv.IntSize)
			m.Format = int(n)
		case "created":
			var raw []byte
			if _, raw, err = d.string(key); err == nil {
				// The text as it stands, as encoding/json gave codec.Time.
				if e := m.Created.UnmarshalText(raw); e != nil {
					d.i -= len(raw) + 1
					err = d.errorf(key, "%v", e)
				}
			}
		case "host":
			m.Host, _, err = d.string(key)
		case "tool":
			m.Tool, _, err = d.string(key)
		case "files":
			m.Files, err = d.files()
		default:
			err = d.skip(strconv.Quote(key), 0)
		}
		return err
	})
	return m, err
}

func (d *manifestReader) files() ([]FileSum, error) {
	if d.peek() != '[' {
		return nil, d.errorf("files", "want an array, found %s", d.found())
	}
	d.i++
	files := []FileSum{}
	if d.peek() == ']' {
		d.i++
		return files, nil
	}
	for {
		var f FileSum
		d.file = len(files)
		err := d.object("", fileKeys, fileRequired, func(key string) (err error) {
			switch key {
			case "name":
				f.Name, _, err = d.string(key)
			case "size":
				f.Size, err = d.int(key, 64)
			case "sha256":
				f.SHA256, _, err = d.string(key)
			default:
				err = d.skip(strconv.Quote(key), 0)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		d.file = -1
		files = append(files, f)
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return files, nil
		default:
			return nil, d.errorf("files", "want ',' or ']' after files[%d], found %s", len(files)-1, d.found())
		}
	}
}

// number reads a number (RFC 8259's grammar) and returns its text, and
// whether it is an integer: no fraction, no exponent.
func (d *manifestReader) number(path string) (text string, integer bool, err error) {
	end, float, err := jsontok.Number(d.p, d.i)
	if err != nil {
		d.i = err.(*jsontok.Error).Off
		return "", false, d.errorf(path, "%s, found %s", err.(*jsontok.Error).Msg, d.found())
	}
	text, d.i = string(d.p[d.i:end]), end
	return text, !float, nil
}

// int reads an integer of the given bits: no fraction, no exponent.
func (d *manifestReader) int(path string, bits int) (int64, error) {
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, d.errorf(path, "want an integer, found %s", d.found())
	}
	start := d.i
	text, integer, err := d.number(path)
	if err != nil {
		return 0, err
	}
	if !integer {
		d.i = start
		return 0, d.errorf(path, "want an integer, found %s", text)
	}
	n, err := strconv.ParseInt(text, 10, bits)
	if err != nil {
		d.i = start
		return 0, d.errorf(path, "%s is out of range", text)
	}
	return n, nil
}

// string reads a string and returns it unescaped, and its text between
// the quotes as it stands.
func (d *manifestReader) string(path string) (s string, raw []byte, err error) {
	if d.peek() != '"' {
		return "", nil, d.errorf(path, "want a string, found %s", d.found())
	}
	b, end, err := jsontok.String(nil, d.p, d.i, true)
	if err != nil {
		te := err.(*jsontok.Error)
		d.i = te.Off
		if te.Msg == jsontok.Unterminated {
			return "", nil, d.errorf(path, "the manifest ends in a string")
		}
		return "", nil, d.errorf(path, "%s", te.Msg)
	}
	raw, d.i = d.p[d.i+1:end-1], end
	return string(b), raw, nil
}

// skip reads a value of any kind, the value of a key the reader does not
// know, nested at most maxSkipDepth deep.
func (d *manifestReader) skip(path string, depth int) error {
	if depth >= maxSkipDepth {
		return d.errorf(path, "nested more than %d deep", maxSkipDepth)
	}
	switch c := d.peek(); {
	case c == '"':
		_, _, err := d.string(path)
		return err
	case c == '-' || '0' <= c && c <= '9':
		_, _, err := d.number(path)
		return err
	case c == '{':
		return d.object(path, nil, 0, func(string) error { return d.skip(path, depth+1) })
	case c == '[':
		d.i++
		if d.peek() == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.skip(path, depth+1); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return d.errorf(path, "want ',' or ']' in an array, found %s", d.found())
			}
		}
	}
	for _, lit := range []string{"true", "false", "null"} {
		if string(d.p[d.i:min(d.i+len(lit), len(d.p))]) == lit {
			d.i += len(lit)
			return nil
		}
	}
	return d.errorf(path, "want a value, found %s", d.found())
}
