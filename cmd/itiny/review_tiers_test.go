package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/codec"
)

// TestReviewSenderWritesTier: a sender on the socket cannot make the
// agent roll up its samples, but it can write into the tier's ring
// itself: a record named as a collector's, in stream metrics.1m, is
// taken, stored beside the summaries, read as one by sar, and told to
// the Roller as "stored" at the next start (Roller.Stored).
func TestReviewSenderWritesTier(t *testing.T) {
	data := t.TempDir()
	if d := os.Getenv("REVIEW_KEEP"); d != "" {
		data = d
	}
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(`socket = itiny.sock
[stream metrics.1m]
budget = 256KiB
segment = 64KiB
mode = periodic
flush = 1s
`), 0o644)
	p := start(t, data, conf)
	c, err := agent.Dial(p.sock)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendAck(&codec.Record{Stream: "metrics.1m", Name: "load", Source: "intruder", Level: codec.LevelInfo,
		Fields: codec.Fields{{Key: "load1", Value: codec.Float(99)}, {Key: "samples", Value: codec.Int(100000)}}})
	c.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	if err != nil {
		t.Logf("refused: %v", err)
		return
	}
	for _, r := range readRing(t, filepath.Join(data, "metrics.1m")) {
		if r.Name == "load" && r.Source == "intruder" {
			t.Errorf("a sender's record in the tier's ring, as a summary of load: %v %v", r.Wall, r.Fields)
		}
	}
}
