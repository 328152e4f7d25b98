package view

import (
	"testing"

	"github.com/itiny/itiny/codec"
)

func TestParseLevels(t *testing.T) {
	for _, tc := range []struct {
		in       string
		min, max codec.Level
	}{
		{"warning", codec.LevelEmerg, codec.LevelWarning},
		{"WARN", codec.LevelEmerg, codec.LevelWarning},
		{"Error", codec.LevelEmerg, codec.LevelErr},
		{"0", codec.LevelEmerg, codec.LevelEmerg},
		{"7", codec.LevelEmerg, codec.LevelDebug},
		{"warning..err", codec.LevelErr, codec.LevelWarning},
		{"err..warning", codec.LevelErr, codec.LevelWarning},
		{"1..5", codec.LevelAlert, codec.LevelNotice},
		{"debug..debug", codec.LevelDebug, codec.LevelDebug},
	} {
		min, max, err := ParseLevels(tc.in)
		if err != nil || min != tc.min || max != tc.max {
			t.Errorf("%q: %v..%v, %v; want %v..%v", tc.in, min, max, err, tc.min, tc.max)
		}
	}
	for _, bad := range []string{"", "loud", "8", "..", "err..", "..err", "err..x", "warning...err"} {
		if _, _, err := ParseLevels(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestFilterLevelsSources(t *testing.T) {
	r := rec(1, 1, "x")
	r.Level = codec.LevelWarning // from source "test"
	for _, tc := range []struct {
		f    Filter
		keep bool
	}{
		{Filter{MinLevel: codec.LevelErr, MaxLevel: codec.LevelWarning, LevelSet: true}, true},
		{Filter{MinLevel: codec.LevelWarning, MaxLevel: codec.LevelWarning, LevelSet: true}, true},
		{Filter{MinLevel: codec.LevelNotice, MaxLevel: codec.LevelDebug, LevelSet: true}, false},
		{Filter{MinLevel: codec.LevelEmerg, MaxLevel: codec.LevelErr, LevelSet: true}, false},
		{Filter{Sources: []string{"test"}}, true},
		{Filter{Sources: []string{"kernel", "test"}}, true},
		{Filter{Sources: []string{"kernel"}}, false},
	} {
		if got := tc.f.Keep("metrics", r); got != tc.keep {
			t.Errorf("%+v: keep %v, want %v", tc.f, got, tc.keep)
		}
	}
}

// pad counts what shows: not colour sequences, and a character of several
// bytes once.
func TestPad(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"x info", "x info     "},
		{"x \x1b[1;31minfo", "x \x1b[1;31minfo     "},
		{"x \x1b[33mwarning\x1b[0m", "x \x1b[33mwarning\x1b[0m  "},
		{"x capteur-é", "x capteur-é "},
		{"x été", "x été      "},
		{"toolongvalue", "toolongvalue "},
	} {
		if got := string(pad([]byte(tc.in), 8)); got != tc.want {
			t.Errorf("pad(%q): %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{{0, "0 boots"}, {1, "1 boot"}, {2, "2 boots"}, {1 << 40, "1099511627776 boots"}} {
		if got := Count(tc.n, "boot", "boots"); got != tc.want {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := Count(1, "record that does not decode", "records that do not decode"); got != "1 record that does not decode" {
		t.Errorf("Count(1, ...) = %q", got)
	}
}
