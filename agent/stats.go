package agent

import (
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// writeStats writes the agent's own figures to the metrics stream (never
// to the itiny stream, whose records, starts and stops, they would
// evict): per stream, records written, dropped and rejected, errors,
// bytes on disk, segments, and the oldest record retention still keeps;
// per sender on the sockets (at most maxPeers), its connections and
// records accepted, rejected and dropped.
func (a *Agent) writeStats() {
	for _, sc := range a.cfg.Streams {
		s := a.streams[sc.Name]
		var st ringlog.Stats
		w := s.w.Load()
		if w != nil {
			st = w.Stats()
		}
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
			codec.Field{Key: "sync_max_ms", Value: codec.Float(float64(st.SyncMax) / 1e6)})
	}
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

func avgMs(total time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(total) / float64(n) / 1e6
}
