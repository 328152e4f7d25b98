package ringlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// Child processes: the test binary runs itself with RINGLOG_TEST_CHILD set.
func TestMain(m *testing.M) {
	if spec := os.Getenv("RINGLOG_TEST_CHILD"); spec != "" {
		os.Exit(childMain(strings.Split(spec, ",")))
	}
	os.Exit(m.Run())
}

// childOptions are the options parent and child agree on for a ring; spec
// is a codec name, with "+pack" for a packed ring and "+mem" for a memory
// stage.
func childOptions(spec string, sync SyncPolicy, stage int) Options {
	name, mem := strings.CutSuffix(spec, "+mem")
	name, pack := strings.CutSuffix(name, "+pack")
	c, _ := codec.ParseCodec(name)
	o := testOptions(c)
	o.Sync, o.StageSize, o.Pack, o.MemoryStage = sync, stage, pack, mem
	o.Budget, o.SegmentSize = 256<<10, 16<<10
	o.FlushEvery = 3 * time.Millisecond
	o.SyncEvery = 5 * time.Millisecond
	return o
}

// childMain runs a writer and prints "ack <seq>" after each Append that
// returned nil, and "err <text>" after each that failed. With a memory
// stage it flushes before it acknowledges. Mode "open" kills the process
// at a crash point of Open (crashpoint.go), or prints "opened" and exits
// without closing if Open never got there.
func childMain(args []string) int {
	mode, dir := args[0], args[1]
	sp, _ := ParseSyncPolicy(args[3])
	stage, _ := strconv.Atoi(args[4])
	o := childOptions(args[2], sp, stage)
	if mode == "run" && len(args) > 5 {
		o.Budget, _ = strconv.ParseInt(args[5], 10, 64)
	}
	if mode == "openfsize" { // Open under a file size limit, as on a full disk
		limit, _ := strconv.ParseUint(args[5], 10, 64)
		signal.Ignore(syscall.SIGXFSZ)
		syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit})
	}
	if mode == "open" {
		crashPoint = func(step string) {
			if step == args[5] {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
	}
	w, err := Open(dir, o)
	if err != nil {
		fmt.Println("err open:", err)
		return 1
	}
	out := os.Stdout // unbuffered: an ack is printed before the next Append
	ack := func(i int) error {
		seq, err := w.Append(testRecord(i))
		if err == nil && o.MemoryStage {
			err = w.Flush()
		}
		if err != nil {
			fmt.Fprintln(out, "err", err)
			return err
		}
		fmt.Fprintln(out, "ack", seq)
		return nil
	}
	switch mode {
	case "open", "openfsize":
		fmt.Fprintln(out, "opened")
		return 0
	case "run": // until killed
		for i := 0; ; i++ {
			if ack(i) != nil {
				return 1
			}
		}
	case "fsize": // hit the file size limit, then go on once it is lifted
		limit, _ := strconv.ParseUint(args[5], 10, 64)
		signal.Ignore(syscall.SIGXFSZ)
		var old syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old)
		syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: old.Max})
		fails := 0
		for i := 0; fails < 3 && i < 100000; i++ {
			if ack(i) != nil {
				fails++
			}
		}
		syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
		fmt.Fprintln(out, "lifted")
		for i := 0; i < 50; i++ {
			if ack(100000+i) != nil {
				return 1
			}
		}
		if err := w.Close(); err != nil {
			fmt.Fprintln(out, "err close:", err)
			return 1
		}
		return 0
	}
	return 2
}

// startChild starts a child; lines yields the lines it printed in full:
// a line cut by SIGKILL, without its newline, was never an ack.
func startChild(t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RINGLOG_TEST_CHILD="+strings.Join(args, ","))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := slices.Index(data, '\n'); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), nil, nil // unterminated: dropped
		}
		return 0, nil, nil
	})
	return cmd, sc
}

