package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

func dumpCmd(fs *flag.FlagSet, args []string) error {
	var streams, matches, fields multi
	fs.Var(&streams, "stream", "only this stream (repeatable, or comma-separated)")
	since := fs.String("since", "", "records at or after this time: 2026-11-25 14:00, today, yesterday, 2h ago, -90m")
	until := fs.String("until", "", "records before this time (same forms as --since)")
	last := fs.Int("n", 0, "only the last N records")
	boot := fs.String("boot", "", "only this boot: its counter, 0 for the last, -1 for the one before, or a prefix of its id")
	level := fs.String("level", "", "records at this level or more severe: emerg, alert, crit, err, warning, notice, info, debug")
	grep := fs.String("grep", "", "records whose name or a string field matches this regular expression")
	fs.Var(&matches, "match", "field match (repeatable): key=value, key!=value, key>N, key<N, key>=N, key<=N, key~regex")
	out := fs.String("o", "text", "output: text, json (one record per line), csv (a column per field, a row per sample), msgpack")
	fs.Var(&fields, "fields", "only these fields (comma-separated)")
	follow := fs.Bool("f", false, "follow: keep printing records as they are written, across rotations")
	utc := fs.Bool("utc", false, "show times in UTC")
	color := fs.String("color", "auto", "colours: auto (on a terminal), always, never")
	bundleMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	var paths []string
	for _, a := range fs.Args() {
		if isMatch(a) {
			matches = append(matches, a)
			continue
		}
		paths = append(paths, a)
	}
	f := view.Filter{Streams: streams}
	now := time.Now()
	loc := time.Local
	if *utc {
		loc = time.UTC
	}
	var err error
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
	if *level != "" {
		if f.MaxLevel, err = codec.ParseLevel(*level); err != nil {
			return fmt.Errorf("%w: --level: %v", errUsage, err)
		}
		f.LevelSet = true
	}
	if *grep != "" {
		if f.Grep, err = regexp.Compile(*grep); err != nil {
			return fmt.Errorf("%w: --grep: %v", errUsage, err)
		}
	}
	for _, m := range matches {
		mt, err := view.ParseMatch(m)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		f.Matches = append(f.Matches, mt)
	}
	if *last < 0 {
		return fmt.Errorf("%w: -n %d: want a count", errUsage, *last)
	}
	in, err := openInput(paths)
	if err != nil {
		return err
	}
	srcs := in.Sources
	if len(f.Streams) > 0 {
		srcs = srcs[:0:0]
		for _, s := range in.Sources {
			for _, name := range f.Streams {
				if s.Stream == name {
					srcs = append(srcs, s)
				}
			}
		}
		if len(srcs) == 0 {
			return fmt.Errorf("no stream %s in the rings", strings.Join(f.Streams, ", "))
		}
	}
	if *boot != "" {
		n, err := resolveBoot(srcs, *boot)
		if err != nil {
			return err
		}
		f.Boots = []uint32{n}
	}
	bw := bufio.NewWriterSize(os.Stdout, 64<<10)
	defer bw.Flush()
	var w io.Writer = bw
	var tail *tailWriter
	if *last > 0 {
		tail = &tailWriter{max: *last}
		w = tail
	}
	po := view.PrintOptions{UTC: *utc, Fields: fields, Notes: os.Stderr}
	switch *color {
	case "always":
		po.Color = true
	case "auto":
		po.Color = isTerminal(os.Stdout)
	case "never":
	default:
		return fmt.Errorf("%w: --color %q: want auto, always or never", errUsage, *color)
	}
	if *out == "csv" && *follow {
		return fmt.Errorf("%w: -o csv cannot follow (its columns are fixed by the records it reads)", errUsage)
	}
	p := newPrinter(*out, w, po)
	if p == nil {
		return fmt.Errorf("%w: -o %q: want text, json, csv or msgpack", errUsage, *out)
	}
	m, err := view.NewMerger(srcs, f.Since)
	if err != nil {
		return err
	}
	defer m.Close()
	m.Follow = *follow
	if !f.Until.IsZero() && !*follow {
		m.Until(f.Until)
	}
	var bootMark view.Item
	var gaps []view.Item
	var shownBoot view.Boot
	bootPending, anyShown := false, false
	var it view.Item // one for the loop: Print's argument escapes
	for {
		it, err = m.Next()
		if err == io.EOF {
			if err := p.Flush(); err != nil {
				return err
			}
			if tail != nil {
				if err := tail.writeTo(bw); err != nil {
					return err
				}
				tail = nil
				w = bw
				p = newPrinter(*out, bw, po) // for what follows the last N
			}
			if !*follow {
				return bw.Flush()
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			time.Sleep(250 * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		// Markers wait for a record that is shown: the boot it is in and
		// the gaps before it; damage is shown at once, and a record that
		// does not decode after the gaps before it.
		switch it.Kind {
		case view.KindBoot:
			bootMark, bootPending = it, true
			continue
		case view.KindGap:
			if len(f.Streams) == 0 || slices.Contains(f.Streams, it.Source.Stream) {
				gaps = append(gaps, it)
			}
			continue
		case view.KindRecord:
			if !f.Keep(it.Source.Stream, it.Rec) {
				if tp, ok := p.(*view.TextPrinter); ok {
					tp.See(&it) // for its marker of the agent's downtime
				}
				continue
			}
			if tail != nil {
				tail.record()
			}
			if bootPending && (!anyShown || bootMark.Boot != shownBoot) {
				if err := p.Print(&bootMark); err != nil {
					return err
				}
				shownBoot, anyShown = bootMark.Boot, true
			}
			bootPending = false
			if gaps, err = printAll(p, gaps); err != nil {
				return err
			}
		case view.KindBadRecord:
			if gaps, err = printAll(p, gaps); err != nil {
				return err
			}
		}
		if err := p.Print(&it); err != nil {
			if errors.Is(err, syscall.EPIPE) {
				return nil // the reader of our output went away (head, less)
			}
			return err
		}
	}
}

// printAll prints items and returns them emptied.
func printAll(p view.Printer, items []view.Item) ([]view.Item, error) {
	for i := range items {
		if err := p.Print(&items[i]); err != nil {
			return items, err
		}
	}
	return items[:0], nil
}

// newPrinter makes the printer of output format out, or nil.
func newPrinter(out string, w io.Writer, po view.PrintOptions) view.Printer {
	switch out {
	case "text":
		return view.NewTextPrinter(w, po)
	case "json":
		return view.NewJSONPrinter(w, po)
	case "msgpack":
		return view.NewMsgpackPrinter(w, po)
	case "csv":
		return view.NewCSVPrinter(w, po)
	}
	return nil
}

// resolveBoot turns a --boot value into a boot counter.
func resolveBoot(srcs []*view.Source, s string) (uint32, error) {
	boots, err := view.ListBoots(srcs)
	if err != nil {
		return 0, err
	}
	if len(boots) == 0 {
		return 0, fmt.Errorf("--boot %s: the rings hold no records", s)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			i := len(boots) - 1 + int(n)
			if i < 0 {
				return 0, fmt.Errorf("--boot %s: the rings hold %d boots", s, len(boots))
			}
			return boots[i].N, nil
		}
		for _, b := range boots {
			if int64(b.N) == n {
				return b.N, nil
			}
		}
		return 0, fmt.Errorf("--boot %s: no boot with that counter (itiny-read boots lists them)", s)
	}
	var found []view.BootInfo
	for _, b := range boots {
		if strings.HasPrefix(fmt.Sprintf("%x", b.ID[:]), strings.ToLower(s)) {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 1:
		return found[0].N, nil
	case 0:
		return 0, fmt.Errorf("--boot %s: no boot id starts so (itiny-read boots lists them)", s)
	}
	return 0, fmt.Errorf("--boot %s: %d boot ids start so: give more digits", s, len(found))
}

// tailWriter keeps the output of the last max records, with the marker
// lines before each.
type tailWriter struct {
	max     int
	chunks  [][]byte
	records []int // index in chunks where each kept record's output starts
}

func (t *tailWriter) record() {
	t.records = append(t.records, len(t.chunks))
	if len(t.records) > t.max {
		drop := t.records[1]
		t.chunks = t.chunks[drop:]
		t.records = t.records[1:]
		for i := range t.records {
			t.records[i] -= drop
		}
	}
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.chunks = append(t.chunks, append([]byte(nil), p...))
	return len(p), nil
}

func (t *tailWriter) writeTo(w io.Writer) error {
	for _, c := range t.chunks {
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	return nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	var t syscall.Termios
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return e == 0
}

// isMatch reports whether an argument is a field match rather than a path:
// a key, which has no "/", then an operator. The value may hold anything
// (mount~^/data, pidfile=/run/x.pid); a path with an operator in its name
// is given with a "/" before it (./a=b).
func isMatch(a string) bool {
	i := strings.IndexAny(a, "=!<>~")
	return i > 0 && !strings.Contains(a[:i], "/")
}
