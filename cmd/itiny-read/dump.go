package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/itiny/itiny/view"
)

func dumpCmd(fs *flag.FlagSet, args []string) error {
	var streams, sources, matches, fields multi
	var boot bootOption
	var last countOption
	fs.Var(&streams, "stream", "only this stream (repeatable, or comma-separated)")
	fs.Var(&sources, "t", "only records of this source, their src (repeatable, or comma-separated)")
	fs.Var(&sources, "source", "same as -t")
	times := timeFlags(fs, "records")
	fs.Var(&last, "n", "only the last N records, at most N held in memory until the end (-n alone: 10; -n all: every record); with -o csv, the last N rows")
	fs.Var(&last, "lines", "same as -n")
	boot.add(fs, "records")
	level := fs.String("p", "", "records at this `level` or more severe, or in a range FROM..TO (warning..err): emerg, alert, crit, err, warning (warn), notice, info, debug, or 0-7")
	fs.StringVar(level, "level", "", "same as -p")
	fs.StringVar(level, "priority", "", "same as -p")
	reverse := fs.Bool("r", false, "newest first: the records shown are held in memory until the end, so -r stops past "+heldLimit+" and -r -n N holds only the newest N")
	fs.BoolVar(reverse, "reverse", false, "same as -r")
	end := fs.Bool("e", false, "jump to the end: the last 1000 records unless -n says how many, and the pager starts at the end")
	fs.BoolVar(end, "pager-end", false, "same as -e")
	noPager := fs.Bool("no-pager", false, "do not page: on a terminal, output goes through $PAGER (else less -R) unless this, -f, or a PAGER that is empty or cat")
	grep := fs.String("grep", "", "records whose name or a string field matches this regular expression")
	fs.Var(&matches, "match", "field match (repeatable): key=value, key!=value, key>N, key<N, key>=N, key<=N, key~regex")
	out := fs.String("o", "text", "output: text, json (one record per line), csv (a column per field, a row per sample; the table is held in memory until the end, up to "+heldLimit+"), msgpack")
	fs.StringVar(out, "output", "text", "same as -o")
	fs.Var(&fields, "fields", "only records with at least one of these fields (comma-separated), showing those fields in this order")
	follow := fs.Bool("f", false, "follow: print the last 10 records (or -n N), then records as they are written, across rotations")
	fs.BoolVar(follow, "follow", false, "same as -f")
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
	f := view.Filter{Streams: streams, Sources: sources, Fields: fields}
	var err error
	if f.Since, f.Until, err = times.window(time.Now()); err != nil {
		return err
	}
	if *level != "" {
		if f.MinLevel, f.MaxLevel, err = view.ParseLevels(*level); err != nil {
			return fmt.Errorf("%w: -p/--level: %v", errUsage, err)
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
	if *reverse && *follow {
		return fmt.Errorf("%w: -r and -f: newest first cannot follow", errUsage)
	}
	if !last.set && *follow {
		last.n, last.set = 10, true // as journalctl
	}
	if !last.set && *end {
		last.n, last.set = 1000, true
	}
	if *out == "csv" && *follow {
		return fmt.Errorf("%w: -o csv cannot follow (its columns are fixed by the records it reads)", errUsage)
	}
	terminal := isTerminal(os.Stdout)
	if *out == "msgpack" && terminal {
		return fmt.Errorf("%w: -o msgpack writes binary records: not to a terminal (redirect it to a file or a pipe)", errUsage)
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
	if err := boot.apply(&f, srcs); err != nil {
		return err
	}
	po := view.PrintOptions{UTC: times.utc, Fields: fields, Notes: os.Stderr, Reverse: *reverse, StreamWidth: view.StreamWidth(srcs, func(s *view.Source) string { return s.Stream })}
	if *out == "csv" && last.set && last.n > 0 {
		po.Last = last.n
	}
	switch *color {
	case "always":
		po.Color = true
	case "auto":
		po.Color = terminal
	case "never":
	default:
		return fmt.Errorf("%w: --color %q: want auto, always or never", errUsage, *color)
	}
	if newPrinter(*out, io.Discard, po) == nil {
		return fmt.Errorf("%w: -o %q: want text, json, csv or msgpack", errUsage, *out)
	}
	// The boots' clocks, from every ring, whatever --stream shows.
	clocks, err := view.LearnClocks(in.Sources)
	if err != nil {
		return err
	}
	// A stream's rollup tiers where its samples are not kept (the stream
	// of each record says its tier); --stream TIER shows a tier whole.
	if err := planTiers(clocks, srcs, &f, view.TierOptions{}); err != nil {
		return err
	}
	// show shows the records on dst, from the start: again, should the
	// pager not start.
	show := func(dst io.Writer) error {
		m, err := newMerger(clocks, srcs, &f, *follow)
		if err != nil {
			return err
		}
		defer m.Close()
		return dump(m, &f, dst, *out, po, last, *follow)
	}
	err = page(pagerCommand(os.LookupEnv, exec.LookPath, terminal, *noPager, *follow, *end), show)
	if errors.Is(err, syscall.EPIPE) {
		return nil // the reader of our output went away (head)
	}
	return err
}

// maxHeld bounds the memory that -r and -o csv hold: the output of the
// records -r shows, newest first once all are read; the table CSV
// writes once complete. Past it they stop with an error that says how
// to show less, rather than take the device's memory. -n N bounds it by
// N records (rows) instead.
const maxHeld = 32 << 20

const heldLimit = "32 MiB" // maxHeld, for people

// errHeld is the error past maxHeld.
func errHeld(what string) error {
	return fmt.Errorf("%s holds what it shows in memory until the end, and this is over %s: show less with -n N (the last N), -S/-U, -b, -p, -t or --stream", what, heldLimit)
}

// dump prints the records of m that f keeps to dst, with the markers
// before them: all, or the last ones (and newest first) when last is set
// or po.Reverse; then, when following, those written after. CSV holds
// its table itself, the last po.Last rows.
func dump(m *view.Merger, f *view.Filter, dst io.Writer, out string, po view.PrintOptions, last countOption, follow bool) error {
	bw := bufio.NewWriterSize(dst, 64<<10)
	var scratch bytes.Buffer
	var buf *recordBuffer
	var p view.Printer
	csvOut := out == "csv"
	if !csvOut && (last.set && last.n >= 0 || po.Reverse) {
		buf = &recordBuffer{max: -1, boots: map[uint32][]byte{}}
		if last.set {
			buf.max = last.n
		}
		p = newPrinter(out, &scratch, po)
	} else {
		p = newPrinter(out, bw, po)
	}
	noRows := csvOut && last.set && last.n == 0 // -n 0: an empty table
	// emit prints an item of boot, into buf when there is one.
	emit := func(it *view.Item, boot uint32) error {
		if noRows && it.Kind == view.KindRecord {
			return nil
		}
		if err := p.Print(it); err != nil {
			return err
		}
		if buf != nil {
			buf.add(it.Kind, boot, scratch.Bytes())
			scratch.Reset()
			if buf.max < 0 && buf.held > maxHeld {
				return errHeld("-r")
			}
		} else if c, ok := p.(*view.CSVPrinter); ok && c.Held() > maxHeld {
			return errHeld("-o csv")
		}
		return nil
	}
	var bootMark view.Item
	var gaps []view.Item
	var shownBoot view.Boot
	bootPending, anyShown := false, false
	var it view.Item // one for the loop: Print's argument escapes
	var err error
	for {
		it, err = m.Next()
		if err == io.EOF {
			if err := p.Flush(); err != nil {
				return err
			}
			if buf != nil {
				if err := buf.writeTo(bw, po.Reverse); err != nil {
					return err
				}
				buf = nil
				p = newPrinter(out, bw, po) // for what follows the last N
			}
			if err := bw.Flush(); err != nil || !follow {
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
			if bootPending && (!anyShown || bootMark.Boot != shownBoot) {
				if err := emit(&bootMark, bootMark.Boot.N); err != nil {
					return err
				}
				shownBoot, anyShown = bootMark.Boot, true
			}
			bootPending = false
			fallthrough
		case view.KindBadRecord:
			for i := range gaps {
				if err := emit(&gaps[i], shownBoot.N); err != nil {
					return err
				}
			}
			gaps = gaps[:0]
		}
		if err := emit(&it, shownBoot.N); err != nil {
			return err
		}
	}
}

// newMerger reads srcs merged, passing over the segments out of f's
// window (unless following) and those of rollup tiers before the time
// f.Tiers reads them from, with wall times repaired by clocks.
func newMerger(clocks *view.Clocks, srcs []*view.Source, f *view.Filter, follow bool) (*view.Merger, error) {
	m, err := view.NewMerger(f.Tiers.Sources(srcs), f.Since)
	if err != nil {
		return nil, err
	}
	m.Clocks, m.Follow = clocks, follow
	if !f.Until.IsZero() && !follow {
		m.Until(f.Until)
	}
	if !follow {
		f.Tiers.PassOver(m)
	}
	return m, nil
}

// planTiers sets f.Tiers: which tier of each stream with rollup tiers
// (metrics.1m, metrics.1h) each part of the time line of srcs is read
// from, as o prefers (view.PlanTiers).
func planTiers(clocks *view.Clocks, srcs []*view.Source, f *view.Filter, o view.TierOptions) error {
	t, err := view.PlanTiers(srcs, clocks, o)
	f.Tiers = t
	return err
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
		return 0, fmt.Errorf("-b %s: the rings hold no records", s)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			i := len(boots) - 1 + int(n)
			if i < 0 {
				return 0, fmt.Errorf("-b %s: the rings hold %s", s, view.Count(len(boots), "boot", "boots"))
			}
			return boots[i].N, nil
		}
		for _, b := range boots {
			if int64(b.N) == n {
				return b.N, nil
			}
		}
		return 0, fmt.Errorf("-b %s: no boot with that counter (itiny-read boots lists them)", s)
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
		return 0, fmt.Errorf("-b %s: no boot id starts so (itiny-read boots lists them)", s)
	}
	return 0, fmt.Errorf("-b %s: %d boot ids start so: give more digits", s, len(found))
}

// A recordBuffer holds the output of the last max records (of every one
// when max < 0), each with the marker lines before it, for -n and -r.
type recordBuffer struct {
	max    int
	groups []outGroup
	cur    outGroup          // markers since the last record
	boots  map[uint32][]byte // each boot's marker line, for -r
	held   int               // bytes held in groups, roughly
}

// groupCost is what a group costs beside its bytes: its header and its
// slices'.
const groupCost = 104

// An outGroup is the output of a record and of the markers before it.
type outGroup struct {
	boot                 uint32
	bootLine, marks, rec []byte
}

// add adds the output p of an item of kind in boot.
func (b *recordBuffer) add(kind view.Kind, boot uint32, p []byte) {
	p = bytes.Clone(p)
	switch kind {
	case view.KindBoot:
		b.cur.bootLine, b.boots[boot] = p, p
	case view.KindRecord:
		b.cur.boot, b.cur.rec = boot, p
		b.groups = append(b.groups, b.cur)
		b.held += b.cur.size()
		b.cur = outGroup{}
		if b.max >= 0 && len(b.groups) > b.max {
			b.held -= b.groups[0].size()
			b.groups[0] = outGroup{}
			b.groups = b.groups[1:]
		}
	default:
		b.cur.marks = append(b.cur.marks, p...)
	}
}

func (g *outGroup) size() int { return groupCost + len(g.bootLine) + len(g.marks) + len(g.rec) }

// writeTo writes what b holds in order, or newest first: each boot's
// marker line then above its newest record, and the markers that came
// before a record below it.
func (b *recordBuffer) writeTo(w io.Writer, reverse bool) error {
	var parts [][]byte
	if !reverse {
		for _, g := range b.groups {
			parts = append(parts, g.bootLine, g.marks, g.rec)
		}
		parts = append(parts, b.cur.bootLine, b.cur.marks)
	} else {
		parts = append(parts, b.cur.marks)
		for i := len(b.groups) - 1; i >= 0; i-- {
			g := b.groups[i]
			if i == len(b.groups)-1 || b.groups[i+1].boot != g.boot {
				parts = append(parts, b.boots[g.boot])
			}
			parts = append(parts, g.rec, g.marks)
		}
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
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
