package view

import (
	"path/filepath"
	"testing"
)

func TestCheckGolden(t *testing.T) {
	for _, tc := range []struct {
		ring                                string
		records, corrupt, torn, unsupported int
		gaps                                []Gap
	}{
		{"v1-msgpack", 40, 0, 0, 0, nil},
		{"v1-json", 40, 0, 0, 0, nil},
		{"v1-msgpack-damaged", 38, 1, 1, 0, []Gap{{From: 13, To: 13, Loss: LossLost, Lost: 1, Cause: CauseDamage}}},
		{"v1-msgpack-packed", 36, 1, 0, 0, []Gap{{From: 5, To: 8, Loss: LossLost, Lost: 4, Cause: CauseDamage}}},
		{"v1-msgpack-packed-refs", 60, 0, 0, 0, nil},
		{"v1-msgpack-stage-only", 35, 0, 0, 0, nil}, // 5 of them in the stage only
		{"v1-json-stage-only", 35, 0, 0, 0, nil},
		{"v1-msgpack-bad-stage", 30, 1, 0, 0, nil}, // the stage's 5 are lost, and it says so
		// A newer itiny's segment (the newest) is not read, and is not
		// corruption.
		{"v1-msgpack-unknown-flag", 39, 0, 0, 1, nil},
		{"v1-json-future-version", 34, 0, 0, 1, []Gap{{From: 27, To: 52, Loss: LossUnread,
			Cause: "in a segment written by a newer itiny, which this reader cannot read"}}},
	} {
		in, err := Open([]string{filepath.Join("..", "testdata", "golden", tc.ring)})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Check(in.Sources[0])
		if err != nil {
			t.Fatal(err)
		}
		torn := 0
		for _, p := range rep.Damage {
			if p.Kind == "torn-tail" {
				torn++
			}
		}
		if rep.Records != tc.records || rep.Corrupt != tc.corrupt || torn != tc.torn || rep.Unsupported != tc.unsupported || len(rep.Gaps) != len(tc.gaps) {
			t.Fatalf("%s: %+v", tc.ring, rep)
		}
		for i, g := range tc.gaps {
			if rep.Gaps[i] != g {
				t.Fatalf("%s: gap %+v, want %+v", tc.ring, rep.Gaps[i], g)
			}
		}
		if rep.FirstSeq != 1 || rep.Retired != 0 || len(rep.Boots) != 1 || rep.Rate <= 0 {
			t.Fatalf("%s: figures %+v", tc.ring, rep)
		}
	}
}
