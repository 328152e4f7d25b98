package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// TestFollowBehindRetention: itiny-read -f behind a slow consumer, while
// retention deletes segments it has not read yet, says those records were
// deleted by retention, with their numbers, and never blames a crash.
func TestFollowBehindRetention(t *testing.T) {
	data := t.TempDir()
	seg := int64(8 << 10)
	w, err := ringlog.Open(filepath.Join(data, "events"), ringlog.Options{Stream: "events", Codec: codec.Msgpack,
		Budget: 4*seg + 8<<10, SegmentSize: seg, StageSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendN := func(from, to int) {
		for i := from; i < to; i++ {
			r := codec.Record{Name: fmt.Sprint("e", i), Wall: t0.Add(time.Duration(i) * time.Second), Mono: int64(i) * 1e9,
				Level: codec.LevelNotice, Fields: codec.Fields{{Key: "pad", Value: codec.String(strings.Repeat("x", 200))}}}
			if _, err := w.Append(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(0, 50)
	cmd := exec.Command(binary, "-f", data)
	var eb bytes.Buffer
	cmd.Stderr = &eb
	defer func() {
		if t.Failed() {
			t.Log(eb.String())
		}
	}()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		t.Fatal("no output")
	}
	// The consumer stops reading: itiny-read fills the pipe and waits,
	// while the ring turns over many times.
	const n = 5000
	appendN(50, n)
	var gaps []string
	last := fmt.Sprint(" e", n-1, " ")
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-- events:") {
			gaps = append(gaps, line)
		}
		if strings.Contains(line, last) {
			break
		}
	}
	if len(gaps) == 0 {
		t.Fatal("no gap: the follower did not fall behind retention")
	}
	for _, g := range gaps {
		if !strings.Contains(g, "records lost (") || !strings.Contains(g, "deleted by retention") {
			t.Errorf("gap line %q, want records lost, deleted by retention", g)
		}
	}
}

// TestFollowLast: -f prints the last 10 records, then follows; -n N -f the
// last N; -n 0 -f only the records written after it started, as journalctl.
func TestFollowLast(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		first int // the first record shown
	}{
		{[]string{"-f"}, 40},
		{[]string{"--follow", "-n", "3"}, 47},
		{[]string{"-n", "0", "-f"}, -1}, // some record written after it started
	} {
		data := t.TempDir()
		w, err := ringlog.Open(filepath.Join(data, "events"), ringlog.Options{Stream: "events", Codec: codec.JSON, Budget: 1 << 20, SegmentSize: 64 << 10, FlushEvery: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		add := func() {
			r := codec.Record{Name: fmt.Sprint("e", next), Wall: t0.Add(time.Duration(next) * time.Second), Mono: int64(next) * 1e9, Level: codec.LevelNotice}
			if _, err := w.Append(&r); err != nil {
				t.Error(err)
			}
			next++
		}
		for range 50 {
			add()
		}
		cmd := exec.Command(binary, append(tc.args, "-o", "json", data)...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
		sc := bufio.NewScanner(out)
		// A writer that adds records until told to stop: with -n 0 nothing
		// shows before one is written after itiny-read reached the end.
		stop, stopped := make(chan struct{}), make(chan struct{})
		writer := func() {
			defer close(stopped)
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					add()
				}
			}
		}
		if tc.first < 0 {
			go writer()
		}
		var got []int
		for len(got) < 15 && sc.Scan() {
			var r struct{ Name string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%q: %q: %v", tc.args, sc.Text(), err)
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(r.Name, "e"))
			got = append(got, n)
			if len(got) == 1 && tc.first >= 0 {
				go writer() // the last N are printed together, before any new one
			}
		}
		close(stop)
		<-stopped
		deadline.Stop()
		cmd.Process.Kill()
		cmd.Wait()
		w.Close()
		if len(got) < 15 {
			t.Fatalf("%q: output ended after %v", tc.args, got)
		}
		first := tc.first
		if first < 0 {
			first = got[0]
			if first < 50 {
				t.Errorf("%q: first record e%d, written before it started", tc.args, first)
			}
		}
		for i, n := range got {
			if n != first+i {
				t.Errorf("%q: records %v, want from e%d on, each once in order", tc.args, got, first)
				break
			}
		}
	}
}
