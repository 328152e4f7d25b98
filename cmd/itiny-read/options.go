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

func (c *countOption) Takes(next string) bool {
	return next == "all" || next != "" && strings.Trim(next, "0123456789") == ""
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

// window is -S/--since and -U/--until, as journalctl takes them.
type window struct{ since, until string }

// add adds the options to fs; what names what they select ("records").
func (w *window) add(fs *flag.FlagSet, what string) {
	fs.StringVar(&w.since, "S", "", what+" at or after this `time`: "+view.TimeForms)
	fs.StringVar(&w.since, "since", "", "same as -S")
	fs.StringVar(&w.until, "U", "", what+" before this `time` (same forms as -S)")
	fs.StringVar(&w.until, "until", "", "same as -U")
}

// apply sets f's window, times without a zone in loc.
func (w *window) apply(f *view.Filter, now time.Time, loc *time.Location) error {
	var err error
	if w.since != "" {
		if f.Since, err = view.ParseTime(w.since, now, loc); err != nil {
			return fmt.Errorf("%w: -S/--since: %v", errUsage, err)
		}
	}
	if w.until != "" {
		if f.Until, err = view.ParseTime(w.until, now, loc); err != nil {
			return fmt.Errorf("%w: -U/--until: %v", errUsage, err)
		}
	}
	return nil
}
