package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

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
		js := make([]jsonRun, len(runs))
		for i := range runs {
			js[i] = newJSONRun(&runs[i])
		}
		b, err := json.MarshalIndent(js, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	}
	w := os.Stdout
	fmt.Fprintf(w, "%4s %5s  %-23s  %-10s %7s  %8s  %-18s  %-42s  %-14s %7s  %s\n",
		"IDX", "BOOT", "START", "VERSION", "PID", "LENGTH", "END", "LAST RECORD", "DOWN", "RELOADS", "COLLECTORS OFF")
	for i := range runs {
		r := &runs[i]
		last := "-" // a stop says it all
		if r.End != view.RunStopped {
			last = when(r.Last.Wall, *utc) + " " + r.Last.Stream + " " + r.Last.Name
		}
		var off []string
		for _, o := range r.Off {
			off = append(off, o.Name)
		}
		if len(off) == 0 {
			off = []string{"-"}
		}
		fmt.Fprintf(w, "%4d %5d  %-23s  %-10s %7d  %8s  %-18s  %-42s  %-14s %7d  %s\n",
			i-len(runs)+1, r.Boot.N, when(r.Start, *utc), r.Version, r.PID, view.ShortDuration(r.Length), endText(r),
			last, downText(r, i == len(runs)-1), len(r.Reloads), strings.Join(off, ","))
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

// endText is how a run ended, in a word or two: "stopped (SIGTERM)".
func endText(r *view.Run) string {
	if r.End == view.RunStopped && r.Reason != "" {
		return r.End.String() + " (" + r.Reason + ")"
	}
	return r.End.String()
}

// downText is the time until the next start: "-" after the last run,
// "?" when the wall clock went back across a reboot.
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

// jsonRun is a run as runs --json prints it: durations in seconds, and a
// downtime of null after the last run or when it is not known.
type jsonRun struct {
	Boot      uint32      `json:"boot"`
	BootID    string      `json:"boot_id"`
	Start     time.Time   `json:"start"`
	Version   string      `json:"version"`
	PID       int64       `json:"pid"`
	Clean     bool        `json:"clean_start"`
	End       string      `json:"end"`
	Reason    string      `json:"reason,omitempty"`
	Cause     string      `json:"cause"`
	Last      jsonRecord  `json:"last_record"`
	Length    float64     `json:"length_s"`
	Down      *float64    `json:"down_s"`
	Rebooted  bool        `json:"rebooted"`
	Reloads   []time.Time `json:"reloads"`
	Off       []jsonOff   `json:"collectors_off"`
	Config    string      `json:"config,omitempty"`
	ConfigCut bool        `json:"config_truncated,omitempty"`
	Records   int         `json:"records"`
}

type jsonRecord struct {
	Wall   time.Time `json:"wall"`
	Stream string    `json:"stream"`
	Name   string    `json:"name"`
}

type jsonOff struct {
	Collector string `json:"collector"`
	Error     string `json:"error"`
}

func newJSONRun(r *view.Run) jsonRun {
	j := jsonRun{Boot: r.Boot.N, BootID: fmt.Sprintf("%x", r.Boot.ID[:]), Start: r.Start, Version: r.Version, PID: r.PID,
		Clean: r.Clean, End: r.End.String(), Reason: r.Reason, Cause: r.Cause(),
		Last:   jsonRecord{r.Last.Wall, r.Last.Stream, r.Last.Name},
		Length: r.Length.Seconds(), Rebooted: r.Rebooted, Reloads: r.Reloads, Off: []jsonOff{},
		Config: r.Config, ConfigCut: r.ConfigCut, Records: r.Records}
	if r.DownKnown {
		d := r.Down.Seconds()
		j.Down = &d
	}
	if j.Reloads == nil {
		j.Reloads = []time.Time{}
	}
	for _, o := range r.Off {
		j.Off = append(j.Off, jsonOff{o.Name, o.Error})
	}
	return j
}
