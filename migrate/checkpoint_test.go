package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

func TestCheckpoint(t *testing.T) {
	dir := t.TempDir() // on disk: the rename and directory sync of Save, three times
	path := filepath.Join(dir, "ck")
	c, err := LoadCheckpoint(path)
	if err != nil || len(c.Streams) != 0 {
		t.Fatalf("missing file: %+v %v", c, err)
	}
	c.Scope, c.Sink = "dev1", "jetstream nats://127.0.0.1:4222"
	c.Streams["metrics"] = &StreamCheckpoint{Ring: "ab", Dest: "ITINY_METRICS@x", Done: 42, Pos: 7, Acked: 21, Updated: codec.Time{Time: time.Unix(1, 0).UTC()}}
	for range 3 {
		if err := c.Save(path); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LoadCheckpoint(path)
	if err != nil || *got.Streams["metrics"] != *c.Streams["metrics"] || got.Scope != "dev1" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// Replaced by renames: no temporary file is left beside it.
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the directory, want the checkpoint alone", len(ents))
	}
	for _, tc := range []struct{ content, want string }{
		{`{"version":1,"streams":`, "ck: unexpected end of JSON input (remove it to start over"},
		{`{"version":9}`, "version 9, want 1"},
	} {
		os.WriteFile(path, []byte(tc.content), 0o600)
		if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.content, err, tc.want)
		}
	}
}
