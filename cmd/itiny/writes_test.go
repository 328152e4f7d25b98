package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testbin"
)

// TestAgentWrites runs the agent with records coming in on its socket
// and stats every 200 ms, stops it, and reads what it said it wrote:
// every stream.stats and agent.io record has the catalogue's fields, the
// counters never go down within the run, what the segments got is no
// more than what the kernel was handed, a continuous stream hands the
// kernel each record (in the stage, then the segment), agent.io is the
// sum of its round's stream.stats, and the kernel's write_bytes is there
// when /proc/self/io can be read. itiny-read stats shows it a day's
// worth.
func TestAgentWrites(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(e2eConfig), 0o644)
	p := start(t, data, conf)
	defer p.stop()
	c, err := agent.Dial(p.sock)
	if err != nil {
		t.Fatal(err)
	}
	isIO := func(r codec.Record) bool { return r.Name == catalog.AgentIO.Name }
	for i := 0; ; i++ {
		if _, err := c.Send(&codec.Record{Source: "appd", Name: "tick", Level: codec.LevelInfo, Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}}}); err != nil {
			t.Fatal(err)
		}
		if i%100 != 99 {
			continue
		}
		// The periodic metrics stream flushes on SIGUSR1; stop once it
		// holds four rounds (stats every 200 ms), the last after 300 records.
		p.cmd.Process.Signal(syscall.SIGUSR1)
		time.Sleep(50 * time.Millisecond)
		if n := countFunc(readRing(t, filepath.Join(data, "metrics")), isIO); n >= 4 && i >= 300 {
			break
		}
		if i > 1_000_000 {
			t.Fatal("no four agent.io records")
		}
	}
	c.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logText())
	}

	_, procErr := os.ReadFile("/proc/self/io")
	var statfs syscall.Statfs_t
	onTmpfs := syscall.Statfs(data, &statfs) == nil && statfs.Type == 0x01021994 // pages there are never written back
	last := map[string]map[string]int64{}
	round := map[string]int64{}
	rounds, sawEvents := 0, false
	for _, r := range readRing(t, filepath.Join(data, "metrics")) {
		if r.Source != catalog.SelfSource || !(r.Name == catalog.StreamStats.Name || isIO(r)) {
			continue
		}
		c := catalog.Lookup(r.Name)
		if err := c.Check(catalog.StreamMetrics, &r); err != nil {
			t.Fatal(err)
		}
		v := map[string]int64{}
		for _, k := range []string{"record_bytes", "stored_bytes", "framing_bytes", "handed_bytes", "syncs", "other_syncs", "write_bytes"} {
			if f, i := c.Field(k); i >= 0 {
				v[k] = intOf(r.Fields[i].Value)
				if f.Kind != catalog.Counter {
					t.Fatalf("%s %s is a %v", r.Name, k, f.Kind)
				}
			}
		}
		stream := ""
		if !isIO(r) {
			stream = r.Fields[0].Value.Str()
		}
		for k, n := range v {
			if n < last[stream][k] {
				t.Errorf("%s %q: %s went from %d down to %d within a run", r.Name, stream, k, last[stream][k], n)
			}
		}
		last[stream] = v
		if v["stored_bytes"]+v["framing_bytes"] > v["handed_bytes"] {
			t.Errorf("%s %q: stored %d and framing %d bytes, more than the %d handed to the kernel", r.Name, stream, v["stored_bytes"], v["framing_bytes"], v["handed_bytes"])
		}
		if stream == "events" && v["record_bytes"] > 0 {
			sawEvents = true
			if v["record_bytes"] > v["handed_bytes"] || v["stored_bytes"] > v["record_bytes"] {
				t.Errorf("events: record %d, stored %d, handed %d bytes", v["record_bytes"], v["stored_bytes"], v["handed_bytes"])
			}
		}
		if !isIO(r) {
			for k, n := range v {
				round[k] += n
			}
			continue
		}
		rounds++
		for _, k := range []string{"record_bytes", "stored_bytes", "framing_bytes", "handed_bytes", "syncs", "other_syncs"} {
			if v[k] != round[k] {
				t.Errorf("agent.io %d: %s %d, its round's stream.stats sum to %d", rounds, k, v[k], round[k])
			}
		}
		round = map[string]int64{}
		why := r.Fields[len(r.Fields)-1].Value.Str()
		switch {
		case procErr != nil && why == "":
			t.Errorf("agent.io: /proc/self/io unreadable here (%v), and no write_error", procErr)
		case procErr == nil && why != "":
			t.Errorf("agent.io: write_error %q", why)
		}
	}
	if rounds < 4 || !sawEvents {
		t.Fatalf("%d agent.io records, events written %v", rounds, sawEvents)
	}
	if procErr == nil && !onTmpfs && last[""]["write_bytes"] == 0 {
		t.Errorf("write_bytes 0 after %d bytes handed to the kernel", last[""]["handed_bytes"])
	}

	reader, err := testbin.Build(t.TempDir(), "../itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(reader, "stats", data).Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("itiny-read stats:\n%s", out)
	for _, want := range []string{"Writes a day, by the agent's records in metrics", "\nevents   ", "\n(agent)  "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("itiny-read stats lacks %q", want)
		}
	}
}

func countFunc(rs []codec.Record, f func(codec.Record) bool) int {
	n := 0
	for _, r := range rs {
		if f(r) {
			n++
		}
	}
	return n
}

func intOf(v codec.Value) int64 {
	if v.Kind() == codec.KindUint {
		return int64(v.Uint())
	}
	return v.Int()
}
