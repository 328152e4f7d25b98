package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/view"
)

// bootOption is -b/--boot [ID|OFFSET|all], as journalctl takes it: alone,
// the last boot (0); a counter; 0, -1, -2...: the last boot, the one
// before...; a prefix of a boot id; all: every boot.
type bootOption struct{ v string } // "": not given

func (b *bootOption) String() string   { return b.v }
func (b *bootOption) IsBoolFlag() bool { return true }

func (b *bootOption) Set(s string) error {
	if s == "true" { // alone
		s = "0"
	}
	b.v = s
	return nil
}

// Takes reports whether next is a boot rather than a path: a number, all,
// or hex digits of an id that no file is named.
func (b *bootOption) Takes(next string) bool {
	if _, err := strconv.ParseInt(next, 10, 64); err == nil || next == "all" {
		return true
	}
	if next == "" || len(next) > 32 || strings.Trim(strings.ToLower(next), "0123456789abcdef") != "" {
		return false
	}
	_, err := os.Stat(next)
	return err != nil
}

// countOption is -n/--lines [N|all], as journalctl takes it: alone, 10.
type countOption struct {
	n   int  // -1: all
	set bool // given
}

func (c *countOption) String() string {
	if !c.set || c.n < 0 {
		return ""
	}
	return strconv.Itoa(c.n)
}

func (c *countOption) IsBoolFlag() bool { return true }

func (c *countOption) Set(s string) error {
	switch s {
	case "true": // alone
		c.n, c.set = 10, true
	case "all":
		c.n, c.set = -1, true
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("%q: want a count of records or all", s)
		}
		c.n, c.set = n, true
	}
	return nil
}

// Takes: all or an integer, a negative one to be refused by Set by name
// rather than taken for an option.
func (c *countOption) Takes(next string) bool {
	_, err := strconv.Atoi(next)
	return next == "all" || err == nil
}

// timeOptions are -S/--since, -U/--until and --utc, as journalctl takes
// them, defined once for the commands that select by time (the records,
// sar, report).
type timeOptions struct {
	since, until string
	utc          bool
}

// timeFlags defines the time options on fs; what names what they select
// ("records").
func timeFlags(fs *flag.FlagSet, what string) *timeOptions {
	o := &timeOptions{}
	fs.StringVar(&o.since, "S", "", what+" at or after this `time`: "+view.TimeForms)
	fs.StringVar(&o.since, "since", "", "same as -S")
	fs.StringVar(&o.until, "U", "", what+" before this `time` (same forms as -S)")
	fs.StringVar(&o.until, "until", "", "same as -U")
	fs.BoolVar(&o.utc, "utc", false, "show times in UTC, and take times without a zone in UTC")
	return o
}

// location is the zone times are shown in, and taken in when they name
// none: local time, or UTC with --utc.
func (o *timeOptions) location() *time.Location {
	if o.utc {
		return time.UTC
	}
	return time.Local
}

// window returns the times of -S and -U, zero when not given; a time
// that does not parse is a usage error naming its option.
func (o *timeOptions) window(now time.Time) (since, until time.Time, err error) {
	if o.since != "" {
		if since, err = view.ParseTime(o.since, now, o.location()); err != nil {
			return since, until, fmt.Errorf("%w: -S/--since: %v", errUsage, err)
		}
	}
	if o.until != "" {
		if until, err = view.ParseTime(o.until, now, o.location()); err != nil {
			return since, until, fmt.Errorf("%w: -U/--until: %v", errUsage, err)
		}
	}
	return since, until, nil
}

// add adds -b and --boot to fs; what names what it selects ("records").
func (b *bootOption) add(fs *flag.FlagSet, what string) {
	fs.Var(b, "b", "only the "+what+" of one boot: -b alone or -b 0 the last, -b -1 the one before, -b N the boot with counter N, -b ID a prefix of its id, -b all every boot (itiny-read boots lists them)")
	fs.Var(b, "boot", "same as -b")
}

// apply sets the boots f selects in srcs, as the option says.
func (b *bootOption) apply(f *view.Filter, srcs []*view.Source) error {
	if b.v == "" || b.v == "all" {
		return nil
	}
	n, err := resolveBoot(srcs, b.v)
	if err != nil {
		return err
	}
	f.Boots = []uint32{n}
	return nil
}
