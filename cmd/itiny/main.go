// Command itiny is the itiny agent: it keeps a device's runtime states,
// metrics and notifications in fixed-size, crash-safe rings, offline.
//
// Usage:
//
//	itiny run [--data DIR] [--config FILE] [--log-file FILE] [--path.procfs DIR] [--path.sysfs DIR] [--path.devfs DIR]
//	itiny emit [--stream S] [--level L] [--source NAME] [--socket PATH] NAME [key=value ...]
//	itiny emit --json [--socket PATH] < records.jsonl
//	itiny config check [--data DIR] [FILE]
//	itiny core [--data DIR] PID TID SIGNAL TIME EXE   (as kernel.core_pattern: |/usr/bin/itiny core %P %I %s %t %e)
//	itiny version
//
// Exit status: 0 on success, 1 on failure, 2 for a usage error.
package main

import (
	"errors"
	"io"
	"os"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/internal/datadir"
	"github.com/itiny/itiny/internal/tinyfmt"
)

type command struct {
	name  string
	usage string
	short string
	run   func(fs *flags, args []string) error
}

var commands = []*command{
	{"run", "run [--data DIR] [--config FILE] [--log-file FILE] [--path.procfs DIR] [--path.sysfs DIR] [--path.devfs DIR]", "run the agent (no --config: the embedded default)", runCmd},
	{"emit", "emit [--stream S] [--level L] [--source NAME] [--socket PATH] [--json] NAME [key=value ...]", "send a record to the running agent, like logger(1)", emitCmd},
	{"config", "config check [--data DIR] [FILE]", "validate a config file (or the default) as run does and print the effective config", configCmd},
	{"core", coreUsage, "the kernel's core_pattern handler: keep a crash's minidump for the agent to store", coreCmd},
	{"version", "version", "print the version", func(*flags, []string) error { tinyfmt.Println("itiny", agent.Version); return nil }},
}

// errUsage makes main print the command's usage and exit 2.
var errUsage = errors.New("usage")

func usage() {
	usageTo(os.Stderr)
}

// usageTo writes the list of commands to w: standard output when asked
// for (help, -h), standard error after a mistake.
func usageTo(w io.Writer) {
	tinyfmt.Fprintln(w, "usage: itiny <command> [arguments]\n\ncommands:")
	for _, c := range commands {
		tinyfmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	tinyfmt.Fprintln(w, "\nrun 'itiny <command> -h' for a command's flags; itiny --version prints the version")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "help" || name == "-h" || name == "--help" {
		usageTo(os.Stdout)
		return
	}
	if name == "--version" || name == "-version" {
		name = "version"
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		fs := &flags{out: os.Stderr}
		err := c.run(fs, os.Args[2:])
		switch {
		case err == nil:
			return
		case errors.Is(err, errHelp):
			tinyfmt.Fprintf(os.Stderr, "usage: itiny %s\n", c.usage)
			fs.PrintDefaults()
			os.Exit(0)
		case errors.Is(err, errUsage):
			tinyfmt.Fprintf(os.Stderr, "usage: itiny %s\n", c.usage)
			fs.PrintDefaults()
			os.Exit(2)
		}
		tinyfmt.Fprintf(os.Stderr, "itiny %s: %v\n", c.name, err)
		os.Exit(1)
	}
	tinyfmt.Fprintf(os.Stderr, "itiny: unknown command %q\n", name)
	usage()
	os.Exit(2)
}

// parse parses a command's options: errHelp for -h, errUsage for a bad one.
func parse(fs *flags, args []string) error { return fs.Parse(args) }

// configCmd checks a config file as itiny run does, for the data
// directory given, and prints the effective configuration.
func configCmd(fs *flags, args []string) error {
	data := fs.String("data", datadir.Default(), "the data directory the config is for: the paths the config gives are checked against its files ($"+datadir.Env+", else "+datadir.Fallback+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] != "check" {
		return errUsage
	}
	if err := parse(fs, rest[1:]); err != nil { // options after "check"
		return err
	}
	rest = append(rest[:1], fs.Args()...)
	if len(rest) > 2 {
		return errUsage
	}
	file := ""
	if len(rest) == 2 {
		file = rest[1]
	}
	c, err := agent.LoadConfig(file)
	if err != nil {
		return err
	}
	c.Data = *data
	if err := c.Check(); err != nil {
		return err
	}
	io.WriteString(os.Stdout, c.String())
	return nil
}
