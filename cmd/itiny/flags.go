package main

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// flags parses the options of one command: the part of package flag that
// itiny needs (string and bool options as -name, --name, -name=value or
// -name value; -h; "--" ends them), in a tenth of the firmware bytes.
type flags struct {
	opts []*option
	args []string
	out  io.Writer
}

type option struct {
	name, usage, def string
	s                *string
	b                *bool
}

// errHelp is returned by parse for -h or --help.
var errHelp = errors.New("help requested")

func (f *flags) String(name, def, usage string) *string {
	p := new(string)
	*p = def
	f.opts = append(f.opts, &option{name: name, usage: usage, def: def, s: p})
	return p
}

func (f *flags) Bool(name string, def bool, usage string) *bool {
	p := new(bool)
	*p = def
	f.opts = append(f.opts, &option{name: name, usage: usage, b: p})
	return p
}

// Parse sets the options from args and keeps the arguments after them.
// A bad option is reported to f.out and returned as errUsage.
func (f *flags) Parse(args []string) error {
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			args = args[1:]
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		args = args[1:]
		name, val, hasVal := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if name == "h" || name == "help" {
			return errHelp
		}
		o := f.lookup(name)
		switch {
		case o == nil:
			return f.fail("flag provided but not defined: -%s", name)
		case o.b != nil:
			v := true
			if hasVal {
				var err error
				if v, err = strconv.ParseBool(val); err != nil {
					return f.fail("invalid boolean value %q for -%s", val, name)
				}
			}
			*o.b = v
		case hasVal:
			*o.s = val
		case len(args) == 0:
			return f.fail("flag needs an argument: -%s", name)
		default:
			*o.s, args = args[0], args[1:]
		}
	}
	f.args = args
	return nil
}

func (f *flags) lookup(name string) *option {
	for _, o := range f.opts {
		if o.name == name {
			return o
		}
	}
	return nil
}

func (f *flags) fail(format string, args ...any) error {
	tinyfmt.Fprintf(f.out, format+"\n", args...)
	return errUsage
}

func (f *flags) Args() []string   { return f.args }
func (f *flags) NArg() int        { return len(f.args) }
func (f *flags) Arg(i int) string { return f.args[i] }

// PrintDefaults lists the options, as package flag does.
func (f *flags) PrintDefaults() {
	for _, o := range f.opts {
		if o.b != nil {
			tinyfmt.Fprintf(f.out, "  -%s\n    \t%s\n", o.name, o.usage)
			continue
		}
		tinyfmt.Fprintf(f.out, "  -%s string\n    \t%s", o.name, o.usage)
		if o.def != "" {
			tinyfmt.Fprintf(f.out, " (default %q)", o.def)
		}
		tinyfmt.Fprintln(f.out)
	}
}
