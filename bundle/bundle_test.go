package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// dataDir makes an agent data directory with two rings, one still open.
func dataDir(t *testing.T) (string, *ringlog.Writer) {
	dir := t.TempDir()
	var live *ringlog.Writer
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		name := map[codec.Codec]string{codec.Msgpack: "metrics", codec.JSON: "events"}[c]
		w, err := ringlog.Open(filepath.Join(dir, name), ringlog.Options{Stream: name, Codec: c, Budget: 1 << 20, SegmentSize: 16 << 10})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300; i++ {
			r := codec.Record{Name: "sample", Wall: time.Unix(int64(i), 0), Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}}}
			if _, err := w.Append(&r); err != nil {
				t.Fatal(err)
			}
		}
		if c == codec.Msgpack {
			live = w
			continue
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir, live
}

func seqs(t *testing.T, r *ringlog.Reader) []uint64 {
	var s []uint64
	for {
		e, err := r.Next()
		if err == io.EOF {
			return s
		}
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, e.Seq)
	}
}

func TestWriteRead(t *testing.T) {
	dir, live := dataDir(t)
	defer live.Close()
	var buf bytes.Buffer
	m, err := Write(&buf, dir, "itiny-read test")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read(bytes.NewReader(buf.Bytes()), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Problems) != 0 || !reflect.DeepEqual(b.Manifest.Files, m.Files) {
		t.Fatalf("problems %q, manifest %+v", b.Problems, b.Manifest)
	}
	if got := b.Rings(); !reflect.DeepEqual(got, []string{"events", "metrics"}) {
		t.Fatalf("rings %q", got)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	if err := fstest.TestFS(b, names...); err != nil {
		t.Fatal(err)
	}
	for _, ring := range b.Rings() {
		r, err := ringlog.NewReaderFS(b, ring)
		if err != nil {
			t.Fatal(err)
		}
		onDisk, err := ringlog.NewReader(filepath.Join(dir, ring))
		if err != nil {
			t.Fatal(err)
		}
		got, want := seqs(t, r), seqs(t, onDisk)
		if !reflect.DeepEqual(got, want) || len(got) != 300 {
			t.Fatalf("%s: %d records from the bundle, %d on disk", ring, len(got), len(want))
		}
	}
}

// tarOf builds a tar, gzip'd if z, of name/content pairs.
func tarOf(t *testing.T, z bool, members ...tar.Header) []byte {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if z {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, h := range members {
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Linkname = ""
			if h.Size == 0 {
				h.Size = int64(len(body))
			}
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(body)) // a claimed size with no body: the archive ends early
		}
	}
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

// reg is a regular member whose content rides in Linkname for tarOf.
func reg(name, content string) tar.Header {
	return tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Linkname: content}
}

