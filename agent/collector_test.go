package agent

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// recordingEmitter keeps what collectors emit, as JSON lines per stream.
type recordingEmitter struct {
	out   bytes.Buffer
	count int
	// The sample's times, for EmitAt: records of their own time are
	// stamped by their offset from these, as the agent does.
	wall time.Time
	mono int64
}

func (e *recordingEmitter) EmitAt(stream string, r *codec.Record, mono int64) error {
	stampAt(r, e.wall, e.mono, mono)
	return e.Emit(stream, r)
}

func (e *recordingEmitter) Emit(stream string, r *codec.Record) error {
	r.Stream = stream
	b, err := codec.AppendJSON(nil, r)
	if err != nil {
		return err
	}
	e.out.Write(append(b, '\n'))
	e.count++
	return nil
}

// discardEmitter encodes and drops, as cheaply as a ring would encode.
type discardEmitter struct{ buf []byte }

func (e *discardEmitter) Emit(stream string, r *codec.Record) error {
	var err error
	e.buf, err = codec.Msgpack.Append(e.buf[:0], r)
	return err
}

func testCollectorConfig() CollectorConfig {
	return CollectorConfig{Proc: "testdata/proc", Sys: "testdata/sys", Dev: "testdata/dev"}
}

// TestCheckCollector: every collector checks its options in check mode
// without opening anything (no error with no procfs, sysfs or devfs to
// open, no descriptor left), and refuses a bad option as its factory does.
func TestCheckCollector(t *testing.T) {
	def, err := LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	for _, name := range collectorNames() {
		opts := map[string]string{}
		if name == "snapshot" {
			opts["file"] = "/nonexistent"
		}
		if err := checkCollector(name, opts, def.Streams); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		opts["colour"] = "red"
		if err := checkCollector(name, opts, def.Streams); err == nil || !strings.Contains(err.Error(), `unknown option "colour"`) {
			t.Errorf("%s with colour = red: %v", name, err)
		}
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d descriptors open after the checks, %d before", after, before)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
