// Command itiny-read is the field engineer's tool for itiny rings: on the
// device, on a copied data directory, or on a support bundle.
//
// Usage:
//
//	itiny-read [options] [PATH...] [FIELD=VALUE...]   records of every stream, merged in order;
//	                                                   journalctl's -b, -p, -r, -e, -S, -U, -t, -n, -f, --no-pager
//	itiny-read boots [PATH...]                         the boots the rings hold
//	itiny-read runs [--json] [PATH...]                 the agent's runs: stops, crashes, downtime
//	itiny-read cores [--extract SEQ -o FILE] [PATH...]  crashed processes; one's minidump, for gdb
//	itiny-read verify [--json] [PATH...]               checksums, torn tails, corruption, gaps; exit 1 on corruption
//	itiny-read stats [--json] [PATH...]                per stream figures
//	itiny-read salvage (--to DIR | --json FILE) [PATH...]  valid records into new rings or JSON lines
//	itiny-read bundle [-o FILE] [DATADIR]              make a support bundle of a live data directory
//	itiny-read report [-o FILE] [--since T] [--until T] [PATH...]
//	                                                   one self-contained HTML page (FILE replaced): charts, events, boots, verify
//
// A PATH is a data directory (default $ITINY_DATA, else /var/lib/itiny), a
// ring directory, a segment file, or a bundle (.tar, .tar.gz, .tgz).
//
// Exit status: 0 on success, 1 on failure, 2 for a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/itiny/itiny/internal/datadir"
	"github.com/itiny/itiny/internal/version"
)

type command struct {
	name, usage, short string
	run                func(fs *flag.FlagSet, args []string) error
}

var commands = []*command{
	{"boots", "boots [PATH...]", "list the boots the rings hold", bootsCmd},
	{"runs", "runs [--json] [PATH...]", "list the agent's runs: start, clean stop or crash, the last record before a crash, downtime, reloads, collectors off", runsCmd},
	{"cores", coresUsage, "list the crashed processes (itiny core's minidumps), or write one's minidump for gdb", coresCmd},
	{"verify", "verify [--json] [PATH...]", "check every checksum, tell torn tails from corruption, find gaps and stale segments; exit 1 on corruption", verifyCmd},
	{"stats", "stats [--json] [PATH...]", "per stream: records, bytes, time span, retention, boots, gaps, rate; what the agent writes a day", statsCmd},
	{"salvage", "salvage (--to DIR | --json FILE) [PATH...]", "copy every record that reads out of damaged rings into new clean rings or JSON lines", salvageCmd},
	{"bundle", "bundle [-o FILE] [DATADIR]", "write a support bundle (tar.gz with a manifest) of a live data directory", bundleCmd},
	{"sar", sarUsage, "figures per interval as sar shows them: CPU, memory, network, disk, filesystem, load, pressure, temperature", sarCmd},
	{"report", "report [-o FILE] [--since T] [--until T] [PATH...]", "write one self-contained HTML page: metrics charts, events timeline, boots and gaps, verify summary", reportCmd},
}

// errUsage makes main print the error, a line pointing to --help, and
// exit 2 (as journalctl: the full usage is for -h).
var errUsage = errors.New("usage")

func main() {
	args := os.Args[1:]
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		fmt.Println("itiny-read", version.String)
		return
	}
	help := len(args) > 0 && args[0] == "help"
	if help {
		args = args[1:] // help [CMD]: CMD -h
	}
	cmd := &command{name: "", usage: "[options] [PATH...] [FIELD=VALUE...]", run: dumpCmd}
	if len(args) > 0 {
		for _, c := range commands {
			if c.name == args[0] {
				cmd, args = c, args[1:]
				break
			}
		}
	}
	if help {
		args = []string{"-h"}
	}
	name := "itiny-read"
	if cmd.name != "" {
		name += " " + cmd.name
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := cmd.run(fs, args)
	switch {
	case err == nil:
		return
	case errors.Is(err, flag.ErrHelp):
		usage(os.Stdout, cmd, fs) // asked for: standard output, exit 0
		return
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "%s: %v\ntry '%s --help'\n", name, strings.TrimPrefix(err.Error(), "usage: "), name)
		os.Exit(2)
	}
	if !errors.Is(err, errCorrupt) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
	os.Exit(1)
}

// usage writes a command's usage and every option it takes to w; the
// default command's also lists the others.
func usage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: itiny-read %s\n", c.usage) // a command's usage starts with its name
	if c.name == "" {
		fmt.Fprintln(w, "\nother commands (itiny-read help CMD for each one's options):")
		for _, c := range commands {
			fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
		}
	}
	fmt.Fprintln(w, "\noptions (before or after paths; --name=value or --name value):")
	fs.VisitAll(func(f *flag.Flag) { writeOption(w, f) })
	writeOption(w, &flag.Flag{Name: "version", Usage: "print the version", Value: new(versionFlag)})
	fmt.Fprintln(w, "\nenvironment:\n  "+datadir.Env+"  the data directory when no PATH is given (else "+datadir.Fallback+")\n"+
		"  PAGER       the pager on a terminal (else less -R; empty or cat: none)\n"+
		"  ITINY_LESS  less's options (else FRSXMK), whatever LESS says")
}

// helpIndent is where an option's help starts: on the line after its
// name, or on the same line after a one-letter one that takes no value.
const helpIndent = "        "