// TestSIGKILL kills a writer process at random moments, many times over
// the same ring: every record it acknowledged is read back, in order, once;
// the budget holds on disk after every kill; and numbering never repeats.
func TestSIGKILL(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	for _, tc := range []struct {
		c     string
		sync  SyncPolicy
		stage int
	}{
		{"msgpack", SyncNone, 0},           // mmap'd stage
		{"json", SyncNone, 0},              // mmap'd stage, text frames
		{"msgpack", SyncInterval, -1},      // a write per record
		{"json", SyncAlways, 0},            // fdatasync per record
		{"msgpack+pack", SyncNone, 0},      // a packed block per flush of the mmap'd stage
		{"msgpack+pack", SyncInterval, -1}, // a block per record
	} {
		name := fmt.Sprintf("%v/%v/stage=%d", tc.c, tc.sync, tc.stage)
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir() // on disk: the budget is checked in allocated blocks after each kill
			rng := rand.New(rand.NewPCG(uint64(tc.sync), uint64(tc.stage+2)))
			var acked []uint64
			for round := 0; round < rounds; round++ {
				cmd, out := startChild(t, "run", dir, tc.c, tc.sync.String(), strconv.Itoa(tc.stage))
				got := make(chan []uint64, 1)
				acking := make(chan struct{}) // closed at the first ack, or when output ends
				go func() {
					var seqs []uint64
					for out.Scan() {
						if out.Text() == "" {
							continue
						}
						if s, ok := strings.CutPrefix(out.Text(), "ack "); ok {
							seq, _ := strconv.ParseUint(s, 10, 64)
							if seqs = append(seqs, seq); len(seqs) == 1 {
								close(acking)
							}
						} else {
							t.Errorf("child: %s", out.Text())
						}
					}
					if len(seqs) == 0 {
						close(acking)
					}
					got <- seqs
				}()
				// The kill lands at a random moment: in one round of four
				// while the child starts and recovers the ring, in the others
				// up to 150 ms after its first acknowledgement, however long
				// a loaded machine takes to get there.
				if rng.IntN(4) == 0 {
					time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
				} else {
					select {
					case <-acking:
					case <-time.After(time.Minute):
						cmd.Process.Kill()
						t.Fatalf("round %d: no acknowledgement in a minute", round)
					}
					time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
				}
				cmd.Process.Signal(syscall.SIGKILL)
				seqs := <-got
				cmd.Wait()
				if len(seqs) == 0 {
					continue // killed before its first ack
				}
				if len(acked) > 0 && seqs[0] <= acked[len(acked)-1] {
					t.Fatalf("round %d: numbering restarted at %d after %d", round, seqs[0], acked[len(acked)-1])
				}
				acked = append(acked, seqs...)
				rounded, allocated := diskUsage(t, dir, blockSize(dir))
				if o := childOptions(tc.c, tc.sync, tc.stage); rounded > o.Budget || allocated > o.Budget {
					t.Fatalf("round %d: %d bytes (%d allocated) on disk, budget %d", round, rounded, allocated, o.Budget)
				}
				// Every acknowledged record retention has not retired is
				// there; records stored but not yet acknowledged when the
				// child died may follow. Numbering has no holes.
				res := readAll(t, dir)
				for i := 1; i < len(res.seqs); i++ {
					if res.seqs[i] != res.seqs[i-1]+1 {
						// What the writer that resumed there said of it, and
						// the damage that made it (seen once, under load).
						t.Fatalf("round %d: hole between %d and %d; resume note %+v; damage %v", round, res.seqs[i-1], res.seqs[i], res.notes[res.seqs[i]], res.damage)
					}
				}
				first, last := res.seqs[0], res.seqs[len(res.seqs)-1]
				if a := acked[len(acked)-1]; last < a {
					t.Fatalf("round %d: read up to %d; %d was acknowledged", round, last, a)
				}
				if a := acked[0]; first > a && round == 0 {
					t.Logf("round %d: retention retired records %d to %d", round, a, first-1)
				}
				for _, d := range res.damage {
					// A kill inside write(2) can leave a torn tail; nothing else.
					if !IsTornTail(d) {
						t.Fatalf("round %d: damage %v", round, d)
					}
				}
			}
			if len(acked) == 0 {
				t.Fatal("no records acknowledged in any round")
			}
			t.Logf("%d kills, %d records acknowledged, all read back", rounds, len(acked))
		})
	}
}

