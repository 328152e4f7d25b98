package view

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/jsonw"
)

// appendHealths writes rings as verify --json does.
func appendHealths(rings []*Health) []byte {
	b := jsonw.AppendArray(nil, rings, func(h **Health, b []byte) []byte { return (*h).AppendJSON(b) })
	return jsonw.Indent(nil, b, "", "  ")
}

// checkJSON fails unless rings are written as encoding/json's
// MarshalIndent writes them by their struct tags, and each ring as
// Marshal writes it.
func checkJSON(t *testing.T, rings []*Health) {
	t.Helper()
	want, err := json.MarshalIndent(rings, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if got := appendHealths(rings); string(got) != string(want) {
		t.Fatalf("got\n%s\nwant (encoding/json)\n%s", got, want)
	}
	for _, h := range rings {
		want, _ := json.Marshal(h)
		if got := h.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON\n%s\nwant (encoding/json)\n%s", got, want)
		}
	}
}

func TestHealthJSON(t *testing.T) {
	wall := func(sec int64, nsec int) codec.Time { return codec.Time{Time: time.Unix(sec, int64(nsec)).UTC()} }
	full := &Health{
		Stream: "metrics", Where: "/data/<ring> & \"x\"\n\u2028 \xff", Segments: 3, Bytes: math.MaxInt64, Records: -1,
		FirstSeq: 1, LastSeq: math.MaxUint64, First: wall(-62167219200-86400*366, 1), Last: wall(253402300800+5, 999999999),
		Span: "8759h59m59s", Rate: 3505.2631578947367, Boots: []uint32{1, 2, math.MaxUint32}, Retired: 7,
		Losses: Losses{Skipped: 1, Lost: 2, PossiblyLost: 3, Unsure: 4, Unread: 5},
		Gaps: []Gap{
			{From: 13, To: 13, Loss: LossLost, Lost: 1, Cause: CauseDamage},
			{From: 20, To: 29, Loss: LossPossible, Lost: 4, Cause: CauseRestart, Bound: "at most 4 <records>"},
		},
		Damage:  []Problem{{Kind: "torn-tail", Segment: "seg-0000000000000002.mpk", Offset: 4580, Length: -309, Detail: "torn write\t(crash)"}},
		Corrupt: 1, Unsupported: math.MinInt,
		Writes: []Writes{
			{Stream: "events", Runs: 2, Seconds: 180.5, First: wall(1, 2), Last: wall(3, 4), RecordBytes: 1, StoredBytes: math.MaxInt64,
				FramingBytes: -3, HandedBytes: 4, Syncs: 5, BytesPerDay: 1e22, Amplification: 2.125},
			{RecordBytes: 7, WriteBytes: 8, WriteKnown: true, WriteError: "open /proc/self/io: \"denied\"", KernelAmplification: 1e-7},
		},
	}
	for _, tc := range []struct {
		name  string
		rings []*Health
	}{
		{"none", nil},
		{"empty list", []*Health{}},
		{"zero", []*Health{{}}},
		{"empty lists", []*Health{{Boots: []uint32{}, Gaps: []Gap{}, Damage: []Problem{}}}},
		{"full", []*Health{full, {Stream: "events", Rate: 1e-7}, {Rate: 1e21}}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkJSON(t, tc.rings) })
	}
}

// FuzzHealthJSON: any ring's figures are written as encoding/json writes them.
func FuzzHealthJSON(f *testing.F) {
	f.Add("metrics", "a <b> & c", uint64(40), uint64(0x40ab6286bca1af28), int64(1764000000), uint32(7), true)
	f.Fuzz(func(t *testing.T, s, detail string, n, rateBits uint64, sec int64, nsec uint32, lists bool) {
		rate := math.Float64frombits(rateBits)
		if math.IsNaN(rate) || math.IsInf(rate, 0) {
			rate = 0 // encoding/json refuses them; Check never makes them
		}
		h := &Health{Stream: s, Where: detail + s, Segments: int(n), Bytes: int64(n), Records: int(^n), FirstSeq: n, LastSeq: ^n,
			First: codec.Time{Time: time.Unix(sec, int64(nsec%1e9)).UTC()}, Last: codec.Time{Time: time.Unix(^sec, 0).UTC()},
			Span: detail, Rate: rate, Retired: n >> 3, Losses: Losses{Skipped: n, Lost: n >> 1, PossiblyLost: n >> 2, Unsure: n >> 4, Unread: n >> 5},
			Corrupt: int(n >> 7), Unsupported: int(n >> 9)}
		if lists {
			h.Boots = []uint32{uint32(n), nsec}
			h.Gaps = []Gap{{From: n, To: ^n, Loss: Loss(s), Lost: n, Cause: detail, Bound: s}}
			h.Damage = []Problem{{Kind: s, Segment: detail, Offset: sec, Length: ^sec, Detail: detail + s}}
		}
		checkJSON(t, []*Health{h})
	})
}
