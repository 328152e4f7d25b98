package ringlog

import (
	"testing"

	"github.com/itiny/itiny/codec"
)

// TestReviewScanNewSegment: Scan on a Writer whose ring holds a segment
// the Writer made itself (a new ring's first, one after a rotation)
// fails: segRef.name is "" for those ("named by its number"), and Scan
// opens the ring's directory instead of the segment.
func TestReviewScanNewSegment(t *testing.T) {
	scan := func(w *Writer) (int, error) {
		n := 0
		err := w.Scan(nil, func(Entry) error { n++; return nil })
		return n, err
	}
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := scan(w); err != nil {
		t.Errorf("a new ring: %d records, %v", n, err)
	}
	appendN(t, w, 0, 300) // several segments
	w.Flush()
	// Retention keeps what the 64 KiB budget holds: what a Reader reads.
	want := len(readAll(t, dir).seqs)
	if n, err := scan(w); err != nil || n != want || want < 200 {
		t.Errorf("after 300 appends: %d records, %v; a Reader reads %d", n, err, want)
	}
	w.Close()
	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if n, err := scan(w); err != nil || n != want {
		t.Errorf("reopened after a clean close: %d records, %v; want %d", n, err, want)
	}
}