// writeOption writes an option's name, its value's placeholder, its help
// and its default as flag.PrintDefaults does, but with journalctl's
// dashes: --name for a name of more than one letter, -x for one letter;
// and in spaces, not tabs, so that every help line starts in the same
// column whatever the tab width.
func writeOption(w io.Writer, f *flag.Flag) {
	value, help := flag.UnquoteUsage(f)
	line := "  -" + f.Name
	if len(f.Name) > 1 {
		line = "  --" + f.Name
	}
	if value != "" {
		line += " " + value
	}
	if len(f.Name) == 1 && value == "" {
		line += helpIndent[len(line):] // "  -b    only the records..."
	} else {
		line += "\n" + helpIndent
	}
	line += strings.ReplaceAll(help, "\n", "\n"+helpIndent)
	if def, quote := defaultOf(f); def != "" && quote {
		line += fmt.Sprintf(" (default %q)", def)
	} else if def != "" {
		line += " (default " + def + ")"
	}
	fmt.Fprintln(w, line)
}

// defaultOf returns the default of f worth saying, as flag.PrintDefaults
// says it: none when it is the zero value of its type, and quoted for a
// string option.
func defaultOf(f *flag.Flag) (def string, quote bool) {
	t := reflect.TypeOf(f.Value)
	zero := reflect.Zero(t)
	if t.Kind() == reflect.Pointer {
		zero = reflect.New(t.Elem())
	}
	if z, ok := zero.Interface().(flag.Value); ok && z.String() == f.DefValue {
		return "", false
	}
	if g, ok := f.Value.(flag.Getter); ok {
		_, quote = g.Get().(string)
	}
	return f.DefValue, quote
}

// versionFlag is --version in the options' list: main handles it before
// parsing.
type versionFlag bool

func (*versionFlag) String() string   { return "false" }
func (*versionFlag) Set(string) error { return nil }
func (*versionFlag) IsBoolFlag() bool { return true }

// parse parses options anywhere among the arguments, before or after
// paths and matches, as GNU tools do (package flag stops at the first
// argument that is not one); "--" ends them, so that what follows is
// taken as it is. fs.Args() is then the arguments that are not options,
// in order. A bad option is a usage error naming it.
func parse(fs *flag.FlagSet, args []string) error {
	args = joinOptional(fs, args)
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		left := fs.Args()
		if n := len(args) - len(left); n > 0 && args[n-1] == "--" || len(left) == 0 {
			rest = append(rest, left...)
			break
		}
		rest, args = append(rest, left[0]), left[1:]
	}
	return fs.Parse(append([]string{"--"}, rest...)) // fs.Args() = rest
}

// An optional option may be given without a value, as journalctl's -b and
// -n: alone ("-b"), with the next argument when that is a value it takes
// ("-b -1"), or joined ("-b=-1"). Package flag sees it as a boolean
// option, set to "true" when it is alone.
type optional interface {
	flag.Value
	IsBoolFlag() bool
	Takes(next string) bool
}

// joinOptional joins each optional option to the argument after it when
// that is its value ("-b -1" becomes "-b=-1"), so that package flag parses
// it; it skips the values of the other options and stops at "--". A
// one-letter option written with its value or with others ("-b-1", "-n5",
// "-rn5") is split as getopt splits it.
func joinOptional(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if split := unstick(fs, a); split != nil {
			out = append(out, split...)
			continue
		}
		out = append(out, a)
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		f := fs.Lookup(name) // nil for a path, a match, or -x=v
		if f == nil || name == a || i+1 == len(args) {
			continue
		}
		if o, ok := f.Value.(optional); ok {
			if o.Takes(args[i+1]) {
				out[len(out)-1] = a + "=" + args[i+1]
				i++
			}
		} else if !isBool(f) {
			out = append(out, args[i+1]) // its value, whatever it looks like
			i++
		}
	}
	return out
}

// unstick splits one-letter options written together as getopt takes
// them: "-n5" is "-n=5", "-rn5" is "-r" and "-n=5"; an optional one takes
// only what it takes ("-b-1"). It returns nil for an argument that is
// not so: an option of its own (-utc), or not an option.
func unstick(fs *flag.FlagSet, a string) []string {
	if len(a) < 3 || a[0] != '-' || a[1] == '-' || a[2] == '=' || fs.Lookup(a[1:]) != nil {
		return nil
	}
	f := fs.Lookup(a[1:2])
	if f == nil {
		return nil
	}
	rest := a[2:]
	if o, ok := f.Value.(optional); ok {
		if !o.Takes(rest) {
			return nil
		}
	} else if isBool(f) {
		next := "-" + rest
		if more := unstick(fs, next); more != nil {
			return append([]string{a[:2]}, more...)
		}
		if len(rest) == 1 && fs.Lookup(rest) != nil {
			return []string{a[:2], next}
		}
		return nil
	}
	return []string{a[:2] + "=" + rest}
}

// isBool reports whether f takes no value.
func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// multi is a repeatable string option, each value comma-separated
// values; a value given again counts once, where it came first
// (--fields n,n is --fields n).
type multi []string

func (m *multi) String() string { return strings.Join(*m, ",") }

func (m *multi) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if !slices.Contains(*m, v) {
			*m = append(*m, v)
		}
	}
	return nil
}
