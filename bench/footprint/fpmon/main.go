// Command fpmon samples processes' memory and CPU time once a second for
// the footprint benchmark (bench/footprint.sh) and summarizes them.
//
//	fpmon -duration 60s [-raw FILE] [-size LABEL=PATH ...] LABEL=PID ...
//
// Every interval it reads, for each process, VmRSS, RssAnon, RssFile and
// VmHWM from /proc/PID/status, and its CPU time: the sum over its threads
// of /proc/PID/task/TID/schedstat's first field (nanoseconds on a CPU,
// exact), and utime+stime from /proc/PID/stat (clock ticks, as ps shows).
// Per-second samples go to -raw; at the end one "summary" line per process
// goes to stdout, with the window's CPU time and RSS min/median/max.
// -size tracks the bytes of a file or directory tree at the window's start
// and end (the growth over the window).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

type proc struct {
	label, pid      string
	rss, anon, file []int64
	cpu             []int64 // schedstat ns at each sample
	hwm             int64
	cpu0, cpu1      int64 // schedstat ns
	tick0, tick1    int64 // utime+stime ticks
	gone            bool
}

type sized struct {
	label, path string
	b0, b1      int64
}

func main() {
	dur := flag.Duration("duration", 60*time.Second, "window length")
	every := flag.Duration("interval", time.Second, "sampling interval")
	raw := flag.String("raw", "", "append per-interval samples to this file")
	var sizes multi
	flag.Var(&sizes, "size", "LABEL=PATH: bytes of a file or tree at start and end (repeatable)")
	flag.Parse()
	var ps []*proc
	for _, a := range flag.Args() {
		l, p, ok := strings.Cut(a, "=")
		if !ok {
			fmt.Fprintln(os.Stderr, "fpmon: want LABEL=PID, got", a)
			os.Exit(2)
		}
		ps = append(ps, &proc{label: l, pid: p})
	}
	var ss []*sized
	for _, a := range sizes {
		l, p, _ := strings.Cut(a, "=")
		ss = append(ss, &sized{label: l, path: p})
	}
	var rw *bufio.Writer
	if *raw != "" {
		f, err := os.OpenFile(*raw, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fpmon:", err)
			os.Exit(1)
		}
		defer f.Close()
		rw = bufio.NewWriter(f)
		defer rw.Flush()
	}
	start := time.Now()
	for _, s := range ss {
		s.b0 = treeBytes(s.path)
	}
	n := int(*dur / *every)
	for i := 0; i <= n; i++ {
		if i > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i) * *every)))
		}
		t := time.Since(start).Seconds()
		for _, p := range ps {
			if p.gone {
				continue
			}
			st, err := status(p.pid)
			cpu, cerr := schedNS(p.pid)
			ticks, terr := statTicks(p.pid)
			if err != nil || cerr != nil || terr != nil {
				p.gone = true
				if rw != nil {
					fmt.Fprintf(rw, "t=%.1f label=%s gone\n", t, p.label)
				}
				continue
			}
			if i == 0 {
				p.cpu0, p.tick0 = cpu, ticks
			}
			p.cpu1, p.tick1 = cpu, ticks
			p.cpu = append(p.cpu, cpu)
			p.rss = append(p.rss, st["VmRSS"])
			p.anon = append(p.anon, st["RssAnon"])
			p.file = append(p.file, st["RssFile"])
			p.hwm = st["VmHWM"]
			if rw != nil {
				fmt.Fprintf(rw, "t=%.1f label=%s rss_kb=%d anon_kb=%d file_kb=%d hwm_kb=%d threads=%d cpu_ns=%d cpu_ticks=%d\n",
					t, p.label, st["VmRSS"], st["RssAnon"], st["RssFile"], st["VmHWM"], st["Threads"], cpu, ticks)
			}
		}
	}
	window := time.Since(start).Seconds()
	for _, s := range ss {
		s.b1 = treeBytes(s.path)
	}
	hz := int64(100) // USER_HZ on Linux
	for _, p := range ps {
		if len(p.rss) == 0 {
			fmt.Printf("summary label=%s missing=1\n", p.label)
			continue
		}
		// CPU per interval: its median is robust to a one-off burst.
		var d []int64
		for i := 1; i < len(p.cpu); i++ {
			d = append(d, p.cpu[i]-p.cpu[i-1])
		}
		med, mx := int64(0), int64(0)
		if len(d) > 0 {
			med, mx = median(d), maxOf(d)
		}
		fmt.Printf("summary label=%s pid=%s window_s=%.2f samples=%d gone=%t rss_min_kb=%d rss_med_kb=%d rss_max_kb=%d anon_med_kb=%d anon_max_kb=%d file_med_kb=%d hwm_kb=%d cpu_ns=%d cpu_interval_med_ns=%d cpu_interval_max_ns=%d cpu_ticks_s=%.2f\n",
			p.label, p.pid, window, len(p.rss), p.gone, minOf(p.rss), median(p.rss), maxOf(p.rss),
			median(p.anon), maxOf(p.anon), median(p.file), p.hwm, p.cpu1-p.cpu0, med, mx, float64(p.tick1-p.tick0)/float64(hz))
	}
	for _, s := range ss {
		fmt.Printf("size label=%s window_s=%.2f bytes_start=%d bytes_end=%d\n", s.label, window, s.b0, s.b1)
	}
}

// status returns the kB figures and counts of /proc/PID/status.
func status(pid string) (map[string]int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		f := bytes.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
			m[string(k)] = n
		}
	}
	if _, ok := m["VmRSS"]; !ok {
		return nil, fmt.Errorf("%s: no VmRSS (a zombie?)", pid)
	}
	return m, nil
}

// schedNS sums the CPU time of the process's threads, in nanoseconds.
func schedNS(pid string) (int64, error) {
	tids, err := os.ReadDir("/proc/" + pid + "/task")
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, t := range tids {
		b, err := os.ReadFile("/proc/" + pid + "/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // a thread that just exited
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	return sum, nil
}

// statTicks returns utime+stime of /proc/PID/stat, in clock ticks.
func statTicks(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// after ")": state(3) ... utime is field 14, stime 15 (1-based, whole line)
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, nil
}

func treeBytes(path string) int64 {
	var n int64
	filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func sorted(v []int64) []int64 {
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}
func median(v []int64) int64 { s := sorted(v); return s[len(s)/2] }
func minOf(v []int64) int64  { return sorted(v)[0] }
func maxOf(v []int64) int64  { s := sorted(v); return s[len(s)-1] }
