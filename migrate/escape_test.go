package migrate_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/migrate"
	"github.com/itiny/itiny/ringlog"
)

// TestJetStreamSendsStoredBytes: a JSON ring's records with escaped
// strings (the agent's agent.config, a multi-line text) reach the store as
// the ring holds them, byte for byte, and decode to what was written. The
// merge decodes each record to read it; decoding JSON in place, unescaping
// its strings, must not change the bytes sent.
func TestJetStreamSendsStoredBytes(t *testing.T) {
	const text = "cap = 16MiB\nsocket = \"itiny.sock\"\n\tmax_record = 16KiB\n"
	nc := startNATS(t)
	data := testdir.TempDir(t)
	const n = 20
	var recs []*codec.Record
	for i := uint64(1); i <= n; i++ {
		r := record("itiny", i)
		r.Fields = append(r.Fields, codec.Field{Key: "text", Value: codec.String(text)})
		recs = append(recs, r)
	}
	ringtest.Write(t, data, ringlog.Options{Stream: "itiny", Codec: codec.JSON, Budget: 1 << 20, SegmentSize: 64 << 10, StageSize: -1}, recs...)
	want := ringtest.Payloads(t, filepath.Join(data, "itiny"))

	p := plan(t, data)
	sink := newJS(t, nc, migrate.JetStreamOptions{})
	if _, err := migrate.Run(context.Background(), p, sink, migrate.Options{Checkpoint: filepath.Join(testdir.TempDir(t), "ck")}); err != nil {
		t.Fatal(err)
	}
	msgs := stored(t, nc, "ITINY_ITINY", "itiny.dev1.itiny")
	if len(msgs) != n || len(want) != n {
		t.Fatalf("%d messages, %d records in the ring, want %d", len(msgs), len(want), n)
	}
	for i, m := range msgs {
		if !bytes.Equal(m.Data(), want[i]) {
			t.Errorf("message %d:\n%s\nwant, as stored,\n%s", i, m.Data(), want[i])
		}
		var rec codec.Record
		if err := codec.JSON.Decode(m.Data(), &rec); err != nil {
			t.Errorf("message %d: %v", i, err)
		} else if v := rec.Fields[len(rec.Fields)-1].Value; v.Str() != text {
			t.Errorf("message %d: text %q, want %q", i, v.Str(), text)
		}
	}
}
