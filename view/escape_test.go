package view

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
)

// TestMergeKeepsPayloads: a merge decodes JSON records with escaped
// strings (the agent's agent.config, a multi-line text) once or twice
// (lean: for the order, then to show), read ahead or not, following or
// not; every record decodes to what was written, and every entry's bytes
// stay as stored: migrate sends them on. codec.DecodeAlias unescapes in
// place, so a decode of the stored bytes themselves would see a raw
// newline the second time, and hand on bytes that are not the record.
func TestMergeKeepsPayloads(t *testing.T) {
	const text = "cap = 16MiB\nsocket = \"itiny.sock\"\n\tmax_record = 16KiB\n"
	for _, rings := range []int{1, maxFeeders + 3} {
		data := t.TempDir()
		for s := range rings {
			var recs []*codec.Record
			for i := range 20 {
				mono := i*rings + s
				recs = append(recs, rec(1, mono, fmt.Sprint("r", mono), codec.Field{Key: "text", Value: codec.String(text)}))
			}
			writeRing(t, data, fmt.Sprintf("s%d", s), codec.JSON, recs...)
		}
		stored := map[string][]byte{} // stream and seq: the bytes as stored
		for s := range rings {
			stream := fmt.Sprintf("s%d", s)
			for i, p := range ringtest.Payloads(t, filepath.Join(data, stream)) {
				stored[fmt.Sprint(stream, i+1)] = p
			}
		}
		for _, follow := range []bool{false, true} {
			m := merger(t, data, follow)
			n := 0
			for {
				it, err := m.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				switch it.Kind {
				case KindBadRecord:
					t.Fatalf("%d rings, follow %v: %s record %d: %v", rings, follow, it.Source.Stream, it.Entry.Seq, it.Err)
				case KindRecord:
					n++
					if f := it.Rec.Fields; len(f) != 1 || f[0].Key != "text" || f[0].Value.Str() != text {
						t.Errorf("%d rings, follow %v: %s record %d: fields %v, want text %q", rings, follow, it.Source.Stream, it.Entry.Seq, f, text)
					}
					if want := stored[fmt.Sprint(it.Source.Stream, it.Entry.Seq)]; !bytes.Equal(it.Entry.Payload, want) {
						t.Errorf("%d rings, follow %v: %s record %d: payload\n%s\nwant, as stored,\n%s", rings, follow, it.Source.Stream, it.Entry.Seq, it.Entry.Payload, want)
					}
				}
			}
			if n != 20*rings {
				t.Errorf("%d rings, follow %v: %d records, want %d", rings, follow, n, 20*rings)
			}
		}
	}
}
