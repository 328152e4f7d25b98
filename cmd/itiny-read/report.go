package main

import (
	"bufio"
	"flag"
	"fmt"
	"github.com/itiny/itiny/internal/version"
	"io"
	"os"
	"time"

	"github.com/itiny/itiny/report"
	"github.com/itiny/itiny/view"
)

func reportCmd(fs *flag.FlagSet, args []string) error {
	out := fs.String("o", "", "the report file, - for standard output (default: itiny-report-HOST-YYYYMMDD-HHMMSS.html)")
	since := fs.String("since", "", "chart and list records at or after this time: 2026-11-25 14:00, today, 2h ago, -90m")
	until := fs.String("until", "", "records before this time (same forms as --since)")
	utc := fs.Bool("utc", false, "show times in UTC")
	bundleMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	now := time.Now()
	o := report.Options{Location: time.Local, Generated: now, Generator: "itiny-read " + version.String}
	if *utc {
		o.Location = time.UTC
	}
	var err error
	if *since != "" {
		if o.Since, err = view.ParseTime(*since, now, o.Location); err != nil {
			return fmt.Errorf("%w: --since: %v", errUsage, err)
		}
	}
	if *until != "" {
		if o.Until, err = view.ParseTime(*until, now, o.Location); err != nil {
			return fmt.Errorf("%w: --until: %v", errUsage, err)
		}
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
	// Never over an existing file: a report may be all that is left of
	// a ring.
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	cw := &countWriter{w: f}
	err = report.Write(cw, in.Sources, o)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d bytes\n", name, cw.n)
	return nil
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
