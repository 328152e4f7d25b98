package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/itiny/itiny/internal/jsonw"
	"github.com/itiny/itiny/view"
)

// errCorrupt makes verify exit 1 after printing each ring's health: corruption,
// or segments written by a newer itiny that it could not check.
var errCorrupt = errors.New("corruption found")

func checkAll(args []string) ([]*view.Health, error) {
	in, err := openInput(args)
	if err != nil {
		return nil, err
	}
	var rings []*view.Health
	for _, s := range in.Sources {
		h, err := view.Check(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Where, err)
		}
		rings = append(rings, h)
	}
	return rings, nil
}

// printJSON prints each ring's health, for verify --json and stats
// --json: as encoding/json's MarshalIndent would (view/json.go).
func printJSON(rings []*view.Health) {
	b := jsonw.AppendArray(nil, rings, func(h **view.Health, b []byte) []byte { return (*h).AppendJSON(b) })
	os.Stdout.Write(append(jsonw.Indent(nil, b, "", "  "), '\n'))
}

func verifyCmd(fs *flag.FlagSet, args []string) error {
	asJSON := fs.Bool("json", false, "print each ring's health as JSON")
	bundleMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	rings, err := checkAll(fs.Args())
	if err != nil {
		return err
	}
	corrupt := 0
	for _, r := range rings {
		corrupt += r.Corrupt + r.Unsupported
	}
	if *asJSON {
		printJSON(rings)
	} else {
		for _, r := range rings {
			fmt.Printf("%-8s %s: %s, seq %d-%d, in %s: %s\n", r.Stream, r.Where, view.Count(r.Records, "record", "records"), r.FirstSeq, r.LastSeq, view.Count(r.Segments, "segment", "segments"), r.Verdict())
			if r.Retired > 0 {
				fmt.Printf("  %-15s %s\n", "retired", r.RetiredText())
			}
			for _, p := range r.Damage {
				fmt.Printf("  %-15s %s", p.Kind, p.Segment)
				if p.Length > 0 {
					fmt.Printf(" offset %d length %d", p.Offset, p.Length)
				}
				fmt.Printf(": %s\n", p.Detail)
			}
			for _, g := range r.Gaps {
				fmt.Printf("  %-15s %s\n", "gap", g.AppendText(nil))
			}
		}
	}
	if corrupt > 0 {
		return errCorrupt
	}
	return nil
}

func statsCmd(fs *flag.FlagSet, args []string) error {
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	utc := fs.Bool("utc", false, "show times in UTC")
	bundleMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	rings, err := checkAll(fs.Args())
	if err != nil {
		return err
	}
	if *asJSON {
		printJSON(rings)
		return nil
	}
	wide := view.StreamWidth(rings, func(r *view.Health) string { return r.Stream })
	fmt.Printf("%-*s %8s %10s %5s  %-23s  %-23s  %10s %9s  %-6s %8s  %s\n", wide, "STREAM", "RECORDS", "BYTES", "SEGS", "OLDEST RECORD", "NEWEST RECORD", "SPAN", "REC/HOUR", "BOOTS", "RETIRED", "GAPS")
	for _, r := range rings {
		var boots []string
		for _, b := range r.Boots {
			boots = append(boots, fmt.Sprint(b))
		}
		first, last := "-", "-"
		if r.Records > 0 {
			first, last = when(r.First.Time, *utc), when(r.Last.Time, *utc)
		}
		fmt.Printf("%-*s %8d %10d %5d  %-23s  %-23s  %10s %9.0f  %-6s %8d  %s\n", wide, r.Stream, r.Records, r.Bytes, r.Segments, first, last, r.Span, r.Rate, strings.Join(boots, ","), r.Retired, r.LossText())
	}
	for _, r := range rings {
		printWrites(r, wide)
	}
	return nil
}

// printWrites prints what the agent's records in ring r say it wrote,
// a day's worth over the time they were measured (docs/DESIGN.md section
// 30): records, as stored and their framing, what the kernel was handed
// and what it wrote, syncs, and what was handed and written per record
// byte.
func printWrites(r *view.Health, wide int) {
	if len(r.Writes) == 0 {
		return
	}
	fmt.Printf("\nWrites a day, by the agent's records in %s (%s):\n", r.Stream, r.Where)
	fmt.Printf("%-*s %-20s %11s %11s %11s %11s %11s %9s %7s %7s\n", wide, "STREAM", "WINDOW", "RECORDS", "STORED", "FRAMING", "HANDED", "KERNEL", "SYNCS", "HANDED/", "KERNEL/")
	why := ""
	for i := range r.Writes {
		w := &r.Writes[i]
		name, kernel, kernelAmp := w.Stream, "-", "-"
		if name == "" {
			name = "(agent)"
			if w.WriteKnown {
				kernel, kernelAmp = view.SizeText(w.PerDay(w.WriteBytes)), fmt.Sprintf("%.2f", w.KernelAmplification)
			} else {
				kernel, why = "?", w.WriteError
			}
		}
		fmt.Printf("%-*s %-20s %11s %11s %11s %11s %11s %9.0f %7.2f %7s\n", wide, name, w.Window(), view.SizeText(w.PerDay(w.RecordBytes)),
			view.SizeText(w.PerDay(w.StoredBytes)), view.SizeText(w.PerDay(w.FramingBytes)), view.SizeText(w.PerDay(w.HandedBytes)),
			kernel, w.PerDay(w.Syncs), w.Amplification, kernelAmp)
	}
	fmt.Println("HANDED/ and KERNEL/ are bytes per record byte; KERNEL is /proc/self/io's write_bytes.")
	if why != "" {
		fmt.Printf("KERNEL unknown: %s\n", why)
	}
}
