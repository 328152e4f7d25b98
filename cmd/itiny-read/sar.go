package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/itiny/itiny/sar"
	"github.com/itiny/itiny/view"
)

// sarUsage lists the reports after the command's synopsis.
var sarUsage = func() string {
	var b strings.Builder
	b.WriteString("sar REPORT [--every SPAN] [--since T] [--until T] [--boot B] [-o text|json|csv] [PATH...]\n\nreports (sar's names and units):\n")
	for _, r := range sar.Reports {
		fmt.Fprintf(&b, "  %-5s %s\n", r.Name, r.Title)
	}
	return strings.TrimSuffix(b.String(), "\n")
}()

func sarCmd(fs *flag.FlagSet, args []string) error {
	every := fs.String("every", "", "average over spans of this length, aligned to midnight: 1m, 5m, 1h (default: a row per sample interval as written)")
	since := fs.String("since", "", "samples at or after this time: 2026-11-25 14:00, today, yesterday, 2h ago, -90m")
	until := fs.String("until", "", "samples before this time (same forms as --since)")
	boot := fs.String("boot", "", "only this boot: its counter, 0 for the last, -1 for the one before, or a prefix of its id")
	out := fs.String("o", "text", "output: text (aligned columns, as sar prints them), json (an object per row), csv (a header row, then a row per row, as sadf -d)")
	utc := fs.Bool("utc", false, "show times in UTC (and align --every spans to its midnight)")
	bundleMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: which report?", errUsage)
	}
	rep := sar.Lookup(fs.Arg(0))
	if rep == nil {
		return fmt.Errorf("%w: no report %q", errUsage, fs.Arg(0))
	}
	loc := time.Local
	if *utc {
		loc = time.UTC
	}
	o := sar.Options{Location: loc}
	var err error
	if *every != "" {
		if o.Every, err = sar.ParseEvery(*every); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	var f view.Filter
	now := time.Now()
	if *since != "" {
		if f.Since, err = view.ParseTime(*since, now, loc); err != nil {
			return fmt.Errorf("%w: --since: %v", errUsage, err)
		}
	}
	if *until != "" {
		if f.Until, err = view.ParseTime(*until, now, loc); err != nil {
			return fmt.Errorf("%w: --until: %v", errUsage, err)
		}
	}
	bw := bufio.NewWriterSize(os.Stdout, 64<<10)
	var w sar.Writer
	switch *out {
	case "text":
		w = sar.NewTextWriter(bw, rep, loc)
	case "json":
		w = sar.NewJSONWriter(bw, rep, loc)
	case "csv":
		w = sar.NewCSVWriter(bw, rep, loc)
	default:
		return fmt.Errorf("%w: -o %q: want text, json or csv", errUsage, *out)
	}
	in, err := openInput(fs.Args()[1:])
	if err != nil {
		return err
	}
	if *boot != "" {
		n, err := resolveBoot(in.Sources, *boot)
		if err != nil {
			return err
		}
		f.Boots = []uint32{n}
	}
	m, err := view.NewMerger(in.Sources, f.Since)
	if err != nil {
		return err
	}
	defer m.Close()
	if !f.Until.IsZero() {
		m.Until(f.Until)
	}
	r := sar.NewReader(rep, w, o)
	for {
		it, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if it.Kind != view.KindRecord || !f.Keep(it.Source.Stream, it.Rec) {
			continue
		}
		if err := r.Add(it.Rec); err != nil {
			return pipeOK(err)
		}
	}
	if err := r.Close(); err != nil {
		return pipeOK(err)
	}
	if err := bw.Flush(); err != nil {
		return pipeOK(err)
	}
	if r.Series() == 0 {
		return fmt.Errorf("no %s records in the rings (is the %s collector on?)", rep.Record.Name, rep.Record.Source)
	}
	return nil
}

// pipeOK returns nil for a write to a reader that went away (head, less).
func pipeOK(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}
