package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
)

// TestAnyWallYear: a device clock set to year 12000 or -5 disables no
// output. verify and stats print valid JSON and exit 0, and -o json prints
// every record, with its wall time in the extended form FORMAT.md 4.2
// gives, which the JSON decoder reads back.
func TestAnyWallYear(t *testing.T) {
	walls := []struct {
		t    time.Time
		text string
	}{
		{time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), "+12000-01-01T00:00:00.000000000Z"},
		{time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), "2026-11-25T10:00:00.000000000Z"},
		{time.Date(-5, 3, 1, 0, 0, 0, 5, time.UTC), "-0005-03-01T00:00:00.000000005Z"},
	}
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		t.Run(c.String(), func(t *testing.T) {
			data := t.TempDir()
			w, err := ringlog.Open(filepath.Join(data, "events"), ringlog.Options{Stream: "events", Codec: c, Budget: 1 << 20, SegmentSize: 8 << 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, wl := range walls {
				r := codec.Record{Stream: "events", BootCount: 1, Wall: wl.t, Level: codec.LevelInfo, Name: "clock"}
				if _, err := w.Append(&r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			for _, cmd := range []string{"verify", "stats"} {
				out, errOut, code := run(t, cmd, "--json", data)
				var reps []struct {
					Records   int    `json:"records"`
					FirstWall string `json:"first_wall"`
					LastWall  string `json:"last_wall"`
				}
				if err := json.Unmarshal([]byte(out), &reps); err != nil || code != 0 {
					t.Fatalf("%s --json: exit %d, %v\n%s\nstderr: %s", cmd, code, err, out, errOut)
				}
				if len(reps) != 1 || reps[0].Records != 3 || reps[0].FirstWall != walls[0].text || reps[0].LastWall != walls[2].text {
					t.Errorf("%s --json: %+v", cmd, reps)
				}
			}

			out, errOut, code := run(t, "-o", "json", data)
			got := lines(out)
			if code != 0 || len(got) != len(walls) {
				t.Fatalf("-o json: exit %d, %d lines, want %d\n%s\nstderr: %s", code, len(got), len(walls), out, errOut)
			}
			for i, l := range got {
				var r codec.Record
				if err := codec.JSON.Decode([]byte(l), &r); err != nil || !r.Wall.Equal(walls[i].t) {
					t.Errorf("-o json line %d: wall %v, %v; want %v\n%s", i, r.Wall, err, walls[i].t, l)
				}
				if !strings.Contains(l, `"wall":"`+walls[i].text+`"`) {
					t.Errorf("-o json line %d: %s, want wall %s", i, l, walls[i].text)
				}
			}
			if out, errOut, code := run(t, "--utc", data); code != 0 || len(lines(out)) != 1+len(walls) {
				t.Errorf("text: exit %d\n%s\nstderr: %s", code, out, errOut)
			}
		})
	}
}

// TestBadRecordNotPrinted: a record that breaks a rule of FORMAT.md 4 is
// reported as a bad record, never printed, by -o json in both codecs: every
// line it prints is one its own JSON decoder reads. ringlog's writer
// stores what it is given, as a writer in another language might.
func TestBadRecordNotPrinted(t *testing.T) {
	bad := []struct {
		name string
		set  func(*codec.Record)
		why  string
	}{
		{"level 9", func(r *codec.Record) { r.Level = 9 }, "invalid level 9"},
		{"$ key", func(r *codec.Record) { r.Fields = codec.Fields{{Key: "$k", Value: codec.Int(1)}} }, "reserved"},
		{"duplicate key", func(r *codec.Record) {
			r.Fields = codec.Fields{{Key: "a", Value: codec.Int(1)}, {Key: "a", Value: codec.Int(2)}}
		}, `duplicate key "a"`},
	}
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, b := range bad {
			t.Run(c.String()+"/"+b.name, func(t *testing.T) {
				data := t.TempDir()
				w, err := ringlog.Open(filepath.Join(data, "events"), ringlog.Options{Stream: "events", Codec: c, Budget: 1 << 20, SegmentSize: 8 << 10})
				if err != nil {
					t.Fatal(err)
				}
				for i := range 3 {
					r := codec.Record{Stream: "events", BootCount: 1, Wall: t0, Level: codec.LevelInfo, Name: "r" + string(rune('0'+i))}
					if i == 1 {
						b.set(&r)
						if r.Validate() == nil {
							t.Fatal("the bad record passes Validate")
						}
					}
					if _, err := w.Append(&r); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}

				out, errOut, code := run(t, "-o", "json", data)
				got := lines(out)
				if code != 0 || len(got) != 2 {
					t.Fatalf("-o json: exit %d, %d lines, want 2\n%s\nstderr: %s", code, len(got), out, errOut)
				}
				for _, l := range got {
					var r codec.Record
					if err := codec.JSON.Decode([]byte(l), &r); err != nil || r.Name == "r1" {
						t.Errorf("-o json printed %s (%v)", l, err)
					}
				}
				if !strings.Contains(errOut, "record 2 does not decode") || !strings.Contains(errOut, b.why) {
					t.Errorf("-o json: stderr %q, want record 2 reported as bad, naming %q", errOut, b.why)
				}
				out, _, code = run(t, "verify", data)
				if code != 1 || !strings.Contains(out, "bad-record") || !strings.Contains(out, b.why) {
					t.Errorf("verify: exit %d\n%s", code, out)
				}
			})
		}
	}
}

// TestUndecodedAfterDamage: a record that does not decode, right after a
// damaged one, is no lost record. The text view and -o json's notes give
// the damage, the one record lost and the undecodable record, in that
// order, before the next record; verify, stats and boots count one record
// lost, in both codecs.
func TestUndecodedAfterDamage(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		t.Run(c.String(), func(t *testing.T) {
			data := t.TempDir()
			ringtest.Spoiled(t, data, "events", c, 20, []uint64{12}, []uint64{11})
			marks := []string{
				"-- events: damage: ",
				"-- events: 1 record lost (11): damage --",
				"-- events: record 12 does not decode: codec: bad " + c.String() + " record: invalid level 9 --",
			}

			out, errOut, code := run(t, "--utc", "--color", "never", data)
			got := lines(out) // the boot, records 1-10, the marks, records 13-20
			if code != 0 || len(got) != 1+18+len(marks) {
				t.Fatalf("text: exit %d, %d lines, want %d\n%s\nstderr: %s", code, len(got), 1+18+len(marks), out, errOut)
			}
			if !strings.HasSuffix(got[10], " r i=10") || !strings.HasSuffix(got[11+len(marks)], " r i=13") || !marksAre(got[11:11+len(marks)], marks) {
				t.Errorf("text: want record 10, %q, record 13:\n%s", marks, out)
			}

			out, errOut, code = run(t, "-o", "json", data)
			if code != 0 || len(lines(out)) != 18 || !marksAre(lines(errOut), marks) {
				t.Errorf("-o json: exit %d, %d lines, want 18; notes\n%s\nwant %q", code, len(lines(out)), errOut, marks)
			}

			want := `[{"From":11,"To":11,"loss":"lost","lost":1,"cause":"damage"}]`
			for _, cmd := range []string{"verify", "stats"} {
				out, errOut, code := run(t, cmd, "--json", data)
				var reps []struct {
					Records         int
					FirstSeq        uint64 `json:"first_seq"`
					LastSeq         uint64 `json:"last_seq"`
					Lost            uint64
					Gaps            json.RawMessage
					Damage          []struct{ Kind string }
					Corrupt         int
					Skipped, Unsure uint64
					Retired, Unread uint64
					PossiblyLost    uint64 `json:"possibly_lost"`
				}
				if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 1 {
					t.Fatalf("%s --json: exit %d, %v\n%s\nstderr: %s", cmd, code, err, out, errOut)
				}
				r := reps[0]
				var gaps bytes.Buffer
				json.Compact(&gaps, r.Gaps)
				if r.Records != 18 || r.FirstSeq != 1 || r.LastSeq != 20 || r.Lost != 1 || gaps.String() != want || r.Corrupt != 2 ||
					len(r.Damage) != 2 || r.Damage[0].Kind != "corruption" || r.Damage[1].Kind != "bad-record" ||
					r.Skipped+r.Unsure+r.Retired+r.Unread+r.PossiblyLost != 0 {
					t.Errorf("%s --json: %d records, seq %d-%d, %d lost, %d corrupt %+v, gaps %s; %d skipped, %d unsure, %d retired, %d unread, %d possibly lost;"+
						" want 18 records, seq 1-20, gaps %s, a corruption and a bad record",
						cmd, r.Records, r.FirstSeq, r.LastSeq, r.Lost, r.Corrupt, r.Damage, gaps.String(), r.Skipped, r.Unsure, r.Retired, r.Unread, r.PossiblyLost, want)
				}
				if wantCode := map[string]int{"verify": 1, "stats": 0}[cmd]; code != wantCode {
					t.Errorf("%s --json: exit %d, want %d", cmd, code, wantCode)
				}
			}

			out, errOut, code = run(t, "boots", data)
			if got := lines(out); code != 0 || len(got) != 2 || !strings.Contains(got[1], " 18  events:18             1 record lost ") {
				t.Errorf("boots: exit %d\n%s\nstderr: %s", code, out, errOut)
			}
		})
	}
}

// marksAre reports whether got are the marker lines want, in order, each
// either equal to its want or, for a want that does not end a marker
// ("--"), beginning with it.
func marksAre(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		if got[i] != w && (strings.HasSuffix(w, "--") || !strings.HasPrefix(got[i], w)) {
			return false
		}
	}
	return true
}