func TestHostile(t *testing.T) {
	manifest := `{"format":1,"files":[{"name":"m/seg-0000000000000001.mpk","size":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}]}`
	for _, tc := range []struct {
		name     string
		data     []byte
		err      error
		problems []string // substrings, in order
		files    []string
	}{
		{"clean", tarOf(t, true, reg(ManifestName, manifest), reg("m/seg-0000000000000001.mpk", "abc")), nil, nil, []string{"m/seg-0000000000000001.mpk"}},
		{"plain tar", tarOf(t, false, reg(ManifestName, manifest), reg("./m/seg-0000000000000001.mpk", "abc")), nil, nil, []string{"m/seg-0000000000000001.mpk"}},
		{"changed", tarOf(t, true, reg(ManifestName, manifest), reg("m/seg-0000000000000001.mpk", "abd")), nil, []string{"SHA-256 differs"}, []string{"m/seg-0000000000000001.mpk"}},
		{"escapes", tarOf(t, true, reg(ManifestName, manifest), reg("../../etc/passwd", "x"), reg("/abs", "x"), reg("m/../../x", "x"), reg("m/seg-0000000000000001.mpk", "abc")), nil,
			[]string{`"../../etc/passwd": not a clean`, `"/abs": not a clean`, `"m/../../x": not a clean`}, []string{"m/seg-0000000000000001.mpk"}},
		{"links and devices", tarOf(t, true, reg(ManifestName, manifest), tar.Header{Name: "m/seg-0000000000000001.mpk", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}, tar.Header{Name: "dev", Typeflag: tar.TypeChar}), nil,
			[]string{"not a regular file", "not a regular file", "missing from the archive"}, nil},
		{"no manifest", tarOf(t, true, reg("m/seg-0000000000000001.mpk", "abc")), nil, []string{"no itiny-bundle.json"}, []string{"m/seg-0000000000000001.mpk"}},
		{"extra and duplicate", tarOf(t, true, reg(ManifestName, manifest), reg("m/seg-0000000000000001.mpk", "abc"), reg("m/seg-0000000000000001.mpk", "abc"), reg("m/x", "y")), nil,
			[]string{"twice", `"m/x": not in the manifest`}, []string{"m/seg-0000000000000001.mpk", "m/x"}},
		{"bad manifest", tarOf(t, true, reg(ManifestName, "{"), reg("m/seg-0000000000000001.mpk", "abc")), nil, []string{"itiny-bundle.json: offset 1: want a key, found the end", "no itiny-bundle.json"}, []string{"m/seg-0000000000000001.mpk"}},
		{"not a tar", []byte("hello, I am not a bundle at all, but long enough to be read as a header"), nil, nil, nil},
		{"too big", tarOf(t, true, tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: 1 << 40}), ErrLimit, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Read(bytes.NewReader(tc.data), DefaultLimits)
			if tc.name == "not a tar" {
				if err == nil {
					t.Fatal("garbage read as a bundle")
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if len(b.Problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %q", b.Problems, tc.problems)
			}
			for i, p := range tc.problems {
				if !strings.Contains(b.Problems[i], p) {
					t.Fatalf("problem %d: %q, want %q", i, b.Problems[i], p)
				}
			}
			if err := fstest.TestFS(b, tc.files...); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLimits: what a bundle makes Read hold is bounded, members, names,
// the manifest and the problems' text together; going past the limit is
// an error that names what went past it and the limit.
func TestLimits(t *testing.T) {
	lim := ForMemory(1 << 20) // 512 KiB held
	var many, links, long []tar.Header
	for i := 0; i < 200; i++ {
		many = append(many, reg(fmt.Sprintf("r%d/seg-0000000000000001.mpk", i), strings.Repeat("x", 1000)))
	}
	for i := 0; i < 5000; i++ {
		links = append(links, tar.Header{Name: fmt.Sprintf("%0100d", i), Typeflag: tar.TypeSymlink, Linkname: "x"})
	}
	long = append(long, tar.Header{Name: strings.Repeat("n", 64<<10), Typeflag: tar.TypeSymlink, Linkname: "x", Format: tar.FormatPAX})
	for _, tc := range []struct {
		name string
		data []byte
		want string // in the error; "" for none
	}{
		{"a file past the limit", tarOf(t, true, reg("m/seg-0000000000000001.mpk", strings.Repeat("x", 300<<10)), reg("m/seg-0000000000000002.mpk", strings.Repeat("x", 300<<10))),
			`"m/seg-0000000000000002.mpk" (`},
		{"a file over MaxFile", tarOf(t, true, tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: 1 << 40}), `"big" has 1099511627776 bytes, more than the 524288`},
		{"many small files", tarOf(t, true, many...), `"r102/seg-0000000000000001.mpk" (`},
		{"a manifest of 40 KiB", tarOf(t, true, reg(ManifestName, `{"format":1,"host":"`+strings.Repeat("h", 40<<10)+`"}`)), `"itiny-bundle.json" (`},
		{"many problems", tarOf(t, true, links...), "the problems found ("},
		{"a long name", tarOf(t, true, long...), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Read(bytes.NewReader(tc.data), lim)
			if tc.want == "" {
				if err != nil || len(b.Problems) != 2 || len(b.Problems[0]) > 300 {
					t.Fatalf("Read: %v, problems %.400q", err, b.Problems)
				}
				return
			}
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tc.want) || tc.name != "a file over MaxFile" && !strings.Contains(err.Error(), "past 512KiB, the most for 1MiB of memory") {
				t.Fatalf("Read: %v, want %s over the limit", err, tc.want)
			}
		})
	}
}

// FuzzRead reads arbitrary bytes as a bundle: never a panic, and within
// small limits, never more memory than the limits allow.
func FuzzRead(f *testing.F) {
	f.Add(tarOf(&testing.T{}, true, reg(ManifestName, `{"format":1}`), reg("a/seg-1", "x")))
	f.Add(tarOf(&testing.T{}, false, reg("a/b/c", "xyz")))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := ForMemory(1 << 19)
		b, err := Read(bytes.NewReader(data), lim)
		if err != nil {
			return
		}
		held := int64(0)
		for name, d := range b.files {
			held += int64(len(d)+len(name)) + MemberCost
		}
		if held > lim.MaxHeld || len(b.files) > lim.MaxFiles {
			t.Fatalf("%d bytes held in %d files, over the limits", held, len(b.files))
		}
		for _, r := range b.Rings() {
			if rd, err := ringlog.NewReaderFS(b, r); err == nil {
				for i := 0; i < 1000; i++ {
					if _, err := rd.Next(); err == io.EOF {
						break
					}
				}
			}
		}
	})
}

