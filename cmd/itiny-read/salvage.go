package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
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
		n, lost, err := salvage(src, *to, jw)
		if err != nil {
			return fmt.Errorf("%s: %w", src.Where, err)
		}
		fmt.Fprintf(os.Stderr, "%-8s %s: %d records salvaged, %d ranges of damage skipped\n", src.Stream, src.Where, n, lost)
	}
	if jw != nil {
		return jw.Flush()
	}
	return nil
}

// salvage copies every record of src that reads and decodes, into a new
// ring under dir or as JSON lines to jw.
func salvage(src *view.Source, dir string, jw *bufio.Writer) (n, lost int, err error) {
	r, err := src.Reader()
	if err != nil {
		return 0, 0, err
	}
	var w *ringlog.Writer
	c := codec.Msgpack
	if segs := r.Segments(); len(segs) > 0 {
		c = segs[len(segs)-1].Header.Codec
	}
	if dir != "" {
		var size int64
		for _, s := range r.Segments() {
			size += s.Size
		}
		// Room for everything, whatever the original budget was.
		o := ringlog.Options{Stream: src.Stream, Codec: c, SegmentSize: 1 << 20, Budget: 4<<20 + 2*size}
		if w, err = ringlog.Open(filepath.Join(dir, src.Stream), o); err != nil {
			return 0, 0, err
		}
		defer func() {
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}()
	}
	var rec codec.Record
	var buf []byte
	for {
		e, err := r.Next()
		if err == io.EOF {
			return n, lost, nil
		}
		var d *ringlog.Damage
		if errors.As(err, &d) {
			lost++
			continue
		}
		if err != nil {
			return n, lost, err
		}
		if err := view.Decode(&e, &rec); err != nil {
			lost++
			continue
		}
		rec.Seq = e.Seq
		if w != nil {
			if err := w.AppendSeq(&rec); err != nil {
				return n, lost, err
			}
		} else {
			if buf, err = codec.AppendJSON(buf[:0], &rec); err != nil {
				return n, lost, err
			}
			if _, err := jw.Write(append(buf, '\n')); err != nil {
				return n, lost, err
			}
		}
		n++
	}
}
