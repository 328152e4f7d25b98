package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/jsonw"
	"github.com/itiny/itiny/view"
)

// runsCmd lists the agent's runs, as boots lists the device's boots.
func runsCmd(fs *flag.FlagSet, args []string) error {
	asJSON := fs.Bool("json", false, "print the runs as JSON, each with the configuration in effect")
	in, utc, err := listInput(fs, args)
	if err != nil {
		return err
	}
	runs, err := view.ListRuns(in.Sources)
	if err != nil {
		return err
	}
	if *asJSON {
		b := jsonw.AppendArray(nil, runs, appendRunJSON)
		_, err := os.Stdout.Write(append(jsonw.Indent(nil, b, "", "  "), '\n'))
		return err
	}
	w := os.Stdout
	tw := timeWidth(func(yield func(view.TimeMark) bool) {
		for _, r := range runs {
			if !yield(r.StartClock) || !yield(r.Last.Clock) {
				return
			}
		}
	})
	fmt.Fprintf(w, "%4s %5s  %-*s  %-10s %7s  %8s  %-18s  %-*s  %-14s %7s  %s\n",
		"IDX", "BOOT", tw, "START", "VERSION", "PID", "LENGTH", "END", tw+19, "LAST RECORD", "DOWN", "RELOADS", "COLLECTORS OFF")
	for i := range runs {
		r := &runs[i]
		last := "-" // a stop says it all
		if r.End != view.RunStopped {
			last = whenMarked(r.Last.Wall, r.Last.Clock, *utc) + " " + r.Last.Stream + " " + r.Last.Name
		}
		var off []string
		for _, o := range r.Off {
			off = append(off, o.Name)
		}
		if len(off) == 0 {
			off = []string{"-"}
		}
		fmt.Fprintf(w, "%4d %5d  %-*s  %-10s %7d  %8s  %-18s  %-*s  %-14s %7d  %s\n",
			i-len(runs)+1, r.Boot.N, tw, whenMarked(r.Start, r.StartClock, *utc), r.Version, r.PID, view.ShortDuration(r.Length), endText(r),
			tw+19, last, downText(r, i == len(runs)-1), len(r.Reloads), strings.Join(off, ","))
	}
	return nil
}

// listInput parses the options of a command that lists what the rings
// hold (boots, runs): those fs has, --utc and --bundle-memory; and opens
// its paths.
func listInput(fs *flag.FlagSet, args []string) (in *view.Input, utc *bool, err error) {
	utc = fs.Bool("utc", false, "show times in UTC")
	bundleMemoryFlag(fs)
	if err := parse(fs, args); err != nil {
		return nil, nil, err
	}
	in, err = openInput(fs.Args())
	return in, utc, err
}

// endText is how a run ended, in a word or two: "stopped (SIGTERM)",
// "crashed (panic: ...)".
func endText(r *view.Run) string {
	if (r.End == view.RunStopped || r.End == view.RunCrashed) && r.Reason != "" {
		return r.End.String() + " (" + r.Reason + ")"
	}
	return r.End.String()
}

// downText is the time until the next start: "-" after the last run,
// "?" when it is not known across a reboot (the clock was not
// synchronised, or it went back).
func downText(r *view.Run, last bool) string {
	s := "?"
	switch {
	case last:
		return "-"
	case r.DownKnown:
		s = view.ShortDuration(r.Down)
	}
	if r.Rebooted {
		s += " reboot"
	}
	return s
}

// appendRunJSON appends r as runs --json prints it: times as the records'
// wall times are written (FORMAT.md section 4.2), repaired as the text
// shows them, with start_clock and last_record's clock saying how where
// the rings have clock.sync records (view.TimeMark), durations in seconds, a
// downtime of null after the last run or when it is not known, with
// down_unknown saying why, and the configuration in effect at the run's
// end.
func appendRunJSON(r *view.Run, b []byte) []byte {
	str := func(b []byte, key, v string) []byte { return jsonw.AppendString(append(b, key...), v) }
	wall := func(b []byte, key string, t time.Time) []byte {
		return append(codec.AppendWall(append(b, key+`"`...), t), '"')
	}
	b = append(b, `{"boot":`...)
	b = strconv.AppendUint(b, uint64(r.Boot.N), 10)
	b = append(b, `,"boot_id":"`...)
	b = append(hex.AppendEncode(b, r.Boot.ID[:]), '"')
	b = wall(b, `,"start":`, r.Start)
	if r.StartClock != view.TimeAsIs {
		b = str(b, `,"start_clock":`, r.StartClock.String())
	}
	b = str(b, `,"version":`, r.Version)
	b = strconv.AppendInt(append(b, `,"pid":`...), r.PID, 10)
	b = strconv.AppendBool(append(b, `,"clean_start":`...), r.Clean)
	b = str(b, `,"end":`, r.End.String())
	if r.Reason != "" {
		b = str(b, `,"reason":`, r.Reason)
	}
	b = str(b, `,"cause":`, r.Cause())
	b = wall(b, `,"last_record":{"wall":`, r.Last.Wall)
	if r.Last.Clock != view.TimeAsIs {
		b = str(b, `,"clock":`, r.Last.Clock.String())
	}
	b = str(b, `,"stream":`, r.Last.Stream)
	b = str(b, `,"name":`, r.Last.Name)
	b = jsonw.AppendFloat(append(b, `},"length_s":`...), r.Length.Seconds())
	b = append(b, `,"down_s":`...)
	if r.DownKnown {
		b = jsonw.AppendFloat(b, r.Down.Seconds())
	} else {
		b = append(b, "null"...)
	}
	if r.DownUnknown != "" {
		b = str(b, `,"down_unknown":`, r.DownUnknown)
	}
	b = strconv.AppendBool(append(b, `,"rebooted":`...), r.Rebooted)
	b = append(b, `,"reloads":[`...)
	for i, t := range r.Reloads {
		if i > 0 {
			b = append(b, ',')
		}
		b = wall(b, "", t)
	}
	b = append(b, `],"collectors_off":[`...)
	for i, o := range r.Off {
		if i > 0 {
			b = append(b, ',')
		}
		b = str(b, `{"collector":`, o.Name)
		b = append(str(b, `,"error":`, o.Error), '}')
	}
	b = append(b, ']')
	if r.Config != "" {
		b = str(b, `,"config":`, r.Config)
	}
	if r.ConfigCut {
		b = append(b, `,"config_truncated":true`...)
	}
	b = strconv.AppendInt(append(b, `,"records":`...), int64(r.Records), 10)
	return append(b, '}')
}