// FuzzMembers builds archives from member headers the fuzzer chooses
// (name, type, a size up to 64 KiB, content) and cuts them where it
// chooses, compressed or not, and reads them within small limits: Read
// never panics, holds no more than its limits allow, keeps only clean
// names of regular files, keeps its problems short, and its rings read.
func FuzzMembers(f *testing.F) {
	f.Add([]byte("\x00\x10m/seg-0000000000000001.mpk\x03\x00"), uint16(0), true)
	f.Add([]byte("\x02\x04link\x00\x00\x05\x07../x/ya\xff\xff\x00\x0bitiny-bundle.json\x02\x00"), uint16(700), false)
	types := []byte{tar.TypeReg, tar.TypeRegA, tar.TypeDir, tar.TypeSymlink, tar.TypeChar, tar.TypeFifo, tar.TypeLink}
	f.Fuzz(func(t *testing.T, spec []byte, cut uint16, z bool) {
		var members []tar.Header
		for len(spec) >= 4 {
			typ, n := types[int(spec[0])%len(types)], int(spec[1])
			if len(spec) < 4+n {
				break
			}
			h := tar.Header{Name: string(spec[2 : 2+n]), Typeflag: typ, Format: tar.FormatPAX}
			size := int(spec[2+n]) | int(spec[3+n])<<8
			if typ == tar.TypeReg || typ == tar.TypeRegA {
				h.Typeflag, h.Linkname = tar.TypeReg, strings.Repeat("\x00", size)
			} else {
				h.Linkname = "x"
			}
			members = append(members, h)
			spec = spec[4+n:]
		}
		data := tarOfLoose(members, z)
		if cut > 0 && int(cut) < len(data) {
			data = data[:cut]
		}
		lim := ForMemory(1 << 18)
		b, err := Read(bytes.NewReader(data), lim)
		if err != nil {
			if errors.Is(err, ErrLimit) && !strings.Contains(err.Error(), "more than") && !strings.Contains(err.Error(), "past") {
				t.Fatalf("a limit error that names no limit: %v", err)
			}
			return
		}
		if b.Held() > lim.MaxHeld || len(b.files) > lim.MaxFiles {
			t.Fatalf("%d bytes held in %d files, over the limits", b.Held(), len(b.files))
		}
		for name := range b.files {
			if !fs.ValidPath(name) || name == "." {
				t.Fatalf("kept %q", name)
			}
		}
		for _, p := range b.Problems {
			if len(p) > 600 {
				t.Fatalf("a problem of %d bytes", len(p))
			}
		}
		for _, r := range b.Rings() {
			if rd, err := ringlog.NewReaderFS(b, r); err == nil {
				for i := 0; i < 1000; i++ {
					if _, err := rd.Next(); err == io.EOF {
						break
					}
				}
			}
		}
	})
}

// tarOfLoose builds a tar as tarOf does, leaving out members the writer
// refuses (names it cannot encode).
func tarOfLoose(members []tar.Header, z bool) []byte {
	var buf bytes.Buffer
	var w io.Writer = &buf
	zw := gzip.NewWriter(&buf)
	if z {
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, h := range members {
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Linkname, h.Size = "", int64(len(body))
		}
		if tw.WriteHeader(&h) != nil {
			continue
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	if z {
		zw.Close()
	}
	return buf.Bytes()
}
