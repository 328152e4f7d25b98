package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Messages returns every message stream name holds, in order, read with
// one ordered consumer: for the 43,500 messages of itiny-migrate's SIGKILL
// tests a request per message took 5-9 s, the consumer 1-2 s. Deleted
// messages are not among them; Sequence tells where each was.
func Messages(t testing.TB, js jetstream.JetStream, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	state := st.CachedInfo().State
	if state.Msgs == 0 {
		return nil
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("stream %s: consumer: %v", name, err)
	}
	out := make([]*jetstream.RawStreamMsg, 0, state.Msgs)
	for last := uint64(0); uint64(len(out)) < state.Msgs; {
		// No more than remain: a fetch for more waits out its timeout.
		batch, err := c.Fetch(int(min(1000, state.Msgs-uint64(len(out)))), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("stream %s: after sequence %d: %v", name, last, err)
		}
		n := len(out)
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				t.Fatalf("stream %s: after sequence %d: %v", name, last, err)
			}
			last = md.Sequence.Stream
			out = append(out, &jetstream.RawStreamMsg{Subject: m.Subject(), Sequence: last, Header: m.Headers(), Data: m.Data(), Time: md.Timestamp})
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("stream %s: after sequence %d: %v", name, last, err)
		}
		if len(out) == n {
			t.Fatalf("stream %s: nothing after sequence %d in 5 s; %d of %d messages read", name, last, n, state.Msgs)
		}
	}
	return out
}
