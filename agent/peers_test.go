package agent

import (
	"strings"
	"testing"
	"time"
)

// TestPeerTable: the table keeps a user while it has a connection or has
// sent within peerExpire, and forgets it after, once its counts are in a
// last round of stats; past maxPeers users, the rest
// share one entry; and a user that leaves drops nothing unreported.
func TestPeerTable(t *testing.T) {
	cfg := testConfig(t, "rate_limit = 5\n")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	advance := setClock(a)
	tbl := &a.peers
	held := tbl.connect(1000)
	gone := tbl.connect(1001)
	for i := 0; i < 6; i++ {
		tbl.take(gone) // the sixth is dropped, and reported at once
	}
	tbl.disconnect(gone)
	advance(peerExpire - time.Second)
	if ps, _ := tbl.sweep(false); len(ps) != 2 {
		t.Fatalf("%d peers before peerExpire, want 2", len(ps))
	}
	// At peerExpire, a last time in the stats, then forgotten.
	advance(time.Second)
	if ps, _ := tbl.sweep(false); len(ps) != 2 {
		t.Fatalf("%d peers at peerExpire, want 2: the one idle for it reported a last time", len(ps))
	}
	ps, _ := tbl.sweep(false)
	if len(ps) != 1 || ps[0].uid != 1000 {
		t.Fatalf("peers after peerExpire: %+v, want only uid 1000, which holds a connection", ps)
	}
	tbl.disconnect(held)
	for uid := uint32(0); uid < maxPeers+10; uid++ {
		tbl.peerOf(uid)
	}
	if p := tbl.peerOf(maxPeers + 5); p.name != "uid:other" || tbl.peerOf(3).name != "uid:3" {
		t.Errorf("past maxPeers: %s; within: %s", p.name, tbl.peerOf(3).name)
	}
	if ps, _ := tbl.sweep(false); len(ps) != maxPeers+1 {
		t.Errorf("%d entries, want %d and the shared one", len(ps), maxPeers)
	}
	a.Close()
	var reported int64
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name == "ingest.dropped" && field(r, "peer").Str() == "uid:1001" {
			reported += field(r, "dropped").Int()
		}
	}
	if reported != 1 {
		t.Errorf("uid 1001's drop reported %d times, want once", reported)
	}
}

// TestStatsLeaveSelfStream: however many stats rounds and peers, the
// itiny stream holds the agent's starts and stops only: stats go to the
// metrics stream, so they cannot evict the itiny stream's records.
func TestStatsLeaveSelfStream(t *testing.T) {
	cfg := testConfig(t, "[stream itiny]\nbudget = 64KiB\nsegment = 8KiB\n")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for uid := uint32(0); uid < maxPeers+10; uid++ {
		a.peers.connect(uid)
	}
	for i := 0; i < 200; i++ { // some 3 MB of records: 40 times the itiny budget
		a.writeStats()
	}
	a.Close()
	if got := strings.Join(names(readStream(t, cfg.Data, StreamSelf)), " "); got != "agent.start agent.config clock.sync agent.stop" {
		t.Errorf("itiny stream: %v, want agent.start agent.config clock.sync agent.stop", got)
	}
	n := 0
	for _, r := range readStream(t, cfg.Data, StreamMetrics) {
		if r.Name == "ingest.peer" {
			n++
		}
	}
	if n != 200*(maxPeers+1) {
		t.Errorf("%d ingest.peer records in metrics, want %d", n, 200*(maxPeers+1))
	}
}
