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
		a.note(StreamMetrics, catalog.StreamStats.Name, codec.LevelInfo,
			codec.Field{Key: "stream", Value: codec.String(sc.Name)},
			codec.Field{Key: "available", Value: codec.Bool(w != nil)},
			codec.Field{Key: "written", Value: codec.Uint(s.written.Load())},
			codec.Field{Key: "rejected", Value: codec.Uint(s.rejected.Load())},
			codec.Field{Key: "errors", Value: codec.Uint(s.errors.Load())},
			codec.Field{Key: "bytes", Value: codec.Int(st.Bytes)},
			codec.Field{Key: "segments", Value: codec.Int(int64(st.Segments))},
			codec.Field{Key: "oldest_seq", Value: codec.Uint(st.Oldest)},
			codec.Field{Key: "next_seq", Value: codec.Uint(st.Next)},
			codec.Field{Key: "oldest_wall", Value: codec.String(st.OldestWall.UTC().Format(time.RFC3339))},
			codec.Field{Key: "deleted_segments", Value: codec.Uint(st.Deleted)},
			codec.Field{Key: "syncs", Value: codec.Int(st.Syncs)},
			codec.Field{Key: "sync_avg_ms", Value: codec.Float(avgMs(st.SyncTotal, st.Syncs))},
			codec.Field{Key: "sync_max_ms", Value: codec.Float(float64(st.SyncMax) / 1e6)},
			codec.Field{Key: "other_syncs", Value: codec.Int(st.OtherSyncs)},
			codec.Field{Key: "record_bytes", Value: codec.Int(st.RecordBytes)},
			codec.Field{Key: "stored_bytes", Value: codec.Int(st.StoredBytes)},
			codec.Field{Key: "framing_bytes", Value: codec.Int(st.FramingBytes)},
			codec.Field{Key: "handed_bytes", Value: codec.Int(st.HandedBytes)},
			codec.Field{Key: "seg_writes", Value: codec.Int(st.SegWrites)},
			codec.Field{Key: "flush_s", Value: codec.Float(s.flushEvery().Seconds())})
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
	a.note(StreamMetrics, catalog.AgentIO.Name, codec.LevelInfo,
		codec.Field{Key: "record_bytes", Value: codec.Int(sum.RecordBytes)},
		codec.Field{Key: "stored_bytes", Value: codec.Int(sum.StoredBytes)},
		codec.Field{Key: "framing_bytes", Value: codec.Int(sum.FramingBytes)},
		codec.Field{Key: "handed_bytes", Value: codec.Int(sum.HandedBytes)},
		codec.Field{Key: "syncs", Value: codec.Int(sum.Syncs)},
		codec.Field{Key: "other_syncs", Value: codec.Int(sum.OtherSyncs)},
		codec.Field{Key: "write_bytes", Value: codec.Uint(wb)},
		codec.Field{Key: "write_error", Value: codec.String(why)})
	peers, reps := a.peers.sweep(false)
	for _, r := range reps {
		a.reportDrops(r)
	}
	for _, p := range peers {
		a.note(StreamMetrics, catalog.IngestPeer.Name, codec.LevelInfo,
			codec.Field{Key: "peer", Value: codec.String(p.name)},
			codec.Field{Key: "conns", Value: codec.Int(int64(p.conns))},
			codec.Field{Key: "accepted", Value: codec.Uint(p.accepted)},
			codec.Field{Key: "rejected", Value: codec.Uint(p.rejected)},
			codec.Field{Key: "dropped", Value: codec.Uint(p.dropped)})
	}
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
