package ringtest

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

// Bundles made to take a reader's memory (docs/DESIGN.md section 23). Each
// writes a .tar.gz at path.

// A Hostile is a bundle made to take a reader's memory.
type Hostile struct {
	Name, Path string
	// Refused is what the error of a reader refusing it at the default
	// --bundle-memory names; "" if it is read.
	Refused string
}

// HostileBundles writes the bundles made to take a reader's memory into
// dir: a megabyte of zeros compressed that is a gigabyte (refused, the
// first member over the limit named), two members of zeros that fit,
// twenty thousand rings, records of a million one-byte values (more than
// a reader decodes), records of 16,000 (fewer), and packed rings of
// 60 KB records (a packed reader keeps the last 32).
func HostileBundles(t testing.TB, dir string) []Hostile {
	t.Helper()
	hs := []Hostile{
		{Name: "zeros-16x64MiB", Refused: `"s1/seg-0000000000000001.mpk"`},
		{Name: "zeros-2x60MiB"},
		{Name: "rings-20000"},
		{Name: "dense-1M-values"},
		{Name: "dense-16k-values"},
		{Name: "packed-60KB-records"},
	}
	for i := range hs {
		hs[i].Path = filepath.Join(dir, hs[i].Name+".tar.gz")
	}
	ZerosBundle(t, hs[0].Path, 16, 64<<20)
	ZerosBundle(t, hs[1].Path, 2, 60<<20)
	ManyRingsBundle(t, hs[2].Path, 20000)
	DenseBundle(t, hs[3].Path, 2, 1<<20, 40<<20, false)
	DenseBundle(t, hs[4].Path, 5, 16000, 4<<20, false)
	DenseBundle(t, hs[5].Path, 12, 60000, 4<<20, true)
	return hs
}

// ZerosBundle writes n members s0/seg-0000000000000001.mpk ... of size
// zero bytes each, one ring each: a megabyte compressed for a gigabyte.
func ZerosBundle(t testing.TB, path string, n int, size int64) {
	t.Helper()
	writeTar(t, path, func(tw *tar.Writer) error {
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

// ManyRingsBundle writes n rings r00000/, r00001/... of one segment of 10
// small records each.
func ManyRingsBundle(t testing.TB, path string, n int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "metrics")
	w, err := ringlog.Open(dir, ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 10; i++ {
		if _, err := w.Append(Record("metrics", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	seg, err := os.ReadFile(filepath.Join(dir, "seg-0000000000000001.mpk"))
	if err != nil {
		t.Fatal(err)
	}
	writeTar(t, path, func(tw *tar.Writer) error {
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

// DenseBundle writes a bundle of rings of one segment of records, each of
// fields lists of one-byte integers, values in all, until the segment
// has about size bytes: a record's every byte a value, which takes 72
// bytes decoded. With packed, the rings are packed (records of more than
// pack.MaxRecord bytes cannot be).
func DenseBundle(t testing.TB, path string, rings, values int, size int64, packed bool) {
	t.Helper()
	per := min(values, 1000)
	list := make([]codec.Value, per)
	for i := range list {
		list[i] = codec.Int(1)
	}
	var fields codec.Fields
	for n := 0; n < values; n += per {
		fields = append(fields, codec.Field{Key: fmt.Sprint("f", n), Value: codec.List(list[:min(per, values-n)]...)})
	}
	data := t.TempDir()
	for s := 0; s < rings; s++ {
		name := fmt.Sprintf("s%d", s)
		w, err := ringlog.Open(filepath.Join(data, name), ringlog.Options{Stream: name, Codec: codec.Msgpack,
			Budget: 4*size + 16<<20, SegmentSize: size + 4<<20, Pack: packed})
		if err != nil {
			t.Fatal(err)
		}
		r := codec.Record{Boot: codec.BootID{1}, BootCount: 1, Name: "dense", Fields: fields}
		for written := int64(0); written < size; written += int64(values) {
			r.Mono++
			if _, err := w.Append(&r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := bundle.Write(f, data, "ringtest"); err != nil {
		t.Fatal(err)
	}
}

func writeTar(t testing.TB, path string, members func(*tar.Writer) error) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	if err := members(tw); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// Check checks how a reader run on h ended: its peak resident memory
// within limit bytes, and h refused (exit status code, naming what went
// over the limit and --bundle-memory) or read, as h.Refused says.
func (h Hostile) Check(t testing.TB, r testbin.Result, limit int64, code int) {
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
