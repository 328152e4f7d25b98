// Support bundles made to take a reader's memory.

package hostile

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/ringlog"
)

// A Bundle is a bundle made to take a reader's memory.
type Bundle struct {
	Name, Path string
	// Refused is what the error of a reader refusing it at the default
	// --bundle-memory names; "" if it is read.
	Refused string
}

// Write writes the bundles into dir: a megabyte of zeros compressed that
// is a gigabyte (refused, the first member over the limit named), two
// members of zeros that fit, twenty thousand rings, records of a million
// one-byte values (more than a reader decodes), records of 16,000
// (fewer), and packed rings of 60 KB records (a packed ring's reader
// keeps the last 32).
func Write(dir string) ([]Bundle, error) {
	bs := []Bundle{
		{Name: "zeros-16x64MiB", Refused: `"s1/seg-0000000000000001.mpk"`},
		{Name: "zeros-2x60MiB"},
		{Name: "rings-20000"},
		{Name: "dense-1M-values"},
		{Name: "dense-16k-values"},
		{Name: "packed-60KB-records"},
	}
	for i := range bs {
		bs[i].Path = filepath.Join(dir, bs[i].Name+".tar.gz")
	}
	for _, err := range []error{
		Zeros(bs[0].Path, 16, 64<<20),
		Zeros(bs[1].Path, 2, 60<<20),
		ManyRings(bs[2].Path, 20000),
		RecordBundle(bs[3].Path, 2, Dense(1000*1000), 40<<20, false), // 1,000 fields (codec.MaxFields 1,024)
		RecordBundle(bs[4].Path, 5, Dense(16000), 4<<20, false),
		RecordBundle(bs[5].Path, 12, Wide(60000), 4<<20, true),
	} {
		if err != nil {
			return nil, err
		}
	}
	return bs, nil
}

// WriteT is Write for a test, into a directory removed after it.
func WriteT(t testing.TB, dir string) []Bundle {
	t.Helper()
	bs, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// Zeros writes n members s0/seg-0000000000000001.mpk ... of size zero
// bytes each, one ring each: a megabyte compressed for a gigabyte.
func Zeros(path string, n int, size int64) error {
	return writeTar(path, func(tw *tar.Writer) error {
		for i := 0; i < n; i++ {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("s%d/seg-0000000000000001.mpk", i), Mode: 0o640, Size: size, Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := io.CopyN(tw, zeros{}, size); err != nil {
				return err
			}
		}
		return nil
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// ManyRings writes n rings r00000/, r00001/... of one segment of 10 small
// records each.
func ManyRings(path string, n int) error {
	tmp, err := os.MkdirTemp("", "hostile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "metrics")
	w, err := ringlog.Open(dir, ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 64 << 10})
	if err != nil {
		return err
	}
	r := codec.Record{Boot: codec.BootID{1}, BootCount: 1, Source: "test", Level: codec.LevelInfo, Name: "r"}
	for i := int64(1); i <= 10; i++ {
		r.Mono, r.Fields = i*1e9, codec.Fields{{Key: "i", Value: codec.Int(i)}}
		if _, err := w.Append(&r); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	seg, err := os.ReadFile(filepath.Join(dir, "seg-0000000000000001.mpk"))
	if err != nil {
		return err
	}
	return writeTar(path, func(tw *tar.Writer) error {
		for i := 0; i < n; i++ {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("r%05d/seg-0000000000000001.mpk", i), Mode: 0o640, Size: int64(len(seg)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := tw.Write(seg); err != nil {
				return err
			}
		}
		return nil
	})
}

// Dense returns a record whose fields are lists of one-byte integers,
// values in all: every byte of it a value, which takes 72 bytes decoded.
func Dense(values int) *codec.Record {
	r := &codec.Record{Boot: codec.BootID{1}, BootCount: 1, Name: "dense"}
	for n := 0; n < values; n += 1000 {
		list := make([]codec.Value, min(1000, values-n))
		for i := range list {
			list[i] = codec.Int(1)
		}
		r.Fields = append(r.Fields, codec.Field{Key: fmt.Sprint("f", n), Value: codec.List(list...)})
	}
	return r
}

// Wide returns a record of one string field of n bytes.
func Wide(n int) *codec.Record {
	return &codec.Record{Boot: codec.BootID{1}, BootCount: 1, Name: "wide", Fields: codec.Fields{{Key: "s", Value: codec.String(strings.Repeat("w", n))}}}
}

// RecordBundle writes a bundle of rings of one segment of copies of r, of
// about size bytes each; with packed, the rings are packed (records of
// more than pack.MaxRecord bytes cannot be).
func RecordBundle(path string, rings int, r *codec.Record, size int64, packed bool) error {
	b, err := r.MarshalMsg(nil)
	if err != nil {
		return err
	}
	data, err := os.MkdirTemp("", "hostile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	for s := 0; s < rings; s++ {
		name := fmt.Sprintf("s%d", s)
		w, err := ringlog.Open(filepath.Join(data, name), ringlog.Options{Stream: name, Codec: codec.Msgpack,
			Budget: 4*size + 16<<20, SegmentSize: size + 4<<20, Pack: packed})
		if err != nil {
			return err
		}
		r := *r
		for written := int64(0); written < size; written += int64(len(b)) {
			r.Mono++
			if _, err := w.Append(&r); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := bundle.Write(f, data, "hostile"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeTar(path string, members func(*tar.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	if err := members(tw); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// Check checks how a reader run on h ended: its peak resident memory
// within limit bytes, and h refused (exit status code, naming what went
// over the limit and --bundle-memory) or read, as h.Refused says.
func (h Bundle) Check(t testing.TB, r testbin.Result, limit int64, code int) {
	t.Helper()
	t.Logf("exit %d, peak RSS %.1f MiB", r.Code, float64(r.MaxRSS)/(1<<20))
	if r.MaxRSS > limit {
		t.Errorf("peak RSS %d bytes, over %d", r.MaxRSS, limit)
	}
	refused := strings.Contains(r.Stderr, "over the limits")
	if h.Refused != "" && (!refused || r.Code != code || !strings.Contains(r.Stderr, h.Refused) || !strings.Contains(r.Stderr, "--bundle-memory")) ||
		h.Refused == "" && refused {
		t.Errorf("exit %d, want %s refused (\"\": read) with exit %d\n%s", r.Code, h.Refused, code, r.Stderr)
	}
}
