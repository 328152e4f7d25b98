package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// procIO is /proc/self/io as Linux writes it.
const procIO = "rchar: 4190\nwchar: 2048\nsyscr: 12\nsyscw: 3\nread_bytes: 0\nwrite_bytes: 12288\ncancelled_write_bytes: 4096\n"

// TestSelfWriteBytes reads write_bytes from a procfs root, and says why
// when it cannot.
func TestSelfWriteBytes(t *testing.T) {
	for _, tc := range []struct {
		name, io string // io "" is no file
		want     uint64
		err      string
	}{
		{"linux", procIO, 12288, ""},
		{"no file", "", 0, "no such file"},
		{"no field", "rchar: 1\nwchar: 2\n", 0, "no write_bytes"},
		{"not a number", "write_bytes: many\n", 0, "write_bytes: strconv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proc := t.TempDir()
			if tc.io != "" {
				os.Mkdir(filepath.Join(proc, "self"), 0o755)
				if err := os.WriteFile(filepath.Join(proc, "self", "io"), []byte(tc.io), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := selfWriteBytes(proc)
			if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %d, %v; want %d, %q", got, err, tc.want, tc.err)
			}
		})
	}
}

// TestWriteStatsIO writes a stats round after some records: each
// stream.stats says what its ring wrote, and agent.io sums them, with
// the kernel's write_bytes when procfs has it and why not when not.
func TestWriteStatsIO(t *testing.T) {
	for _, withIO := range []bool{true, false} {
		cfg := testConfig(t, "")
		proc := t.TempDir()
		if withIO {
			os.Mkdir(filepath.Join(proc, "self"), 0o755)
			os.WriteFile(filepath.Join(proc, "self", "io"), []byte(procIO), 0o644)
		}
		a, err := New(cfg, Options{Log: discard{}, Proc: proc})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			r := codec.Record{Source: "appd", Name: "tick", Level: codec.LevelInfo, Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}}}
			if err := a.Emit(StreamEvents, &r); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Flush(); err != nil { // the staged records to the segments, where stored counts them
			t.Fatal(err)
		}
		a.writeStats()
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		var sum [6]int64
		keys := [6]string{"record_bytes", "stored_bytes", "framing_bytes", "handed_bytes", "syncs", "other_syncs"}
		var io *codec.Record
		recs := readStream(t, cfg.Data, StreamMetrics)
		for i := range recs {
			r := &recs[i]
			switch r.Name {
			case catalog.StreamStats.Name:
				for k, key := range keys {
					sum[k] += field(*r, key).Int()
				}
				if field(*r, "stream").Str() != StreamEvents {
					continue
				}
				rec, stored, framing, handed := field(*r, "record_bytes").Int(), field(*r, "stored_bytes").Int(), field(*r, "framing_bytes").Int(), field(*r, "handed_bytes").Int()
				if rec < 50*10 || stored != rec || framing < 50*16 || handed < stored+framing {
					t.Errorf("events: record %d, stored %d, framing %d, handed %d bytes after 50 records", rec, stored, framing, handed)
				}
			case catalog.AgentIO.Name:
				io = r
			}
		}
		if io == nil {
			t.Fatalf("no agent.io record in %v", names(recs))
		}
		for k, key := range keys {
			if got := field(*io, key).Int(); got != sum[k] {
				t.Errorf("agent.io %s %d, the streams' sum %d", key, got, sum[k])
			}
		}
		wb, why := field(*io, "write_bytes").Uint(), field(*io, "write_error").Str()
		if withIO && (wb != 12288 || why != "") || !withIO && (wb != 0 || !strings.Contains(why, "self/io")) {
			t.Errorf("procfs with io %v: write_bytes %d, write_error %q", withIO, wb, why)
		}
	}
}
