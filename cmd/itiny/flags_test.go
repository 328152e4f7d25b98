package main

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		data    string
		v       bool
		rest    []string
		err     error
		message string
	}{
		{args: nil, data: "/d"},
		{args: []string{"--data", "x", "a", "-v"}, data: "x", rest: []string{"a", "-v"}},
		{args: []string{"-data=y", "-v", "--", "-z"}, data: "y", v: true, rest: []string{"-z"}},
		{args: []string{"--v=false", "-", "b"}, data: "/d", rest: []string{"-", "b"}},
		{args: []string{"-data"}, err: errUsage, message: "flag needs an argument: -data"},
		{args: []string{"--colour", "red"}, err: errUsage, message: "flag provided but not defined: -colour"},
		{args: []string{"-v=maybe"}, err: errUsage, message: `invalid boolean value "maybe" for -v`},
		{args: []string{"--help"}, err: errHelp},
		{args: []string{"-h", "--data", "x"}, err: errHelp},
	} {
		var out bytes.Buffer
		f := &flags{out: &out}
		data := f.String("data", "/d", "data directory")
		v := f.Bool("v", false, "verbose")
		err := f.Parse(tc.args)
		if !errors.Is(err, tc.err) || !strings.Contains(out.String(), tc.message) {
			t.Errorf("%q: error %v, output %q; want %v, %q", tc.args, err, out.String(), tc.err, tc.message)
			continue
		}
		if err != nil {
			continue
		}
		if *data != tc.data || *v != tc.v || !reflect.DeepEqual(f.Args(), tc.rest) && len(tc.rest)+f.NArg() > 0 {
			t.Errorf("%q: data %q, v %v, args %q; want %q, %v, %q", tc.args, *data, *v, f.Args(), tc.data, tc.v, tc.rest)
		}
	}
}

func TestPrintDefaults(t *testing.T) {
	var out bytes.Buffer
	f := &flags{out: &out}
	f.String("data", "/var/lib/itiny", "data directory")
	f.Bool("json", false, "read JSON")
	f.PrintDefaults()
	want := "  -data string\n    \tdata directory (default \"/var/lib/itiny\")\n  -json\n    \tread JSON\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}
