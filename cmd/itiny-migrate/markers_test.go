package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/natstest"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/migrate"
	"github.com/itiny/itiny/view"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestUndecodedAfterDamage: a record that does not decode, right after a
// damaged one, is stored as it is; the marker for the damage comes before
// it and claims only the damaged record. The plan, the stored messages in
// their order and the verification agree.
func TestUndecodedAfterDamage(t *testing.T) {
	url := embedded(t, nil)
	data := t.TempDir()
	ringtest.Spoiled(t, data, "events", codec.Msgpack, 20, []uint64{12}, []uint64{11})
	r := migrateCmd(t, nil, "--to", url, "--scope", "dev1", "--checkpoint", filepath.Join(t.TempDir(), "ck"), "--json", data)
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	gap := view.Gap{From: 11, To: 11, Loss: view.LossLost, Lost: 1, Cause: view.CauseDamage}
	if p := rep.Plan[0]; len(rep.Plan) != 1 || p.Records != 19 || p.Undecode != 1 || p.First != 1 || p.Last != 20 || len(p.Gaps) != 1 || p.Gaps[0] != gap {
		t.Errorf("plan %+v, want 19 records, 1 undecodable, gaps [%+v]", rep.Plan, gap)
	}
	if v := rep.Verify; len(v) != 1 || !v[0].OK || v[0].Stored != 19 || v[0].Markers != 1 || v[0].StoredMarks != 1 {
		t.Errorf("verify %+v", v)
	}

	var want []string
	for i := 1; i <= 20; i++ {
		switch i {
		case 11:
			want = append(want, "gap.11-11 lost 1: damage")
		case 12:
			want = append(want, "12 undecoded: codec: bad msgpack record: invalid level 9")
		default:
			want = append(want, fmt.Sprint(i))
		}
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	var got []string
	for _, m := range natstest.Messages(t, js, "ITINY_EVENTS") {
		h := m.Header
		id := h.Get(jetstream.MsgIDHeader)
		s := id[strings.LastIndex(id, ".events.")+len(".events."):]
		switch {
		case h.Get(migrate.HeaderGap) != "":
			s += " " + h.Get(migrate.HeaderGapLoss) + " " + h.Get(migrate.HeaderGapLost) + ": " + h.Get(migrate.HeaderGapCause)
		case h.Get(migrate.HeaderBad) != "":
			s += " undecoded: " + h.Get(migrate.HeaderBad)
		}
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		t.Errorf("stored, in order:\n got %q\nwant %q", got, want)
	}
}
