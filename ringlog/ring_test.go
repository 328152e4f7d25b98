package ringlog

import (
	"testing"

	"github.com/itiny/itiny/codec"
)

func TestRoundTrip(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, stage := range []int{4 << 10, -1} {
			for _, sp := range []SyncPolicy{SyncNone, SyncInterval, SyncAlways} {
				dir := t.TempDir()
				o := testOptions(c)
				o.StageSize, o.Sync = stage, sp
				w, err := Open(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				seqs := appendN(t, w, 0, 300)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				res := readAll(t, dir)
				if len(res.damage) != 0 {
					t.Fatalf("%v stage=%d %v: damage %v", c, stage, sp, res.damage)
				}
				st := res.seqs
				if len(st) == 0 || st[len(st)-1] != seqs[len(seqs)-1] {
					t.Fatalf("%v stage=%d %v: read %d records, last %v; wrote up to %d", c, stage, sp, len(st), st[len(st)-1:], seqs[len(seqs)-1])
				}
				for i := 1; i < len(st); i++ {
					if st[i] != st[i-1]+1 {
						t.Fatalf("gap %d -> %d", st[i-1], st[i])
					}
				}
				t.Logf("%v stage=%d %v: %d of %d records retained", c, stage, sp, len(st), len(seqs))
			}
		}
	}
}
