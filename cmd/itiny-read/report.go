package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/itiny/itiny/internal/atomicfile"
	"github.com/itiny/itiny/internal/version"

	"github.com/itiny/itiny/report"
	"github.com/itiny/itiny/view"
)

func reportCmd(fs *flag.FlagSet, args []string) error {
	out := fs.String("o", "", "the report file, replaced if it exists; - for standard output (default: itiny-report-HOST-YYYYMMDD-HHMMSS.html)")
	times := timeFlags(fs, "records")
	bundleMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	now := time.Now()
	o := report.Options{Location: times.location(), Generated: now, Generator: "itiny-read " + version.String}
	var err error
	if o.Since, o.Until, err = times.window(now); err != nil {
		return err
	}
	in, err := openInput(fs.Args())
	if err != nil {
		return err
	}
	o.Problems = in.Problems
	host, _ := os.Hostname()
	o.Title = "itiny report: " + host
	if *out == "-" {
		w := bufio.NewWriter(os.Stdout)
		if err := report.Write(w, in.Sources, o); err != nil {
			return err
		}
		return w.Flush()
	}
	name := *out
	if name == "" {
		name = fmt.Sprintf("itiny-report-%s-%s.html", host, now.UTC().Format("20060102-150405"))
	}
	n, err := writeReplacing(name, func(w io.Writer) error { return report.Write(w, in.Sources, o) })
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", name, view.Count(n, "byte", "bytes"))
	return nil
}

// writeReplacing writes the file name through write, into a temporary
// file beside it renamed over it once complete: a report made again
// replaces the one before, and one that fails leaves no half file, nor
// harms the one before. A name that is not a regular file (/dev/stdout)
// is written as it is. It returns the bytes written.
func writeReplacing(name string, write func(io.Writer) error) (int64, error) {
	var n int64
	err := atomicfile.Replace(name, atomicfile.Options{Perm: 0o640, Direct: true}, func(w io.Writer) error {
		cw := &countWriter{w: w}
		err := write(cw)
		n = cw.n
		return err
	})
	return n, err
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
