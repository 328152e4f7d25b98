package agent

import (
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// TestCompanionRecord: the one record a sender may put in the agent's own
// stream is the forwarder's status, from the agent's user or root (cmd/itiny-migrate's TestFollowAgentStatus sends it
// through the socket).
func TestCompanionRecord(t *testing.T) {
	a := &Agent{uid: 1000}
	status := func(fields ...codec.Field) *codec.Record {
		return &codec.Record{Name: catalog.ForwardStatus.Name, Source: "itiny-migrate", Fields: fields}
	}
	good := codec.Fields{{Key: "state", Value: codec.String("following")}, {Key: "store", Value: codec.String("jetstream nats://127.0.0.1:4222")},
		{Key: "behind", Value: codec.Uint(0)}, {Key: "behind_s", Value: codec.Float(0)}, {Key: "sent", Value: codec.Uint(12)}}
	for _, tc := range []struct {
		name string
		rec  *codec.Record
		uid  uint32
		want bool
	}{
		{"the agent's user", status(good...), 1000, true},
		{"root", status(good...), 0, true},
		{"another user", status(good...), 1001, false},
		{"another record", &codec.Record{Name: "stream.stats", Fields: good}, 1000, false},
	} {
		if got := a.companion(tc.rec, &peer{uid: tc.uid}); got != tc.want {
			t.Errorf("%s: companion = %v, want %v", tc.name, got, tc.want)
		}
	}
}