// TestWriteErrors makes the kernel refuse writes part-way (a file size
// limit: write(2) stores what fits and fails, as on a full disk): the
// error is returned, no torn record is read back, no acknowledged record
// is lost, and appending resumes once the limit is lifted.
func TestWriteErrors(t *testing.T) {
	for _, stage := range []int{0, -1} {
		t.Run(fmt.Sprintf("stage=%d", stage), func(t *testing.T) {
			dir := t.TempDir() // on disk: few syncs, and the errors are those of the filesystem devices use
			cmd, out := startChild(t, "fsize", dir, "msgpack", "none", strconv.Itoa(stage), "10000")
			var acked []uint64
			var errs []string
			lifted := false
			for out.Scan() {
				line := out.Text()
				switch {
				case strings.HasPrefix(line, "ack "):
					seq, _ := strconv.ParseUint(line[4:], 10, 64)
					acked = append(acked, seq)
				case strings.HasPrefix(line, "err "):
					if lifted {
						t.Errorf("after the limit was lifted: %s", line)
					}
					errs = append(errs, line)
				case line == "lifted":
					lifted = true
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v (errors %v)", err, errs)
			}
			if len(errs) == 0 || !strings.Contains(errs[0], "file too large") {
				t.Fatalf("errors %v: want write failures", errs)
			}
			res := readAll(t, dir)
			if !slices.Equal(res.seqs, acked) {
				t.Fatalf("read %d records (last %v), acknowledged %d (last %v)", len(res.seqs), tail(res.seqs), len(acked), tail(acked))
			}
			if len(res.damage) != 0 {
				t.Fatalf("damage %v: a partial write was left behind", res.damage)
			}
			t.Logf("%d records acknowledged around %d write errors, e.g. %s", len(acked), len(errs), errs[0])
		})
	}
}

// TestFollowOtherProcess follows a ring that another process writes and
// rotates, then kills: the reader sees every acknowledged record once, in
// order, and reports no damage for the segment being written.
func TestFollowOtherProcess(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			// A budget retention does not reach in the test's time: this
			// is about following rotations, not racing retention.
			cmd, out := startChild(t, "run", dir, c.String(), "none", "0", strconv.Itoa(256<<20))
			acks := make(chan uint64, 1<<20)
			go func() {
				for out.Scan() {
					if s, ok := strings.CutPrefix(out.Text(), "ack "); ok {
						seq, _ := strconv.ParseUint(s, 10, 64)
						acks <- seq
					}
				}
				close(acks)
			}()
			// Wait for the ring to exist, then follow it while it grows,
			// and kill the writer once the reader has read from three of its
			// segments. Once the dead writer's ring reads to its end, the
			// reader has it all.
			deadline := time.Now().Add(time.Minute)
			var r *Reader
			for r == nil {
				if time.Now().After(deadline) {
					t.Fatal("no ring in a minute")
				}
				if _, err := os.Stat(dir + "/stage"); err == nil {
					r, _ = NewReader(dir)
				}
				time.Sleep(time.Millisecond)
			}
			var got []uint64
			followed := map[string]bool{} // segments read from
			killed := false
			for {
				if !killed && len(followed) >= 3 {
					cmd.Process.Signal(syscall.SIGKILL)
					cmd.Wait()
					killed = true
				}
				e, err := r.Next()
				if err == io.EOF {
					if killed {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("followed %d records in %d segments in a minute", len(got), len(followed))
					}
					time.Sleep(2 * time.Millisecond)
					continue
				}
				var d *Damage
				if errors.As(err, &d) {
					if killed && IsTornTail(d) {
						continue // the kill may tear the last write
					}
					t.Fatalf("after %d records: %v", len(got), err)
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(got) > 0 && e.Seq != got[len(got)-1]+1 {
					t.Fatalf("seq %d after %d", e.Seq, got[len(got)-1])
				}
				got = append(got, e.Seq)
				if e.Offset >= 0 { // -1: the stage
					followed[e.Segment] = true
				}
			}
			var acked []uint64
			for a := range acks {
				acked = append(acked, a)
			}
			if len(acked) == 0 || len(got) < len(acked) || got[len(acked)-1] != acked[len(acked)-1] {
				t.Fatalf("followed %d records (last %v); %d acknowledged (last %v)", len(got), tail(got), len(acked), tail(acked))
			}
			if segs := segmentPaths(t, dir); len(segs) < 2 {
				t.Fatalf("%d segments: the writer never rotated", len(segs))
			}
			t.Logf("followed %d records across %d segments written by another process", len(got), len(segmentPaths(t, dir)))
		})
	}
}
