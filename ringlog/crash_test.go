package ringlog

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/internal/testdir"
)

// TestCrashInOpen kills a writer process at each step of Open that
// leaves a new state on disk (crashpoint.go), after a writer before it was
// killed while appending, then appends again: every acknowledged record is
// read back once, in order, and numbers are skipped only where a resume
// note says why. Where no record can have been lost (a mapped stage, no
// stage) no number is skipped at all: a crash inside Open once emptied
// the stage before its new header was written, and the next writer,
// finding no mark, skipped 1024 numbers and called them possibly lost.
func TestCrashInOpen(t *testing.T) {
	steps := []string{"replayed", "segment-renamed", "stage-truncated", "stage-allocated", "stage-written"}
	for _, tc := range []struct {
		spec  string
		sync  SyncPolicy
		stage int
		must  string // the steps every such Open reaches
		notes int    // at most this many resume notes
	}{
		{"msgpack", SyncNone, 0, "replayed stage-truncated stage-allocated stage-written", 0}, // mapped stage
		{"msgpack", SyncInterval, -1, "replayed stage-allocated stage-written", 0},            // no stage
		{"json+mem", SyncNone, 0, "replayed segment-renamed stage-allocated stage-written", 2},
		{"msgpack+pack+mem", SyncNone, 0, "replayed segment-renamed stage-allocated stage-written", 2}, // the note as a block
	} {
		for _, step := range steps {
			t.Run(fmt.Sprintf("%s/stage=%d/%s", tc.spec, tc.stage, step), func(t *testing.T) {
				dir := testdir.TempDir(t)
				args := []string{dir, tc.spec, tc.sync.String(), strconv.Itoa(tc.stage)}
				acked := runUntilKilled(t, args, 300)
				if killedInOpen(t, args, step) {
					t.Logf("killed at %s", step)
				} else if strings.Contains(tc.must, step) {
					t.Fatalf("Open never reached %s", step)
				}
				acked = append(acked, runUntilKilled(t, args, 100)...)

				res := readAll(t, dir)
				for _, d := range res.damage {
					if !IsTornTail(d) {
						t.Fatalf("damage %v", d)
					}
				}
				for i := 1; i < len(res.seqs); i++ {
					prev, s := res.seqs[i-1], res.seqs[i]
					if s <= prev {
						t.Fatalf("%d after %d", s, prev)
					}
					if n, ok := res.notes[s]; s != prev+1 && (!ok || n.After != prev) {
						t.Fatalf("numbers %d to %d skipped without a note", prev+1, s-1)
					}
				}
				if len(res.notes) > tc.notes {
					t.Fatalf("%d resume notes %v, want at most %d", len(res.notes), res.notes, tc.notes)
				}
				for _, a := range acked {
					if a < res.seqs[0] {
						continue // retired by retention
					}
					if _, ok := slices.BinarySearch(res.seqs, a); !ok {
						t.Fatalf("acknowledged record %d not read back (read %v...%v)", a, res.seqs[:min(5, len(res.seqs))], tail(res.seqs))
					}
				}
			})
		}
	}
}

// killedInOpen runs a child that opens the ring of args and kills itself
// at step of Open, and reports whether it got there: if not, Open
// returned and the child exited without closing the ring.
func killedInOpen(t *testing.T, args []string, step string) bool {
	t.Helper()
	cmd, out := startChild(t, append([]string{"open"}, append(args, step)...)...)
	opened := false
	for out.Scan() {
		opened = opened || out.Text() == "opened"
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); opened == (ok && ws.Signaled()) {
		t.Fatalf("open at %s: %v, printed opened: %v", step, err, opened)
	}
	return !opened
}

// runUntilKilled runs a writer child over args until it has acknowledged
// n records, kills it and returns what it acknowledged.
func runUntilKilled(t *testing.T, args []string, n int) []uint64 {
	t.Helper()
	cmd, out := startChild(t, append([]string{"run"}, args...)...)
	var acked []uint64
	for len(acked) < n && out.Scan() {
		s, ok := strings.CutPrefix(out.Text(), "ack ")
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", out.Text())
		}
		seq, _ := strconv.ParseUint(s, 10, 64)
		acked = append(acked, seq)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for out.Scan() {
		if s, ok := strings.CutPrefix(out.Text(), "ack "); ok {
			seq, _ := strconv.ParseUint(s, 10, 64)
			acked = append(acked, seq)
		}
	}
	cmd.Wait()
	if len(acked) < n {
		t.Fatalf("child acknowledged %d records, want %d", len(acked), n)
	}
	return acked
}

// TestFailedOpenKeepsStaged: an Open that fails part-way through moving
// the stage's records into a new segment (the disk filled up; here a file
// size limit in a child process) costs no staged record: the next Open
// finds the rest in the stage, salted for the segment they were staged
// for, and moves them. An agent that starts on a full disk retries Open
// until it succeeds.
func TestFailedOpenKeepsStaged(t *testing.T) {
	dir := t.TempDir() // the limit applies to any file system
	o := childOptions("msgpack", SyncNone, 0)
	o.FlushEvery = time.Hour
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	acked := appendN(t, w, 0, 5)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	acked = append(acked, appendN(t, w, 5, 60)...)
	if w.st.n == 0 {
		t.Fatal("nothing staged; the test needs staged records")
	}
	segs := segmentPaths(t, dir)
	w.crash()
	// A torn tail seals the newest segment: Open moves the staged records
	// into a new one.
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0xde, 0xad, 0xbe, 0xef, 1})
	f.Close()

	cmd, out := startChild(t, "openfsize", dir, "msgpack", "none", "0", strconv.Itoa(binHeaderSize+1000))
	var lines []string
	for out.Scan() {
		lines = append(lines, out.Text())
	}
	cmd.Wait()
	if len(lines) != 1 || !strings.Contains(lines[0], "err open:") || !strings.Contains(lines[0], "file too large") {
		t.Fatalf("Open under the limit: %q, want it to fail writing", lines)
	}
	if segs2 := segmentPaths(t, dir); len(segs2) != len(segs)+1 {
		t.Fatalf("segments %v after the failed Open, before %v: the test needs a new segment made by it", segs2, segs)
	}

	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	res := readAll(t, dir)
	for _, a := range acked {
		if !slices.Contains(res.seqs, a) {
			t.Fatalf("acknowledged record %d lost after a failed Open (read %v...%v)", a, res.seqs[:min(5, len(res.seqs))], tail(res.seqs))
		}
	}
}
