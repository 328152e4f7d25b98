package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
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
