package ringlog

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/itiny/itiny/codec"
)

// TestSnapshotLive snapshots a ring while a writer appends and rotates:
// every snapshot reads back without damage, its records are a run without
// holes that includes every record acknowledged before it began.
func TestSnapshotLive(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.Budget = 1 << 20
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	acked := make(chan uint64, 1<<16)
	defer func() {
		close(stop)
		for range acked {
		}
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	}()
	go func() {
		defer close(acked)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			seq, err := w.Append(testRecord(i))
			if err != nil {
				t.Error(err)
				return
			}
			if i%50 == 0 {
				time.Sleep(100 * time.Microsecond) // still far faster than an agent
			}
			select {
			case acked <- seq:
			default: // the reader is slow: drop the oldest news
				<-acked
				acked <- seq
			}
		}
	}()
	var last uint64
	for round := 0; round < 30; round++ {
	drain:
		for {
			select {
			case s := <-acked:
				last = s
			default:
				break drain
			}
		}
		files, err := Snapshot(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := fstest.MapFS{}
		for _, f := range files {
			m[f.Name] = &fstest.MapFile{Data: f.Data}
		}
		r, err := NewReaderFS(m, ".")
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for {
			e, err := r.Next()
			if err != nil {
				if _, ok := err.(*Damage); ok {
					t.Fatalf("round %d: %v", round, err)
				}
				break
			}
			seqs = append(seqs, e.Seq)
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				for _, f := range files {
					h, _ := parseHeader(f.Data)
					t.Logf("%s %d bytes first %d", f.Name, len(f.Data), h.First)
				}
				t.Fatalf("round %d: hole between %d and %d", round, seqs[i-1], seqs[i])
			}
		}
		if last > 0 && (len(seqs) == 0 || seqs[len(seqs)-1] < last) {
			t.Fatalf("round %d: snapshot ends before %d, acknowledged before it began", round, last)
		}
	}
}

// A write in progress at the end of the newest segment is cut off.
func TestSnapshotCutsWriteInProgress(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.StageSize = -1
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendN(t, w, 0, 5)
	seg := segmentPaths(t, dir)[0]
	st, _ := os.Stat(seg)
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{1, 2, 3, 4, 5, 6, 7}) // a frame's first bytes
	f.Close()
	files, err := Snapshot(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name == filepath.Base(seg) && int64(len(f.Data)) != st.Size() {
			t.Fatalf("newest segment copied with %d bytes, want %d", len(f.Data), st.Size())
		}
	}
}
