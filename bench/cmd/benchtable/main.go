// Command benchtable turns the output of bench/append.sh's go test runs
// (read from standard input) into a markdown table: per sub-benchmark of
// BenchmarkAppend, the median over its runs of ns/record, MB/s and
// allocs/op, records/s derived from the median ns, and the ratio of
// records/s against the zerolog and zap peers measured in the same run.
// Every row survives SIGKILL: each record is in the kernel's page cache
// before the call returns, so the ratios compare equal durability.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

const (
	zerolog = "peer/zerolog+lumberjack"
	zap     = "peer/zap+lumberjack"
)

// goals are the least records/s each ring row must reach, as a multiple
// of zerolog's.
var goals = map[string]float64{
	"ring/msgpack/stage": 3,
	"ring/json/stage":    1.5,
}

type row struct {
	name                string
	ns, mbs, allocs, bs []float64
}

func main() {
	var rows []*row
	byName := map[string]*row{}
	var notes []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		t := sc.Text()
		if strings.HasPrefix(t, "# ") {
			notes = append(notes, t[2:]) // the load average
		}
		f := strings.Fields(t)
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkAppend/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkAppend/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the -GOMAXPROCS suffix
			}
		}
		r := byName[name]
		if r == nil {
			r = &row{name: name}
			byName[name] = r
			rows = append(rows, r)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				r.ns = append(r.ns, v)
			case "MB/s":
				r.mbs = append(r.mbs, v)
			case "allocs/op":
				r.allocs = append(r.allocs, v)
			case "B/op":
				r.bs = append(r.bs, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no BenchmarkAppend results on standard input")
		os.Exit(1)
	}
	rate := func(name string) float64 {
		if r := byName[name]; r != nil && len(r.ns) > 0 {
			return 1e9 / median(r.ns)
		}
		return 0
	}
	zl, zp := rate(zerolog), rate(zap)
	// The ring's rows first, in the order run, then the peers.
	slices.SortStableFunc(rows, func(a, b *row) int {
		return isPeer(a.name) - isPeer(b.name)
	})

	fmt.Println("| benchmark | survives SIGKILL | survives power loss | ns/record | records/s | MB/s | allocs/op | B/op | × zerolog | × zap | goal |")
	fmt.Println("|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|")
	for _, r := range rows {
		rs := rate(r.name)
		goal := ""
		if g, ok := goals[r.name]; ok {
			verdict := "**MISSED**"
			if zl > 0 && rs >= g*zl {
				verdict = "met"
			}
			goal = fmt.Sprintf("≥ %g× zerolog: %s", g, verdict)
		}
		fmt.Printf("| %s | yes | %s | %.0f | %.0f | %.1f | %g | %g | %s | %s | %s |\n",
			r.name, powerLoss(r.name), median(r.ns), rs, median(r.mbs), median(r.allocs), median(r.bs),
			ratio(rs, zl), ratio(rs, zp), goal)
	}
	fmt.Println()
	fmt.Println("Medians of the runs below. Every row survives SIGKILL: each record is in the page cache")
	fmt.Println("before Append/Write returns. \"always\" fdatasyncs each record, so it also survives power loss;")
	fmt.Println("\"interval\" loses at most SyncEvery (1 s) of records to a power cut; the rest lose what the")
	fmt.Println("kernel had not written back.")
	for _, n := range notes {
		fmt.Println("\n" + n)
	}
	fmt.Println()
	fmt.Println("Raw ns/record per run:")
	fmt.Println()
	for _, r := range rows {
		s := make([]string, len(r.ns))
		for i, v := range r.ns {
			s[i] = strconv.FormatFloat(v, 'f', -1, 64)
		}
		fmt.Printf("- %s: %s\n", r.name, strings.Join(s, " "))
	}
}

func isPeer(name string) int {
	if strings.HasPrefix(name, "peer/") {
		return 1
	}
	return 0
}

func powerLoss(name string) string {
	switch {
	case strings.HasSuffix(name, "/always"):
		return "yes"
	case strings.HasSuffix(name, "/interval"):
		return "≤ 1 s lost"
	}
	return "no"
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
