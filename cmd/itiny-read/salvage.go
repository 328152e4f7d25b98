package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/itiny/itiny/salvage"
	"github.com/itiny/itiny/view"
)

func salvageCmd(fs *flag.FlagSet, args []string) error {
	to := fs.String("to", "", "write a new data directory here: one clean ring per stream, records keeping their numbers")
	jsonOut := fs.String("json", "", "write the records as JSON lines to this file (- for standard output)")
	bundleMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*to == "") == (*jsonOut == "") {
		return fmt.Errorf("%w: give --to DIR or --json FILE", errUsage)
	}
	in, err := openInput(fs.Args())
	if err != nil {
		return err
	}
	var jw *bufio.Writer
	if *jsonOut != "" {
		var f *os.File = os.Stdout
		if *jsonOut != "-" {
			if f, err = os.OpenFile(*jsonOut, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640); err != nil {
				return err
			}
			defer f.Close()
		}
		jw = bufio.NewWriter(f)
		defer jw.Flush()
	} else if ents, err := os.ReadDir(*to); err == nil && len(ents) > 0 {
		return fmt.Errorf("--to %s: not empty: salvage writes into a new directory", *to)
	}
	for _, src := range in.Sources {
		var res salvage.Result
		if jw != nil {
			res, err = salvage.ToJSON(src, jw)
		} else {
			res, err = salvage.ToRing(src, *to)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", src.Where, err)
		}
		fmt.Fprintf(os.Stderr, "%-8s %s: %s salvaged, %s of damage skipped", src.Stream, src.Where, view.Count(res.Records, "record", "records"), view.Count(res.Damaged, "range", "ranges"))
		if res.Undecodable > 0 {
			fmt.Fprintf(os.Stderr, ", %s skipped", view.Count(res.Undecodable, "record that does not decode", "records that do not decode"))
		}
		fmt.Fprintln(os.Stderr)
	}
	if jw != nil {
		return jw.Flush()
	}
	return nil
}
