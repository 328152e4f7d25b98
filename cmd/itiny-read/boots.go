package main

import (
	"errors"
	"flag"
	"fmt"
	"iter"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/internal/datadir"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/internal/version"
	"github.com/itiny/itiny/view"
)

func bootsCmd(fs *flag.FlagSet, args []string) error {
	in, utc, err := listInput(fs, args)
	if err != nil {
		return err
	}
	boots, err := view.ListBoots(in.Sources)
	if err != nil {
		return err
	}
	runs, err := view.ListRuns(in.Sources)
	if err != nil {
		return err
	}
	view.EndBoots(boots, runs)
	w := os.Stdout
	tw := timeWidth(func(yield func(view.TimeMark) bool) {
		for _, b := range boots {
			if !yield(b.FirstClock) || !yield(b.LastClock) {
				return
			}
		}
	})
	fmt.Fprintf(w, "%4s %5s %-32s  %-*s  %-*s  %9s  %8s  %-20s  %-20s  %-21s  %s\n",
		"IDX", "BOOT", "ID", tw, "FIRST RECORD", tw, "LAST RECORD", "UPTIME", "RECORDS", "STREAMS", "GAPS", "ENDED", "EVIDENCE")
	for i, b := range boots {
		var names []string
		for s, n := range b.Streams {
			names = append(names, fmt.Sprintf("%s:%d", s, n))
		}
		sort.Strings(names)
		evidence := b.Evidence
		if evidence == "" {
			evidence = "-"
		}
		fmt.Fprintf(w, "%4d %5d %x  %-*s  %-*s  %9s  %8d  %-20s  %-20s  %-21s  %s\n", i-len(boots)+1, b.N, b.ID[:],
			tw, whenMarked(b.First, b.FirstClock, *utc), tw, whenMarked(b.Last, b.LastClock, *utc),
			view.ShortDuration(b.Uptime), b.Records, strings.Join(names, " "), b.LossText(), b.Ended, evidence)
	}
	return nil
}

func when(t time.Time, utc bool) string {
	if utc {
		t = t.UTC()
	} else {
		t = t.Local()
	}
	return t.Format("2006-01-02 15:04:05.000")
}

// whenMarked is when, followed by the sign of how the view came to the
// time, if the rings say (TimeMark.Sign: ~ repaired, ? unsynchronised).
func whenMarked(t time.Time, mark view.TimeMark, utc bool) string {
	if c := mark.Sign(); c != 0 {
		return when(t, utc) + string(c)
	}
	return when(t, utc)
}

// timeWidth is the width of a column of whenMarked's times: 23, and one
// more when any of marks has a sign.
func timeWidth(marks iter.Seq[view.TimeMark]) int {
	for m := range marks {
		if m.Sign() != 0 {
			return 24
		}
	}
	return 23
}

// bundleMemory is the --bundle-memory option of the commands that read.
var bundleMemory = size.Flag(bundle.DefaultMemory)

func bundleMemoryFlag(fs *flag.FlagSet) {
	fs.Var(&bundleMemory, "bundle-memory", "at most this much resident memory (a `size`: 256MiB, 1GiB) to read a bundle; one that needs more is refused, naming the file that goes over")
}

// openInput opens the paths, or the default data directory, and warns of
// problems found on the way.
func openInput(paths []string) (*view.Input, error) {
	if len(paths) == 0 {
		paths = []string{datadir.Default()}
	}
	in, err := view.OpenWith(paths, view.OpenOptions{BundleMemory: int64(bundleMemory)})
	if errors.Is(err, bundle.ErrLimit) {
		return nil, fmt.Errorf("%w (--bundle-memory raises the limit)", err)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range in.Problems {
		fmt.Fprintln(os.Stderr, "itiny-read: warning:", p)
	}
	return in, nil
}

func bundleCmd(fs *flag.FlagSet, args []string) error {
	out := fs.String("o", "", "the bundle file (default: itiny-HOST-YYYYMMDD-HHMMSS.tar.gz)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("%w: one data directory", errUsage)
	}
	dir := datadir.Default()
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	name := *out
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("itiny-%s-%s.tar.gz", host, time.Now().UTC().Format("20060102-150405"))
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	m, err := bundle.Write(f, dir, "itiny-read "+version.String)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	var size int64
	for _, fl := range m.Files {
		size += fl.Size
	}
	fmt.Fprintf(os.Stderr, "%s: %s, %s of rings\n", name, view.Count(len(m.Files), "file", "files"), view.Count(size, "byte", "bytes"))
	return nil
}
