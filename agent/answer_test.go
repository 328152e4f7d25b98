package agent

import "testing"

// TestAnswer: the socket answers a record of a periodic stream "ok <seq>
// buffered" and any other "ok <seq>", and the client reads both back.
func TestAnswer(t *testing.T) {
	a, err := New(testConfig(t, ""), Options{Log: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, tc := range []struct {
		stream string
		want   string
		ack    Ack
	}{
		{StreamMetrics, "ok 13 buffered", Ack{13, true}},
		{StreamEvents, "ok 13", Ack{13, false}},
		{StreamState, "ok 13", Ack{13, false}},
	} {
		got := string(a.appendOK(nil, 13, tc.stream))
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.stream, got, tc.want)
		}
		if ack, err := parseOK(got); err != nil || ack != tc.ack {
			t.Errorf("parseOK(%q) = %+v, %v", got, ack, err)
		}
	}
	for _, bad := range []string{"ok ", "ok x", "ok 13 maybe", "ok 13 buffered more", "ok -1"} {
		if ack, err := parseOK(bad); err == nil {
			t.Errorf("parseOK(%q) = %+v, want an error", bad, ack)
		}
	}
	if s := (Ack{7, true}).String() + "/" + (Ack{8, false}).String(); s != "7 buffered/8 stored" {
		t.Errorf("Ack.String: %s", s)
	}
}
