// Command timeit runs a command several times, its output to /dev/null,
// and prints the wall and CPU time of each run and of the fastest, as
// key=value lines for bench/read.sh:
//
//	timeit -n 3 -label NAME [-records N] [-check] -- COMMAND [ARG...]
//
// CPU time is the child's user and system time from wait4 (rusage). With
// -records, each line also has records/s (N / wall seconds). With -check,
// one more run (the only one with -n 0), untimed, sends the output through a pipe and counts its
// lines and bytes. A run that exits non-zero, or writes to stderr, is
// reported (stderr's first line) and makes timeit exit 1.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

type run struct {
	wall, user, sys time.Duration
}

func main() {
	n := flag.Int("n", 3, "timed runs")
	label := flag.String("label", "run", "label of the output lines")
	records := flag.Int64("records", 0, "records the command outputs, for records/s")
	check := flag.Bool("check", false, "one more run, counting the output's lines and bytes")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: timeit [-n N] [-label NAME] [-records N] [-check] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fail(err)
	}
	var best run
	failed := false
	for i := 1; i <= *n; i++ {
		r, errText, err := once(args, null)
		if err != nil || errText != "" {
			fmt.Fprintf(os.Stderr, "timeit: %s run %d: %v %s\n", *label, i, err, errText)
			failed = true
		}
		fmt.Printf("run label=%s i=%d %s\n", *label, i, figures(r, *records))
		if i == 1 || r.wall < best.wall {
			best = r
		}
	}
	if *n > 0 {
		fmt.Printf("best label=%s runs=%d %s\n", *label, *n, figures(best, *records))
	}
	if *check {
		lines, bytes, err := count(args)
		if err != nil {
			fmt.Fprintf(os.Stderr, "timeit: %s check: %v\n", *label, err)
			failed = true
		}
		fmt.Printf("check label=%s lines=%d bytes=%d\n", *label, lines, bytes)
	}
	if failed {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "timeit:", err)
	os.Exit(1)
}

func figures(r run, records int64) string {
	s := fmt.Sprintf("wall_s=%.6f user_s=%.3f sys_s=%.3f cpu_s=%.3f", r.wall.Seconds(), r.user.Seconds(), r.sys.Seconds(), (r.user + r.sys).Seconds())
	if records > 0 && r.wall > 0 {
		s += fmt.Sprintf(" records=%d records_per_s=%.0f", records, float64(records)/r.wall.Seconds())
	}
	return s
}

// once runs the command with its output to out.
func once(args []string, out *os.File) (run, string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var r run
	r.wall = wall
	if cmd.ProcessState != nil {
		r.user, r.sys = cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime()
	}
	first, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
	return r, first, err
}

// count runs the command once and counts the lines and bytes it writes.
func count(args []string) (int64, int64, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	p, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	var lines, n int64
	br := bufio.NewReaderSize(p, 1<<20)
	for {
		b, err := br.ReadSlice('\n')
		n += int64(len(b))
		if len(b) > 0 && b[len(b)-1] == '\n' {
			lines++
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			cmd.Wait()
			return lines, n, err
		}
	}
	return lines, n, cmd.Wait()
}
