package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
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
