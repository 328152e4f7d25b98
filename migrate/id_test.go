package migrate

import (
	"testing"
	"time"

	"github.com/itiny/itiny/codec"

	"github.com/itiny/itiny/view"
)

const testRing = "0123456789abcdef0123456789abcdef"

// TestParseID: IDs as setID writes them parse back, whatever dots the
// stream's name holds; anything else is refused.
func TestParseID(t *testing.T) {
	for _, m := range []Message{
		{Kind: KindRecord, Stream: "metrics", Seq: 1},
		{Kind: KindRecord, Stream: "a.b.c", Seq: 18446744073709551615},
		{Kind: KindRecord, Stream: "x.gap", Seq: 7},
		{Kind: KindGap, Stream: "events", Gap: view.Gap{From: 1, To: 99}},
		{Kind: KindGap, Stream: "x.gap", Gap: view.Gap{From: 5, To: 5}},
	} {
		m.setID("dev-42", testRing)
		id, ok := ParseID(m.ID)
		want := ID{Scope: "dev-42", Ring: testRing, Stream: m.Stream, Kind: m.Kind, Seq: m.Seq, From: m.Gap.From, To: m.Gap.To}
		if !ok || id != want {
			t.Errorf("ParseID(%q) = %+v %v, want %+v", m.ID, id, ok, want)
		}
	}
	for _, s := range []string{
		"",
		"dev-42",
		"dev-42." + testRing,
		"dev-42." + testRing + ".metrics",
		"dev-42." + testRing + ".metrics.",
		"dev-42." + testRing + ".metrics.5-9", // a range without .gap
		"dev-42." + testRing + ".metrics.gap.9-5",           // backwards
		"dev-42." + testRing + ".gap.1-2",                   // no stream
		"dev-42.0123456789abcdef0123456789abcdeg.metrics.1", // not hex
		"dev-42.0123456789abcdef.metrics.1",
		"." + testRing + ".metrics.1",
		"dev-42." + testRing + ".metrics.007", // not as written
		"dev-42." + testRing + ".metrics.0",   // numbers start at 1
		"dev-42." + testRing + ".metrics.gap.0-0",
		"dev-42.0123456789ABCDEF0123456789abcdef.metrics.1", // upper case
		"d v." + testRing + ".metrics.1",
		"dev-42." + testRing + ".METRICS.1",
	} {
		if id, ok := ParseID(s); ok {
			t.Errorf("ParseID(%q) = %+v, want refused", s, id)
		}
	}
	if st, ok := storedOf("dev-42."+testRing+".metrics.gap.3-4", func(k string) string { return map[string]string{HeaderGapCause: "damage"}[k] }, testRing); !ok || st.Kind != KindGap || st.Gap.From != 3 || st.Gap.To != 4 || st.Gap.Cause != "damage" {
		t.Errorf("storedOf marker: %+v %v", st, ok)
	}
	if _, ok := storedOf("dev-42."+testRing+".metrics.3", nil, "ffffffffffffffffffffffffffffffff"); ok {
		t.Error("storedOf took a message of another ring")
	}
}

// TestHeaderText: a time's string stays as it was while later ones are
// formatted, past the room reserved; boot strings follow the boot.
func TestHeaderText(t *testing.T) {
	var text HeaderText
	text.Reserve(2)
	base := time.Date(2026, 12, 2, 5, 0, 0, 123456789, time.UTC)
	var got []string
	for i := range 5 { // more than reserved: the buffer grows
		got = append(got, text.time(base.Add(time.Duration(i)*time.Second)))
		if i == 3 {
			text.Reserve(10)
		}
	}
	for i, s := range got {
		if want := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano); s != want {
			t.Errorf("time %d: %q, want %q", i, s, want)
		}
	}
	h := map[string]string{}
	add := func(k, v string) { h[k] = v }
	m := Message{Kind: KindRecord, Boot: 3, BootID: codec.BootID{1}, Wall: base}
	m.Headers(&text, add)
	if h[HeaderBoot] != "3" || h[HeaderBootID] != "01000000000000000000000000000000" {
		t.Fatalf("first boot: %v", h)
	}
	m.Boot, m.BootID = 4, codec.BootID{2}
	m.Headers(&text, add)
	if h[HeaderBoot] != "4" || h[HeaderBootID] != "02000000000000000000000000000000" {
		t.Fatalf("next boot: %v", h)
	}
}

// TestHeadersASCII: header values are ASCII whatever a record's name or a
// note's cause holds: a client's name cannot add a header line.
func TestHeadersASCII(t *testing.T) {
	var text HeaderText
	h := map[string]string{}
	add := func(k, v string) { h[k] = v }
	m := Message{Kind: KindRecord, Name: "ok\r\nItiny-Gap: 1-9 é"}
	m.Headers(&text, add)
	g := Message{Kind: KindGap, Gap: view.Gap{From: 1, To: 2, Cause: "x\ny"}}
	g.Headers(&text, add)
	if h[HeaderName] != "ok??Itiny-Gap: 1-9 ??" || h[HeaderGapCause] != "x?y" {
		t.Fatalf("name %q, cause %q", h[HeaderName], h[HeaderGapCause])
	}
	if m := (Message{Kind: KindRecord, Name: "cpu.usage"}); ascii(m.Name) != "cpu.usage" {
		t.Fatal("a plain name changed")
	}
}
