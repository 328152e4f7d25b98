package codec

import (
	"testing"
	"time"
)

// metricsRecord returns a realistic metrics sample of ten fields.
func metricsRecord() *Record {
	return &Record{
		Seq:       1234567,
		Stream:    "metrics",
		Boot:      bootA,
		BootCount: 17,
		Wall:      time.Date(2026, 5, 1, 12, 30, 45, 123456789, time.UTC),
		Mono:      987654321012,
		Source:    "sysstat",
		Level:     LevelInfo,
		Name:      "system",
		Fields: Fields{
			{"cpu.user", Float(12.5)},
			{"cpu.system", Float(3.25)},
			{"cpu.idle", Float(84.125)},
			{"load1", Float(0.42)},
			{"mem.used", Int(734003200)},
			{"mem.free", Int(1283457024)},
			{"disk.read", Int(52428800)},
			{"procs", Int(187)},
			{"iface", String("eth0")},
			{"state", String("running")},
		},
	}
}

func BenchmarkAppend(b *testing.B) {
	r := metricsRecord()
	for _, c := range codecs {
		b.Run(c.String(), func(b *testing.B) {
			buf, err := c.Append(nil, r)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = c.Append(buf[:0], r)
			}
		})
	}
}

// BenchmarkDecode decodes copying strings (Decode), as views of the
// input (DecodeAlias, 0 allocs/op), and so with containers in an arena
// (DecodeArena, as the agent's socket does; 0 allocs/op).
func BenchmarkDecode(b *testing.B) {
	arena := NewArena(4096)
	for _, c := range codecs {
		for _, way := range []string{"copy", "alias", "arena"} {
			name := c.String() + "/" + way
			decode := map[string]func([]byte, *Record) error{
				"copy":  c.Decode,
				"alias": c.DecodeAlias,
				"arena": func(p []byte, r *Record) error { return c.DecodeArena(p, r, arena) },
			}[way]
			b.Run(name, func(b *testing.B) {
				enc, err := c.Append(nil, metricsRecord())
				if err != nil {
					b.Fatal(err)
				}
				var r Record
				b.SetBytes(int64(len(enc)))
				b.ReportAllocs()
				for b.Loop() {
					if err := decode(enc, &r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func TestAppendZeroAllocs(t *testing.T) {
	r := metricsRecord()
	for _, c := range codecs {
		buf := make([]byte, 0, 4096)
		allocs := testing.AllocsPerRun(100, func() {
			var err error
			if buf, err = c.Append(buf[:0], r); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Append allocates %v times per record, want 0", c, allocs)
		}
		// The buffer was large enough, so Append must have used it.
		if cap(buf) != 4096 {
			t.Errorf("%s: Append replaced a buffer that had room", c)
		}
	}
	// The other value kinds do not allocate either.
	for _, tt := range roundTripRecords() {
		if tt.name == "every kind" {
			r = &tt.r
		}
	}
	if len(r.Fields) != 9 {
		t.Fatal("no record \"every kind\"")
	}
	for _, c := range codecs {
		buf := make([]byte, 0, 4096)
		if allocs := testing.AllocsPerRun(100, func() { buf, _ = c.Append(buf[:0], r) }); allocs != 0 {
			t.Errorf("%s: Append of every kind allocates %v times", c, allocs)
		}
	}
}
