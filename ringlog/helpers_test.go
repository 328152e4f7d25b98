package ringlog

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// testOptions returns small-ring options for tests.
func testOptions(c codec.Codec) Options {
	return Options{
		Stream:      "metrics",
		Codec:       c,
		SegmentSize: 8 << 10,
		StageSize:   4 << 10,
		Budget:      64 << 10,
		Boot:        codec.BootID{0xb0, 0x07},
		FlushEvery:  time.Hour, // tests flush explicitly
		Now:         func() (time.Time, int64) { return time.Unix(1764000000, 0), 1 },
	}
}

// testRecord returns a realistic metrics record numbered i.
func testRecord(i int) *codec.Record {
	return &codec.Record{
		Boot:      codec.BootID{0xb0, 0x07},
		BootCount: 1,
		Wall:      time.Unix(1764000000+int64(i), 0).UTC(),
		Mono:      int64(i) * 1e9,
		Source:    "sampler",
		Level:     codec.LevelInfo,
		Name:      "cpu",
		Fields: codec.Fields{
			{Key: "i", Value: codec.Int(int64(i))},
			{Key: "user", Value: codec.Float(12.5)},
			{Key: "system", Value: codec.Float(3.25)},
			{Key: "iowait", Value: codec.Float(0.5)},
			{Key: "ctxt", Value: codec.Uint(123456789)},
			{Key: "procs", Value: codec.Int(87)},
			{Key: "cpu", Value: codec.String("cpu0")},
		},
	}
}

// appendN appends records numbered from, from+1, ... and returns their
// sequence numbers.
func appendN(t testing.TB, w *Writer, from, n int) []uint64 {
	t.Helper()
	seqs := make([]uint64, 0, n)
	for i := from; i < from+n; i++ {
		seq, err := w.Append(testRecord(i))
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		seqs = append(seqs, seq)
	}
	return seqs
}

// readResult is everything a Reader returned until io.EOF.
type readResult struct {
	seqs   []uint64
	ids    []int64 // the "i" field of each record
	damage []*Damage
	notes  map[uint64]Resume // resume notes by number
}

func readAll(t testing.TB, dir string) readResult {
	t.Helper()
	r, err := NewReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	var res readResult
	var rec codec.Record
	for n := 0; ; n++ {
		if n > 1e7 {
			t.Fatal("reader does not end")
		}
		e, err := r.Next()
		if err == io.EOF {
			return res
		}
		var d *Damage
		if errors.As(err, &d) {
			res.damage = append(res.damage, d)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Decode(&rec); err != nil {
			t.Fatalf("decode seq %d: %v", e.Seq, err)
		}
		if rec.Seq != e.Seq {
			t.Fatalf("frame seq %d holds record seq %d", e.Seq, rec.Seq)
		}
		res.seqs = append(res.seqs, e.Seq)
		res.ids = append(res.ids, rec.Fields[0].Value.Int())
		if n, ok := ParseResume(&rec); ok {
			if res.notes == nil {
				res.notes = map[uint64]Resume{}
			}
			res.notes[e.Seq] = n
		}
	}
}

// crash abandons w as the death of its process would: no flush, no sync,
// no clean-close mark; the stage's mapped pages stay in the page cache.
func (w *Writer) crash() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait()
	w.st.unmap()
	w.st.f.Close()
	if w.seg.valid() {
		w.seg.close()
	}
	for _, s := range w.sealed {
		s.f.close()
	}
	w.d.close()
}

// diskUsage returns the bytes of the ring's files: by size rounded to
// blocks, and as allocated by the file system.
func diskUsage(t testing.TB, dir string, blk int64) (rounded, allocated int64) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, e.Name()), &st); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				continue // deleted by retention in the writer's flusher meanwhile
			}
			t.Fatal(err)
		}
		rounded += roundUp(st.Size, blk)
		allocated += st.Blocks * 512
	}
	return rounded, allocated
}

func segmentPaths(t testing.TB, dir string) []string {
	t.Helper()
	segs, err := listSegments(osDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var p []string
	for _, s := range segs {
		p = append(p, s.path)
	}
	return p
}

// reopenAppend opens the ring in dir, appends one record and closes it:
// what Open recovered, and the number the record got.
func reopenAppend(t *testing.T, dir string, o Options) (Recovery, uint64) {
	t.Helper()
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	rec := w.Recovery()
	seq, err := w.Append(testRecord(9999))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return rec, seq
}
