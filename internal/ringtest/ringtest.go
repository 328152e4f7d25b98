// Package ringtest writes damaged rings for the tests of their readers.
package ringtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// Wall is the wall time of record 0; record i is i seconds later.
var Wall = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// Record returns record i of stream, of boot 1.
func Record(stream string, i uint64) *codec.Record {
	return &codec.Record{Stream: stream, BootCount: 1, Boot: codec.BootID{1}, Wall: Wall.Add(time.Duration(i) * time.Second),
		Mono: int64(i) * 1e9, Source: "test", Level: codec.LevelInfo, Name: "r", Fields: codec.Fields{{Key: "i", Value: codec.Uint(i)}}}
}

// Spoiled writes records 1 to n of stream to a ring under data, in codec c
// and in one segment, and returns the ring's directory. The records
// numbered in bad break a rule of FORMAT.md section 4 (level 9): their
// frames check, and they do not decode. The frames numbered in damaged
// have a byte flipped afterwards: their checksums fail, and readers skip
// them as corruption.
func Spoiled(t testing.TB, data, stream string, c codec.Codec, n uint64, bad, damaged []uint64) string {
	t.Helper()
	dir := filepath.Join(data, stream)
	w, err := ringlog.Open(dir, ringlog.Options{Stream: stream, Codec: c, Budget: 1 << 20, SegmentSize: 256 << 10, StageSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= n; i++ {
		r := Record(stream, i)
		if slices.Contains(bad, i) {
			r.Level = 9
		}
		if _, err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := filepath.Glob(filepath.Join(dir, "seg-*"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("%s: segments %v, %v; want one", dir, segs, err)
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range damaged {
		b[payload(t, b, c, seq)+2] ^= 0xff
	}
	if err := os.WriteFile(segs[0], b, 0o640); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Runs counts the runs of consecutive numbers in seqs, sorted: Spoiled's
// damaged frames in a run are one range of damage to a reader.
func Runs(seqs []uint64) int {
	n := 0
	for i, s := range seqs {
		if i == 0 || s != seqs[i-1]+1 {
			n++
		}
	}
	return n
}

// payload returns the offset in segment b of the payload of the frame
// numbered seq (FORMAT.md section 3).
func payload(t testing.TB, b []byte, c codec.Codec, seq uint64) int {
	if c == codec.JSON {
		i := bytes.Index(b, []byte(`","seq":`+strconv.FormatUint(seq, 10)+`,`))
		if i < 0 {
			t.Fatalf("no frame %d", seq)
		}
		return i + 2
	}
	for off := 128; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+4:]) &^ (1 << 31))
		if binary.LittleEndian.Uint64(b[off+8:]) == seq {
			return off + 16
		}
		off += 16 + n
	}
	t.Fatalf("no frame %d", seq)
	return 0
}

// Kill closes w, the writer of the ring in dir, and leaves the ring as the
// writer's death would have: its files as they were before Close, without
// what Close writes.
func Kill(t testing.TB, w *ringlog.Writer, dir string) {
	t.Helper()
	dead := filepath.Join(t.TempDir(), filepath.Base(dir))
	if err := os.CopyFS(dead, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dead, dir); err != nil {
		t.Fatal(err)
	}
}

// Write appends recs to a new ring under data opened with o, in the
// directory named after its stream, and closes it.
func Write(t testing.TB, data string, o ringlog.Options, recs ...*codec.Record) {
	t.Helper()
	w, err := ringlog.Open(filepath.Join(data, o.Stream), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Payloads returns the payloads of the ring in dir, copied, in the order
// a ringlog.Reader reads them: the records' bytes as stored. It fails the
// test on damage.
func Payloads(t testing.TB, dir string) [][]byte {
	t.Helper()
	r, err := ringlog.NewReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ps [][]byte
	for {
		e, err := r.Next()
		if err == io.EOF {
			return ps
		}
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, bytes.Clone(e.Payload))
	}
}

// Records returns the records of the ring in dir, decoded, in the order a
// ringlog.Reader reads them, for a test that reads a live ring or one a
// writer SIGKILLed: damage (a frame being written, a torn tail, which
// costs only that write) is passed over; any other error fails the test.
func Records(t testing.TB, dir string) []codec.Record {
	t.Helper()
	r, err := ringlog.NewReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []codec.Record
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		var d *ringlog.Damage
		if errors.As(err, &d) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var rec codec.Record
		if err := e.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

// At returns a record of boot n (its ID n too) at monotonic second mono,
// written n hours and mono seconds after Wall.
func At(n uint32, mono int, name string, fields ...codec.Field) *codec.Record {
	return &codec.Record{
		Boot: codec.BootID{byte(n)}, BootCount: n,
		Wall: Wall.Add(time.Duration(n)*time.Hour + time.Duration(mono)*time.Second), Mono: int64(mono) * 1e9,
		Source: "test", Level: codec.LevelInfo, Name: name, Fields: fields,
	}
}

// Of returns At's record of the catalogue's record c: its name and
// source.
func Of(n uint32, mono int, c *catalog.Record, fields ...codec.Field) *codec.Record {
	r := At(n, mono, c.Name, fields...)
	r.Source = c.Source
	return r
}

// Pstore returns part of parts of a pstore entry of kind c
// (catalog.PstorePanic, PstoreOops) with that header, as the next boot's
// agent records it.
func Pstore(n uint32, mono int, c *catalog.Record, header string, part, parts uint64, text string) *codec.Record {
	return Of(n, mono, c, codec.Field{Key: "file", Value: codec.String("dmesg-ramoops-0")}, codec.Field{Key: "header", Value: codec.String(header)},
		codec.Field{Key: "part", Value: codec.Uint(part)}, codec.Field{Key: "parts", Value: codec.Uint(parts)},
		codec.Field{Key: "dropped", Value: codec.Int(0)}, codec.Field{Key: "text", Value: codec.String(text)})
}

// Watchdog returns a watchdog.bootstatus of those bits and flags.
func Watchdog(n uint32, mono int, bits uint64, flags string) *codec.Record {
	return Of(n, mono, &catalog.WatchdogBootStatus, codec.Field{Key: "watchdog", Value: codec.String("watchdog0")},
		codec.Field{Key: "identity", Value: codec.String("iTCO_wdt")}, codec.Field{Key: "bootstatus", Value: codec.Uint(bits)},
		codec.Field{Key: "flags", Value: codec.String(flags)}, codec.Field{Key: "timeout_s", Value: codec.Int(30)},
		codec.Field{Key: "state", Value: codec.String("active")}, codec.Field{Key: "reset_reason", Value: codec.String("")})
}

// ClockSync returns a clock.sync saying whether the clock is synchronised,
// with the kernel's errors as they then are, of a device never suspended.
func ClockSync(n uint32, mono int, synced bool) *codec.Record {
	maxerr, esterr := int64(16000000), int64(16000000)
	if synced {
		maxerr, esterr = 1500, 200
	}
	return Of(n, mono, &catalog.ClockSync, codec.Field{Key: "synced", Value: codec.Bool(synced)}, codec.Field{Key: "source", Value: codec.String("adjtimex")},
		codec.Field{Key: "maxerror_us", Value: codec.Int(maxerr)}, codec.Field{Key: "esterror_us", Value: codec.Int(esterr)},
		codec.Field{Key: "slept_s", Value: codec.Float(0)})
}
