package salvage_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/salvage"
	"github.com/itiny/itiny/view"
)

// TestSalvage salvages rings with damaged frames and records that do not
// decode, in both codecs, into a new ring and as JSON lines: every record
// that reads is copied with its number, the rest are counted by kind, and
// the source is left as it was.
func TestSalvage(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, tc := range []struct {
			name         string
			bad, damaged []uint64
		}{
			{"intact", nil, nil},
			{"damaged", nil, []uint64{3, 4, 9}},
			{"undecodable", []uint64{5}, nil},
			{"both", []uint64{12}, []uint64{1, 20}},
		} {
			t.Run(c.String()+"/"+tc.name, func(t *testing.T) {
				src := ringtest.Spoiled(t, t.TempDir(), "events", c, 20, tc.bad, tc.damaged)
				before := snapshot(t, src)
				in, err := view.Open([]string{src})
				if err != nil {
					t.Fatal(err)
				}
				var want []uint64
				for i := uint64(1); i <= 20; i++ {
					if !slices.Contains(tc.bad, i) && !slices.Contains(tc.damaged, i) {
						want = append(want, i)
					}
				}
				wantRes := salvage.Result{Records: len(want), Damaged: ringtest.Runs(tc.damaged), Undecodable: len(tc.bad)}

				to := t.TempDir()
				res, err := salvage.ToRing(in.Sources[0], to)
				if err != nil || res != wantRes {
					t.Fatalf("ToRing: %+v, %v; want %+v", res, err, wantRes)
				}
				copied, err := view.Open([]string{filepath.Join(to, "events")})
				if err != nil {
					t.Fatal(err)
				}
				if got := seqs(t, copied.Sources[0]); !slices.Equal(got, want) {
					t.Errorf("new ring holds %v, want %v", got, want)
				}
				var js bytes.Buffer
				if res, err := salvage.ToJSON(in.Sources[0], &js); err != nil || res != wantRes {
					t.Fatalf("ToJSON: %+v, %v; want %+v", res, err, wantRes)
				}
				var n int
				for _, line := range bytes.Split(bytes.TrimSuffix(js.Bytes(), []byte("\n")), []byte("\n")) {
					var r codec.Record
					if err := codec.DecodeJSON(line, &r); err != nil {
						t.Fatalf("line %q: %v", line, err)
					}
					if n >= len(want) || r.Seq != want[n] {
						t.Fatalf("JSON line %d is record %d, want %v", n, r.Seq, want)
					}
					n++
				}
				if n != len(want) {
					t.Errorf("%d JSON lines, want %d", n, len(want))
				}
				if after := snapshot(t, src); !bytes.Equal(after, before) {
					t.Error("the source ring changed")
				}
			})
		}
	}
}

// seqs returns the numbers of the records a source holds.
func seqs(t *testing.T, src *view.Source) []uint64 {
	t.Helper()
	r, err := src.Reader()
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for {
		e, err := r.Next()
		if err != nil {
			return out
		}
		out = append(out, e.Seq)
	}
}

// snapshot returns the contents of every file under dir, in order.
func snapshot(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(append(all, f...), b...)
	}
	return all
}

func ExampleToJSON() {
	in, err := view.Open([]string{"../testdata/golden/v1-msgpack-damaged"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	res, err := salvage.ToJSON(in.Sources[0], &out)
	fmt.Printf("%+v %v\n", res, err)
	// Output: {Records:38 Damaged:2 Undecodable:0} <nil>
}

// TestSalvageManyGaps: a ring with thousands of gaps (numbers a writer
// skipped, at restarts say), each of which costs the copy a segment, is
// salvaged whole: the new ring holds every record the result counts, none
// deleted by retention to keep a budget sized by the records alone.
func TestSalvageManyGaps(t *testing.T) {
	const n = 1500
	dir := filepath.Join(t.TempDir(), "events")
	w, err := ringlog.Open(dir, ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 64 << 20, SegmentSize: 64 << 10, StageSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= n; i++ {
		r := ringtest.Record("events", 2*i) // 1, 3, 5... skipped
		r.Seq = 2 * i
		if err := w.AppendSeq(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	in, err := view.Open([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	to := t.TempDir()
	res, err := salvage.ToRing(in.Sources[0], to)
	if want := (salvage.Result{Records: n}); err != nil || res != want {
		t.Fatalf("ToRing: %+v, %v; want %+v", res, err, want)
	}
	copied, err := view.Open([]string{filepath.Join(to, "events")})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, copied.Sources[0]); len(got) != n || got[0] != 2 || got[n-1] != 2*n {
		t.Errorf("the new ring holds %d records (%d..%d); the salvage said it copied %d (2..%d)", len(got), got[0], got[len(got)-1], res.Records, 2*n)
	}
}
