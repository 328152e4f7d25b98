package migrate

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/view"
)

func planOf(t *testing.T, data string) *RingPlan {
	t.Helper()
	in, err := view.Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(in, "dev1")
	if err != nil {
		t.Fatal(err)
	}
	return p.Rings[0]
}

// TestPlanUndecodedRecord: a record that does not decode is sent as it
// is (Itiny-Undecoded), so no marker claims its number: the marker for
// damage before it covers the damaged numbers only and comes before it,
// and the messages' keys only grow.
func TestPlanUndecodedRecord(t *testing.T) {
	for _, tc := range []struct {
		name         string
		bad, damaged []uint64
		want         []string // the messages that are not plain records, in order
	}{
		{"alone", []uint64{12}, nil, []string{"undecoded 12"}},
		{"after damage", []uint64{12}, []uint64{11}, []string{"gap 11-11 lost 1: damage", "undecoded 12"}},
		{"before damage", []uint64{11}, []uint64{12}, []string{"undecoded 11", "gap 12-12 lost 1: damage"}},
		{"two after damage", []uint64{11, 12}, []uint64{9, 10}, []string{"gap 9-10 lost 2: damage", "undecoded 11", "undecoded 12"}},
		{"first after damage", []uint64{2}, []uint64{1}, []string{"gap 1-1 lost 1: damage", "undecoded 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			ringtest.Spoiled(t, data, "events", codec.Msgpack, 20, tc.bad, tc.damaged)
			r := planOf(t, data)
			var got []string
			var keys []uint64
			sent := map[uint64]string{} // number: the message that accounts for it
			err := r.walk("dev1", 0, func(m *Message) error {
				keys = append(keys, m.Key())
				switch {
				case m.Kind == KindGap:
					got = append(got, fmt.Sprintf("gap %d-%d %s %d: %s", m.Gap.From, m.Gap.To, m.Gap.Loss, m.Gap.Lost, m.Gap.Cause))
					for n := m.Gap.From; n <= m.Gap.To; n++ {
						if sent[n] != "" {
							t.Errorf("%s covers %d, sent as %s", m.ID, n, sent[n])
						}
						sent[n] = m.ID
					}
					return nil
				case m.Bad != "":
					got = append(got, fmt.Sprintf("undecoded %d", m.Seq))
				}
				if sent[m.Seq] != "" {
					t.Errorf("%s: %d already sent as %s", m.ID, m.Seq, sent[m.Seq])
				}
				sent[m.Seq] = m.ID
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("messages\n got %q\nwant %q", got, tc.want)
			}
			if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
				t.Errorf("keys go backwards or repeat: %v", keys)
			}
			if len(sent) != 20 {
				t.Errorf("%d of the numbers 1-20 accounted for: %v", len(sent), sent)
			}
			if r.Records != uint64(20-len(tc.damaged)) || r.Bad != uint64(len(tc.bad)) || r.Messages() != uint64(len(keys)) {
				t.Errorf("plan: %d records, %d undecoded, %d messages; walked %d", r.Records, r.Bad, r.Messages(), len(keys))
			}
		})
	}
}

// TestRetentionMarkerBoundsSkipped: numbers a writer skipped when it
// resumed after a crash went with the segments retention deleted, so the
// marker for the numbers below the oldest segment says at most that many
// records were lost, never exactly.
func TestRetentionMarkerBoundsSkipped(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "events")
	o := ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 48 << 10, SegmentSize: 8 << 10, MemoryStage: true, StageSize: 4 << 10,
		Boot: codec.BootID{1}, BootCount: 1}
	w, err := ringlog.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	appendN := func(from, to uint64) {
		for i := from; i <= to; i++ {
			if _, err := w.Append(ringtest.Record("events", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(1, 10)
	w.Flush()
	ringtest.Kill(t, w, dir)
	if w, err = ringlog.Open(dir, o); err != nil {
		t.Fatal(err)
	}
	jump := w.Recovery().SeqJump
	appendN(11, 2000)
	w.Close()

	r := planOf(t, data)
	written := uint64(10 + 1 + 1990) // with the resume note
	deleted := written - r.Records
	if jump == 0 || r.First-1 <= deleted {
		t.Fatalf("the test needs the skipped numbers deleted: %d skipped, numbers 1-%d below the oldest segment, %d records deleted", jump, r.First-1, deleted)
	}
	t.Logf("%d numbers skipped at the crash; 1-%d below the oldest segment, %d records deleted", jump, r.First-1, deleted)
	want := view.Gap{From: 1, To: r.First - 1, Loss: view.LossPossible, Lost: r.First - 1, Cause: CauseRetention, Bound: "the numbers below the oldest segment"}
	if len(r.Gaps) != 1 || r.Gaps[0] != want {
		t.Errorf("markers %+v, want %+v", r.Gaps, want)
	}
}
