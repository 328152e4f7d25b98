package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/itiny/itiny/internal/atomicfile"
	"github.com/itiny/itiny/view"
)

const coresUsage = "cores [--utc] [--extract SEQ -o FILE] [PATH...]"

// coresCmd lists the crashed processes the rings hold, or writes one's
// minidump out: an ELF core that gdb reads with the executable.
func coresCmd(fs *flag.FlagSet, args []string) error {
	extract := fs.String("extract", "", "write the minidump of this `SEQ` (the SEQ column) to the file -o names")
	out := fs.String("o", "", "the `FILE` --extract writes (replaced)")
	in, utc, err := listInput(fs, args)
	if err != nil {
		return err
	}
	if *extract != "" || *out != "" {
		seq, err := strconv.ParseUint(*extract, 10, 64)
		if err != nil || seq == 0 || *out == "" {
			return fmt.Errorf("%w: --extract takes a SEQ of the list (a positive number, got %q) and -o a FILE", errUsage, *extract)
		}
		return extractCore(in, seq, *out)
	}
	cores, err := view.ListCores(in.Sources)
	if err != nil {
		return err
	}
	w := os.Stdout
	fmt.Fprintf(w, "%-23s  %-16s %7s %7s  %-8s %7s %6s %9s %6s  %s\n", "TIME", "EXE", "PID", "TID", "SIGNAL", "THREADS", "STACKS", "SIZE", "SEQ", "NOTE")
	for _, c := range cores {
		if c.Lost {
			fmt.Fprintf(w, "%-23s  %-16s %7s %7s  %-8s %7s %6s %9s %6s  %s not kept (per_hour, the spool full, or busy)\n", when(c.Wall, *utc), "-", "-", "-", "-", "-", "-", "-", "-", view.Count(c.Dropped, "crash", "crashes"))
			continue
		}
		seq, note := "-", ""
		switch {
		case c.Seq != 0 && c.Held:
			seq = strconv.FormatUint(c.Seq, 10)
		case c.Seq != 0:
			seq, note = strconv.FormatUint(c.Seq, 10), "minidump gone from the cores stream; "
		}
		// The crash's own time, and its boot when the agent stored it in
		// a later one.
		t := c.Wall
		if !c.Time.IsZero() {
			t = c.Time
		}
		if c.CrashBoot != "" && strings.ReplaceAll(c.CrashBoot, "-", "") != hex.EncodeToString(c.Boot.ID[:]) {
			note += "crashed in boot " + c.CrashBoot + "; "
		}
		if c.Dropped > 0 {
			note += view.Count(c.Dropped, "crash", "crashes") + " before it not kept; "
		}
		if c.Error != "" {
			note += c.Error + "; "
		}
		if note == "" {
			note = "-"
		} else {
			note = note[:len(note)-2]
		}
		fmt.Fprintf(w, "%-23s  %-16s %7d %7d  %-8s %7d %6d %9d %6s  %s\n", when(t, *utc), c.Exe, c.PID, c.TID, c.Signal, c.Threads, c.Stacks, c.Size, seq, note)
	}
	return nil
}

// extractCore writes minidump seq to path, through a temporary file: a
// minidump with a part missing leaves no file.
func extractCore(in *view.Input, seq uint64, path string) error {
	var n int64
	// 0600: a crashed process's memory.
	err := atomicfile.Replace(path, atomicfile.Options{Perm: 0o600, Direct: true}, func(w io.Writer) (err error) {
		n, err = view.ExtractCore(in.Sources, seq, w)
		return err
	})
	if err != nil {
		if errors.Is(err, view.ErrNoCore) {
			return fmt.Errorf("%w (itiny-read cores lists them)", err)
		}
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: minidump %d, %s (gdb EXECUTABLE %s)\n", path, seq, view.Count(n, "byte", "bytes"), path)
	return nil
}
