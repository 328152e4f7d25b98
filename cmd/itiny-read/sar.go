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
	b.WriteString("sar REPORT [--every SPAN] [-S TIME] [-U TIME] [-b [BOOT]] [-o text|json|csv] [PATH...]\n\nreports (sar's names and units):\n")
	for _, r := range sar.Reports {
		fmt.Fprintf(&b, "  %-5s %s\n", r.Name, r.Title)
	}
	return strings.TrimSuffix(b.String(), "\n")
}()

func sarCmd(fs *flag.FlagSet, args []string) error {
	every := fs.String("every", "", "average over spans this long, aligned to midnight: 1m, 5m, 1h (default: a row per sample interval as written);\nread from the coarsest rollup tier not longer (metrics.1h for 1h) where it has records")
	times := timeFlags(fs, "samples")
	var boot bootOption
	boot.add(fs, "samples")
	out := fs.String("o", "text", "output: text (aligned columns, as sar prints them), json (an object per row), csv (a header row, then a row per row, as sadf -d)")
	fs.StringVar(out, "output", "text", "same as -o")
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
	loc := times.location() // --utc also aligns --every spans to UTC's midnight
	o := sar.Options{Location: loc}
	var err error
	if *every != "" {
		if o.Every, err = sar.ParseEvery(*every); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	var f view.Filter
	if f.Since, f.Until, err = times.window(time.Now()); err != nil {
		return err
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
	if err := boot.apply(&f, in.Sources); err != nil {
		return err
	}
	clocks, err := view.LearnClocks(in.Sources)
	if err != nil {
		return err
	}
	// Summaries of the metrics' rollup tiers where they serve (--every
	// 1h over a year reads hours), the samples where there are none.
	if err := planTiers(clocks, in.Sources, &f, view.TierOptions{Every: o.Every}); err != nil {
		return err
	}
	m, err := newMerger(clocks, in.Sources, &f, false)
	if err != nil {
		return err
	}
	defer m.Close()
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
		if err := r.AddFrom(it.Rec, it.Time, f.Tiers.Every(it.Source.Stream)); err != nil {
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
