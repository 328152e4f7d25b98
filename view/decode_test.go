package view

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// dense returns a record whose fields hold n one-byte values in all.
func dense(n int) *codec.Record {
	r := rec(1, 1, "dense")
	for left := n; left > 0; left -= 1000 {
		list := make([]codec.Value, min(left, 1000))
		for i := range list {
			list[i] = codec.Int(1)
		}
		r.Fields = append(r.Fields, codec.Field{Key: fmt.Sprint("f", left), Value: codec.List(list...)})
	}
	return r
}

// TestDecodeBound: a record of more than MaxValues values is not decoded,
// in either codec, and a slot that decoded a large record lets its memory
// go at the next.
func TestDecodeBound(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, tc := range []struct {
			values int
			err    error
		}{{10, nil}, {MaxValues - 100, nil}, {MaxValues + 100, ErrTooManyValues}, {200000, ErrTooManyValues}} {
			p, err := c.Append(nil, dense(tc.values))
			if err != nil {
				t.Fatal(err)
			}
			e := ringlog.Entry{Payload: p, Codec: c}
			var r codec.Record
			if err := Decode(&e, &r); !errors.Is(err, tc.err) {
				t.Errorf("%s, %d values: Decode: %v, want %v", c, tc.values, err, tc.err)
			}
			var s slot
			if err := s.decode(&e); !errors.Is(err, tc.err) || err == nil && s.values < tc.values {
				t.Errorf("%s, %d values: slot: %v, %d values, want %v", c, tc.values, err, s.values, tc.err)
			}
			small, _ := c.Append(nil, dense(3))
			s.decode(&ringlog.Entry{Payload: small, Codec: c})
			if kept := cap(s.rec.Fields); kept > keepValues {
				t.Errorf("%s, %d values: a slot keeps room for %d fields after a small record", c, tc.values, kept)
			}
		}
	}
}

// TestLeanMerge merges more rings than are read ahead: those read
// directly keep only the order of their next records, not the records,
// and the merge is in order all the same.
func TestLeanMerge(t *testing.T) {
	data := t.TempDir()
	var want []string
	for s := 0; s < maxFeeders+3; s++ {
		stream := fmt.Sprintf("s%d", s)
		var recs []*codec.Record
		for i := 0; i < 50; i++ {
			mono := i*(maxFeeders+3) + (s*3)%(maxFeeders+3) // no two alike
			recs = append(recs, rec(1, mono, fmt.Sprint(mono)))
			want = append(want, fmt.Sprintf("%08d %s", mono, stream))
		}
		writeRing(t, data, stream, codec.Msgpack, recs...)
	}
	sort.Strings(want)
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMerger(in.Sources, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var got []string
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind != KindRecord {
			continue
		}
		got = append(got, fmt.Sprintf("%08d %s", it.Rec.Mono/1e9, it.Source.Stream))
		for _, h := range m.ready {
			if h.feed == nil && h.rec != nil {
				t.Fatalf("%s holds its next record decoded", h.src.Stream)
			}
		}
	}
	if !m.lean || !reflect.DeepEqual(got, want) {
		t.Fatalf("lean %v, merged\n%q\nwant\n%q", m.lean, got, want)
	}
}

// TestFeederBigRecords reads ahead a ring of records larger than a
// feeder copies, across segments: each is the reader's own bytes until
// the merge is done with it, and comes out whole.
func TestFeederBigRecords(t *testing.T) {
	data := t.TempDir()
	var recs []*codec.Record
	for i := 0; i < 40; i++ {
		recs = append(recs, rec(1, i, "big", codec.Field{Key: "s", Value: codec.String(strings.Repeat(fmt.Sprint(i%10), bigRecord+i*1000))}))
	}
	writeRingOpts(t, data, ringlog.Options{Stream: "big", Codec: codec.Msgpack, Budget: 64 << 20, SegmentSize: 512 << 10}, recs...)
	in, err := Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMerger(in.Sources, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n := 0
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind == KindBoot {
			continue
		}
		if it.Kind != KindRecord {
			t.Fatalf("item %d: kind %d", n, it.Kind)
		}
		want := strings.Repeat(fmt.Sprint(n%10), bigRecord+n*1000)
		if s := it.Rec.Fields[0].Value.Str(); s != want {
			t.Fatalf("record %d: %d bytes of %q..., want %d of %q", n, len(s), s[:min(len(s), 3)], len(want), want[:3])
		}
		n++
	}
	segs, _ := filepath.Glob(filepath.Join(data, "big", "seg-*"))
	if n != len(recs) || len(segs) < 3 {
		t.Fatalf("%d records in %d segments, want %d in several", n, len(segs), len(recs))
	}
}
