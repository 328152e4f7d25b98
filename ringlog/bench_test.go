package ringlog

import (
	"testing"

	"github.com/itiny/itiny/codec"
)

// benchPolicies are the write paths: the mapped stage (survives SIGKILL),
// one write(2) per record (survives SIGKILL), and fdatasync per record
// (survives power loss).
var benchPolicies = []struct {
	name  string
	stage int
	sync  SyncPolicy
}{
	{"stage", 0, SyncNone},
	{"stage-interval", 0, SyncInterval},
	{"write", -1, SyncNone},
	{"always", 0, SyncAlways},
}

func benchOptions(c codec.Codec, stage int, sync SyncPolicy) Options {
	o := testOptions(c)
	o.Budget, o.SegmentSize, o.StageSize, o.Sync = 64<<20, 4<<20, stage, sync
	o.FlushEvery = 0 // the default: flush staged records every second
	return o
}

// BenchmarkAppend appends a 10-field metrics record: encoding, framing,
// checksum, and storing it by each policy, with retention running.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, p := range benchPolicies {
			b.Run(c.String()+"/"+p.name, func(b *testing.B) {
				w, err := Open(b.TempDir(), benchOptions(c, p.stage, p.sync))
				if err != nil {
					b.Fatal(err)
				}
				r := testRecord(0)
				enc, _ := c.Append(nil, r)
				b.SetBytes(int64(len(enc)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					r.Fields[0].Value = codec.Int(int64(i))
					if _, err := w.Append(r); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				w.Close()
			})
		}
	}
}

// TestAppendZeroAllocs: appending allocates nothing once the writer's
// buffer has grown, on every path (allocations are counted, not timed).
func TestAppendZeroAllocs(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, p := range benchPolicies[:3] {
			w, err := Open(t.TempDir(), benchOptions(c, p.stage, p.sync))
			if err != nil {
				t.Fatal(err)
			}
			r := testRecord(0)
			w.Append(r)
			if n := testing.AllocsPerRun(2000, func() { w.Append(r) }); n != 0 {
				t.Errorf("%v/%s: %v allocations per Append", c, p.name, n)
			}
			w.Close()
		}
	}
}
