package agent

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/itiny/itiny/codec"
)

// recordingEmitter keeps what collectors emit, as JSON lines per stream.
type recordingEmitter struct {
	out   bytes.Buffer
	count int
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

func TestParseLoad(t *testing.T) {
	_, l, err := parseLoad(nil, []byte("0.20 0.18 0.12 1/80 11206\n"))
	if err != nil || l != (loadavg{0.20, 0.18, 0.12, 1, 80}) {
		t.Fatalf("got %+v, %v", l, err)
	}
	for _, bad := range []string{"", "0.2 0.1", "0.2 x 0.1 1/2 3", "0.2 0.1 0.1 12 3", "0.2 0.1 0.1 a/2 3"} {
		if _, _, err := parseLoad(nil, []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLoadCollector(t *testing.T) {
	c, err := newCollector("load", testCollectorConfig())
	if err != nil {
		t.Fatal(err)
	}
	var e recordingEmitter
	if err := c.Update(&e); err != nil {
		t.Fatal(err)
	}
	want := `{"seq":0,"stream":"metrics","boot":"00000000000000000000000000000000","bootn":0,"wall":"0001-01-01T00:00:00.000000000Z","mono":0,"src":"load","level":"info","name":"load","fields":{"load1":0.2,"load5":0.18,"load15":0.12,"running":1,"tasks":80}}` + "\n"
	if got := e.out.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	d := &discardEmitter{}
	if n := testing.AllocsPerRun(100, func() { c.Update(d) }); n != 0 {
		t.Errorf("%v allocations per Update", n)
	}
}

// TestCheckCollector: every collector checks its options in check mode
// without opening anything (no error with no procfs, sysfs or devfs to
// open, no descriptor left), and refuses a bad option as its factory does.
func TestCheckCollector(t *testing.T) {
	before := openFDs(t)
	for _, name := range collectorNames() {
		opts := map[string]string{}
		if name == "snapshot" {
			opts["file"] = "/nonexistent"
		}
		if err := checkCollector(name, opts); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		opts["colour"] = "red"
		if err := checkCollector(name, opts); err == nil || !strings.Contains(err.Error(), `unknown option "colour"`) {
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
