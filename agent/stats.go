package agent

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/ringlog"
)

// writeStats writes the agent's own figures to the metrics stream (never
// to the itiny stream, whose records, starts and stops, they would
// evict): per stream, records written, dropped and rejected, errors,
// bytes on disk, segments, the oldest record retention still keeps, and
// what its ring wrote; the agent's writes in total (agent.io); per sender
// on the sockets (at most maxPeers), its connections and records
// accepted, rejected and dropped.
func (a *Agent) writeStats() {
	var sum ringlog.Stats
	for _, sc := range a.cfg.Streams {
		s := a.streams[sc.Name]
		var st ringlog.Stats
		w := s.w.Load()
		if w != nil {
			st = w.Stats()
		}
		a.checkBudget(s, w, st, clock.Mono())
		wall := st.OldestWall.UTC().Format(time.RFC3339)
		flush := s.flushEvery().Seconds()
		f := a.selfFields()
		addString(f, "stream", sc.Name)
		addBool(f, "available", w != nil)
		addUint(f, "written", s.written.Load())
		addUint(f, "rejected", s.rejected.Load())
		addUint(f, "errors", s.errors.Load())
		addInt(f, "bytes", st.Bytes)
		addInt(f, "segments", int64(st.Segments))
		addUint(f, "oldest_seq", st.Oldest)
		addUint(f, "next_seq", st.Next)
		addString(f, "oldest_wall", wall)
		addUint(f, "deleted_segments", st.Deleted)
		addInt(f, "syncs", st.Syncs)
		addFloat(f, "sync_avg_ms", avgMs(st.SyncTotal, st.Syncs))
		addFloat(f, "sync_max_ms", float64(st.SyncMax)/1e6)
		addInt(f, "other_syncs", st.OtherSyncs)
		addWritten(f, &st)
		addInt(f, "seg_writes", st.SegWrites)
		addFloat(f, "flush_s", flush)
		a.noteFields(StreamMetrics, catalog.StreamStats.Name, codec.LevelInfo)
		sum.RecordBytes += st.RecordBytes
		sum.StoredBytes += st.StoredBytes
		sum.FramingBytes += st.FramingBytes
		sum.HandedBytes += st.HandedBytes
		sum.Syncs += st.Syncs
		sum.OtherSyncs += st.OtherSyncs
	}
	// Once a round, never per record: one open and read of a small file.
	wb, err := selfWriteBytes(a.opts.Proc)
	why := ""
	if err != nil {
		why = err.Error()
	}
	f := a.selfFields()
	addWritten(f, &sum)
	addInt(f, "syncs", sum.Syncs)
	addInt(f, "other_syncs", sum.OtherSyncs)
	addUint(f, "write_bytes", wb)
	addString(f, "write_error", why)
	a.noteFields(StreamMetrics, catalog.AgentIO.Name, codec.LevelInfo)
	peers, reps := a.peers.sweep(false)
	for _, r := range reps {
		a.reportDrops(r)
	}
	for _, p := range peers {
		f := a.selfFields()
		addString(f, "peer", p.name)
		addInt(f, "conns", int64(p.conns))
		addUint(f, "accepted", p.accepted)
		addUint(f, "rejected", p.rejected)
		addUint(f, "dropped", p.dropped)
		a.noteFields(StreamMetrics, catalog.IngestPeer.Name, codec.LevelInfo)
	}
}

// addWritten adds what a ring wrote, or the rings in sum (section 30 of
// docs/DESIGN.md), to the fields of stream.stats or agent.io.
func addWritten(f *codec.Fields, st *ringlog.Stats) {
	addInt(f, "record_bytes", st.RecordBytes)
	addInt(f, "stored_bytes", st.StoredBytes)
	addInt(f, "framing_bytes", st.FramingBytes)
	addInt(f, "handed_bytes", st.HandedBytes)
}

// selfWriteBytes returns write_bytes of the agent's /proc/self/io, under
// procfs root proc.
func selfWriteBytes(proc string) (uint64, error) {
	path := filepath.Join(proc, "self", "io")
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for rest := b; len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if v, ok := bytes.CutPrefix(line, []byte("write_bytes:")); ok {
			for len(v) > 0 && v[0] == ' ' {
				v = v[1:]
			}
			n, err := strconv.ParseUint(string(v), 10, 64)
			if err != nil {
				return 0, errors.New(path + ": write_bytes: " + err.Error())
			}
			return n, nil
		}
	}
	return 0, errors.New(path + ": no write_bytes")
}

func avgMs(total time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(total) / float64(n) / 1e6
}
