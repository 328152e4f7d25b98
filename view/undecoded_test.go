package view

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
)

// undecodedCases are rings of 20 records, some damaged (their frames fail
// their checksums) and some that do not decode (their frames check). A
// record that does not decode is read all the same: it is there, and is
// reported or sent as it is, so no gap covers its number and the gap
// before it comes before it. want is the merge's items, runs of records
// folded and damage without its place.
var undecodedCases = []struct {
	name         string
	bad, damaged []uint64
	want         []string
}{
	{"alone", []uint64{12}, nil, []string{
		"records 1-11", "bad 12", "records 13-20"}},
	{"after damage", []uint64{12}, []uint64{11}, []string{
		"records 1-10", "damage", "-- events: 1 record lost (11): damage --", "bad 12", "records 13-20"}},
	{"before damage", []uint64{11}, []uint64{12}, []string{
		"records 1-10", "bad 11", "damage", "-- events: 1 record lost (12): damage --", "records 13-20"}},
	{"between damage", []uint64{12}, []uint64{10, 11, 13}, []string{
		"records 1-9", "damage", "-- events: 2 records lost (10-11): damage --", "bad 12",
		"damage", "-- events: 1 record lost (13): damage --", "records 14-20"}},
	{"two after damage", []uint64{11, 12}, []uint64{10}, []string{
		"records 1-9", "damage", "-- events: 1 record lost (10): damage --", "bad 11", "bad 12", "records 13-20"}},
	{"first", []uint64{1}, nil, []string{
		"bad 1", "records 2-20"}},
	{"first after damage", []uint64{2}, []uint64{1}, []string{
		"damage", "-- events: 1 record lost (1): damage --", "bad 2", "records 3-20"}},
	{"last after damage", []uint64{20}, []uint64{19}, []string{
		"records 1-18", "damage", "-- events: 1 record lost (19): damage --", "bad 20"}},
}

// TestUndecodedRecordIsRead: the merge (itiny-read's text markers and
// JSON notes, itiny-migrate's markers), verify's and stats' pass (Check)
// and the boots' losses count a record that does not decode as read, in
// both codecs: the gap before it is explained before it and never covers
// it, and all agree.
func TestUndecodedRecordIsRead(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, tc := range undecodedCases {
			t.Run(c.String()+"/"+tc.name, func(t *testing.T) {
				dir := ringtest.Spoiled(t, t.TempDir(), "events", c, 20, tc.bad, tc.damaged)
				in, err := Open([]string{dir})
				if err != nil {
					t.Fatal(err)
				}
				var gaps []Gap
				for _, follow := range []bool{false, true} { // read ahead, or one record at a time
					var got []string
					got, gaps = mergeItems(t, in.Sources, follow)
					if !slices.Equal(got, tc.want) {
						t.Errorf("merge (follow %v):\n got %q\nwant %q", follow, got, tc.want)
					}
				}
				rep, err := Check(in.Sources[0])
				if err != nil {
					t.Fatal(err)
				}
				var lost uint64
				for _, g := range gaps {
					lost += g.Numbers()
				}
				records := 20 - len(tc.bad) - int(lost)
				first := uint64(1) // the first record there, whether it decodes or not
				for slices.Contains(tc.damaged, first) {
					first++
				}
				if fmt.Sprint(rep.Gaps) != fmt.Sprint(gaps) || rep.Lost != lost || rep.Skipped+rep.Unsure+rep.Unread != 0 ||
					rep.Records != records || rep.FirstSeq != first || rep.LastSeq != 20 || rep.Retired != 0 {
					t.Errorf("check: gaps %+v, %+v, records %d, seq %d-%d, retired %d; want gaps %+v, %d lost, %d records, seq %d-20",
						rep.Gaps, rep.Losses, rep.Records, rep.FirstSeq, rep.LastSeq, rep.Retired, gaps, lost, records, first)
				}
				boots, err := ListBoots(in.Sources)
				if err != nil || len(boots) != 1 || boots[0].Losses != rep.Losses || boots[0].Records != records {
					t.Errorf("boots: %+v, %v; want one, with %+v and %d records", boots, err, rep.Losses, records)
				}
				if rep.Corrupt != len(tc.bad)+ringtest.Runs(tc.damaged) {
					t.Errorf("check: %d corrupt, want %d: %+v", rep.Corrupt, len(tc.bad)+ringtest.Runs(tc.damaged), rep.Damage)
				}
			})
		}
	}
}

// mergeItems reads srcs merged, following or not, and returns the items,
// runs of records folded, and the gaps.
func mergeItems(t *testing.T, srcs []*Source, follow bool) ([]string, []Gap) {
	t.Helper()
	m, err := NewMerger(srcs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Follow = follow
	var out []string
	var gaps []Gap
	var from, to uint64 // a run of records
	fold := func() {
		if from != 0 {
			out = append(out, fmt.Sprintf("records %d-%d", from, to))
		}
		from = 0
	}
	for {
		it, err := m.Next()
		if errors.Is(err, io.EOF) {
			fold()
			return out, gaps
		}
		if err != nil {
			t.Fatal(err)
		}
		switch it.Kind {
		case KindBoot:
		case KindRecord:
			if from == 0 || it.Entry.Seq != to+1 {
				fold()
				from = it.Entry.Seq
			}
			to = it.Entry.Seq
		case KindDamage:
			fold()
			out = append(out, "damage")
		case KindBadRecord:
			fold()
			out = append(out, fmt.Sprintf("bad %d", it.Entry.Seq))
		case KindGap:
			fold()
			out = append(out, string(appendMarker(nil, &it, false)))
			gaps = append(gaps, it.Gap)
		}
	}
}
