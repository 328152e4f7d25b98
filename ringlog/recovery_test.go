package ringlog

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
)

// TestCrashReplaysStage: records acknowledged into the stage and never
// flushed are moved into the segment by the next Open, and readers see
// them even before that.
func TestCrashReplaysStage(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(c)
			o.StageSize = 16 << 10
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			seqs := appendN(t, w, 0, 20)
			if w.st.n == 0 {
				t.Fatal("nothing staged; the test needs staged records")
			}
			w.crash()
			if got := readAll(t, dir).seqs; !slices.Equal(got, seqs) {
				t.Fatalf("reader before recovery: %v, want %v", got, seqs)
			}
			w, err = Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			rec := w.Recovery()
			if rec.Clean || rec.Replayed == 0 || rec.SeqJump != 0 {
				t.Fatalf("recovery %+v: want unclean, records replayed, no jump (same boot)", rec)
			}
			more := appendN(t, w, 20, 5)
			w.Close()
			if got := readAll(t, dir).seqs; !slices.Equal(got, append(seqs, more...)) {
				t.Fatalf("after recovery: %v", got)
			}
		})
	}
}

// TestTornStageFrame: a frame half copied into the stage when the process
// died is not replayed; the complete ones before it are.
func TestTornStageFrame(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	seqs := appendN(t, w, 0, 5)
	// Copy half of a sixth frame into the stage, as a SIGKILL mid-copy would.
	b := framePlaceholder(nil, false)
	r := testRecord(5)
	r.Seq = w.next
	b, _ = r.MarshalMsg(b)
	sealFrame(b, false, w.salt, w.next)
	copy(w.st.mem[stageHeaderSize+w.st.n:], b[:len(b)/2])
	w.crash()
	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if rec := w.Recovery(); rec.Replayed != len(seqs) {
		t.Fatalf("recovery %+v: want %d replayed", rec, len(seqs))
	}
	w.Close()
	if got := readAll(t, dir).seqs; !slices.Equal(got, seqs) {
		t.Fatalf("read %v, want %v", got, seqs)
	}
}

// TestRebootSkipsNumbers: after a crash and a new boot, numbering resumes
// at the high-water mark, since records numbered after the last one on
// disk may have been seen by a reader before the page cache was lost.
func TestRebootSkipsNumbers(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	seqs := appendN(t, w, 0, 10)
	w.crash()
	o.Boot = codec.BootID{0xb0, 0x08}
	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	rec := w.Recovery()
	if rec.SeqJump == 0 {
		t.Fatalf("recovery %+v: want a jump after a new boot", rec)
	}
	seq, err := w.Append(testRecord(10))
	if err != nil {
		t.Fatal(err)
	}
	// The note explaining the jump takes the first new number.
	if want := seqs[len(seqs)-1] + 2 + rec.SeqJump; seq != want {
		t.Fatalf("seq %d after jump of %d, want %d", seq, rec.SeqJump, want)
	}
	if n := rec.Resume; n == nil || n.After != seqs[len(seqs)-1] || n.Loss != LossPossible || n.Lost != rec.SeqJump {
		t.Fatalf("resume note %+v, want a possible loss of %d after %d", n, rec.SeqJump, seqs[len(seqs)-1])
	}
	w.Close()
	// A clean close leaves an exact mark: reopening skips nothing.
	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if rec := w.Recovery(); !rec.Clean || rec.SeqJump != 0 {
		t.Fatalf("recovery after clean close %+v", rec)
	}
	if next, _ := w.Append(testRecord(11)); next != seq+1 {
		t.Fatalf("seq %d after clean reopen, want %d", next, seq+1)
	}
	w.Close()
}

// TestBudgetModel runs random appends (of random sizes), flushes, syncs,
// clean reopenings and crashes against a small ring, and checks after
// every step that the ring's files fit the budget on disk, and after every
// reopening that every acknowledged record not yet retired is there.
func TestBudgetModel(t *testing.T) {
	steps := 3000
	if testing.Short() {
		steps = 600
	}
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		for _, stage := range []int{2 << 10, -1} {
			t.Run(fmt.Sprintf("%v/stage=%d", c, stage), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, uint64(stage)))
				dir := t.TempDir() // on disk: the budget is checked in the blocks a real filesystem allocates
				o := testOptions(c)
				o.Budget, o.SegmentSize, o.StageSize = 40<<10, 8<<10, stage
				w, err := Open(dir, o)
				if err != nil {
					t.Fatal(err)
				}
				blk := w.blk
				var acked []uint64
				check := func(step int, what string) {
					rounded, allocated := diskUsage(t, dir, blk)
					if rounded > o.Budget || allocated > o.Budget {
						t.Fatalf("step %d (%s): %d bytes by size, %d allocated; budget %d", step, what, rounded, allocated, o.Budget)
					}
				}
				verify := func(step int) {
					res := readAll(t, dir)
					if len(res.damage) != 0 {
						t.Fatalf("step %d: damage %v", step, res.damage)
					}
					if len(acked) == 0 {
						return
					}
					got := res.seqs
					if len(got) == 0 || got[len(got)-1] != acked[len(acked)-1] {
						t.Fatalf("step %d: read ends at %v, last acknowledged %d", step, tail(got), acked[len(acked)-1])
					}
					// Every acknowledged record from the oldest retained on.
					i, _ := slices.BinarySearch(acked, got[0])
					if !slices.Equal(got, acked[i:]) {
						t.Fatalf("step %d: read %d records from %d, acknowledged %d from there", step, len(got), got[0], len(acked)-i)
					}
				}
				for step := 0; step < steps; step++ {
					switch p := rng.IntN(100); {
					case p < 80:
						r := testRecord(step)
						r.Name = strings.Repeat("x", rng.IntN(1500))
						seq, err := w.Append(r)
						if err != nil {
							t.Fatalf("step %d: %v", step, err)
						}
						acked = append(acked, seq)
					case p < 85:
						if err := w.Flush(); err != nil {
							t.Fatal(err)
						}
					case p < 88:
						if err := w.Sync(); err != nil {
							t.Fatal(err)
						}
					case p < 94:
						if err := w.Close(); err != nil {
							t.Fatal(err)
						}
						check(step, "closed")
						verify(step)
						if w, err = Open(dir, o); err != nil {
							t.Fatal(err)
						}
					default:
						w.crash()
						check(step, "crashed")
						verify(step)
						if w, err = Open(dir, o); err != nil {
							t.Fatal(err)
						}
					}
					check(step, "running")
				}
				w.Close()
				verify(steps)
				t.Logf("%d records acknowledged, %d segments deleted by retention in the last run", len(acked), w.deleted)
			})
		}
	}
}

// TestClockJumps writes while the wall clock jumps from 2026 back to 1970
// and forth: retention deletes the segments with the lowest numbers, so
// the newest records are kept whatever their wall time says.
func TestClockJumps(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	walls := []time.Time{time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), time.Unix(0, 0), time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC), time.Unix(86400, 0)}
	phase := 0
	o.Now = func() (time.Time, int64) { return walls[phase%len(walls)], int64(phase) }
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i := 0; i < 800; i++ {
		if i%50 == 0 {
			phase++
		}
		r := testRecord(i)
		r.Wall = walls[phase%len(walls)].Add(time.Duration(i) * time.Second)
		if last, err = w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if w.deleted == 0 {
		t.Fatal("retention never ran; the test needs it to")
	}
	res := readAll(t, dir)
	if res.seqs[len(res.seqs)-1] != last {
		t.Fatalf("newest record %d missing; read up to %d", last, res.seqs[len(res.seqs)-1])
	}
	for i := 1; i < len(res.seqs); i++ {
		if res.seqs[i] != res.seqs[i-1]+1 {
			t.Fatalf("hole between %d and %d", res.seqs[i-1], res.seqs[i])
		}
	}
}

func TestSecondWriterLocked(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, testOptions(codec.Msgpack))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = Open(dir, testOptions(codec.Msgpack))
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second Open: %v; want ErrLocked naming pid %d", err, os.Getpid())
	}
	// A reader in the same process does not release the lock.
	readAll(t, dir)
	if _, err := Open(dir, testOptions(codec.Msgpack)); !errors.Is(err, ErrLocked) {
		t.Fatalf("after a reader: %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	base := testOptions(codec.Msgpack)
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"stream", func(o *Options) { o.Stream = "Bad/Name" }, "invalid stream name"},
		{"codec", func(o *Options) { o.Codec = 9 }, "unknown codec"},
		{"small segment", func(o *Options) { o.SegmentSize = 100 }, "segment size 100"},
		{"small budget", func(o *Options) { o.Budget = 10 << 10 }, "budget 10240"},
		{"sync", func(o *Options) { o.Sync = 7 }, "unknown sync policy"},
	} {
		o := base
		tc.edit(&o)
		_, err := Open(t.TempDir(), o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	// A ring directory of another stream.
	dir := t.TempDir()
	w, _ := Open(dir, base)
	w.Close()
	o := base
	o.Stream = "events"
	if _, err := Open(dir, o); err == nil || !strings.Contains(err.Error(), `holds stream "metrics"`) {
		t.Errorf("other stream: %v", err)
	}
}

func TestRecordTooLarge(t *testing.T) {
	w, err := Open(t.TempDir(), testOptions(codec.Msgpack))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r := testRecord(0)
	r.Name = strings.Repeat("x", 9<<10)
	if _, err := w.Append(r); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("append: %v, want ErrRecordTooLarge", err)
	}
	// No number was used.
	if seq, _ := w.Append(testRecord(1)); seq != 1 {
		t.Fatalf("next seq %d, want 1", seq)
	}
}

// TestConcurrentAppenders runs appenders in parallel (run it with -race):
// every record is stored once, numbers are consecutive, and each
// goroutine's records keep its order.
func TestConcurrentAppenders(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.Budget = 4 << 20
	o.FlushEvery = time.Millisecond
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 4, 400
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := w.Append(testRecord(g*each + i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	w.Close()
	res := readAll(t, dir)
	if len(res.seqs) != goroutines*each {
		t.Fatalf("read %d records, want %d", len(res.seqs), goroutines*each)
	}
	lastID := map[int64]int64{}
	for i, id := range res.ids {
		if res.seqs[i] != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i, res.seqs[i])
		}
		g := id / each
		if prev, ok := lastID[g]; ok && id <= prev {
			t.Fatalf("goroutine %d: record %d after %d", g, id, prev)
		}
		lastID[g] = id
	}
}

// TestFollowAcrossRotation reads while a writer appends and rotates: the
// reader gets every record once, in order, with no damage reported for the
// segment being written.
func TestFollowAcrossRotation(t *testing.T) {
	for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(c)
			o.Budget = 4 << 20
			o.FlushEvery = 2 * time.Millisecond
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			const n = 1500
			done := make(chan error, 1)
			go func() {
				for i := 0; i < n; i++ {
					if _, err := w.Append(testRecord(i)); err != nil {
						done <- err
						return
					}
					if i%100 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
				done <- w.Close()
			}()
			r, err := NewReader(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got uint64
			deadline := time.Now().Add(time.Minute)
			for got < n {
				if time.Now().After(deadline) {
					t.Fatalf("follow stalled at %d of %d", got, n)
				}
				e, err := r.Next()
				if err == io.EOF {
					time.Sleep(time.Millisecond)
					continue
				}
				if err != nil {
					t.Fatalf("after %d records: %v", got, err)
				}
				if e.Seq != got+1 {
					t.Fatalf("got seq %d after %d", e.Seq, got)
				}
				got = e.Seq
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if segs := segmentPaths(t, dir); len(segs) < 3 {
				t.Fatalf("only %d segments: no rotation was followed", len(segs))
			}
		})
	}
}

var _ = filepath.Join

// TestMemoryStage: with the stage in process memory, records reach the
// segment only when flushed (here: at Close or when the stage is full), and
// those not flushed when the process dies are lost, as documented.
func TestMemoryStage(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.MemoryStage, o.StageSize = true, 4<<10
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 0, 5)
	if got := readAll(t, dir).seqs; len(got) != 0 {
		t.Fatalf("read %v before any flush; want nothing on disk yet", got)
	}
	if st, _ := os.Stat(filepath.Join(dir, stageName)); st.Size() != stageHeaderSize {
		t.Fatalf("stage file is %d bytes; want only its header", st.Size())
	}
	seqs := appendN(t, w, 5, 60) // more than the stage holds: flushed when full
	flushed := readAll(t, dir).seqs
	if len(flushed) == 0 || flushed[len(flushed)-1] >= seqs[len(seqs)-1] {
		t.Fatalf("read %d records; want those of full stages only", len(flushed))
	}
	w.crash()
	if got := readAll(t, dir).seqs; !slices.Equal(got, flushed) {
		t.Fatalf("after a crash read %d records, want the %d flushed", len(got), len(flushed))
	}
	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	more := appendN(t, w, 100, 3)
	w.Close()
	got := readAll(t, dir).seqs
	if got[len(got)-1] != more[len(more)-1] || got[len(got)-1] <= seqs[len(seqs)-1] {
		t.Fatalf("after reopen: last %d; want %d, above every number used before", got[len(got)-1], more[len(more)-1])
	}
}

// TestTornFlushSameBoot: a SIGKILL inside the flusher's write leaves a
// torn tail, in the boot that wrote it. Nothing acknowledged is lost (the
// stage replays it), so no number is skipped and no note claims a loss.
func TestTornFlushSameBoot(t *testing.T) {
	for _, k := range damageCases() {
		t.Run(k.name, func(t *testing.T) {
			dir := testdir.TempDir(t)
			o := k.o
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			acked := appendN(t, w, 0, 10)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			acked = append(acked, appendN(t, w, 10, 4)...) // staged
			// What the flusher's write(2) would write: the staged frames, or
			// for a packed ring the block that packs them.
			w.mu.Lock()
			var p []byte
			if o.Pack {
				p = slices.Clone(sealBlock(w.block, w.salt, w.blockFirst))
			} else {
				p = slices.Clone(w.st.staged())
			}
			w.mu.Unlock()
			segs := segmentPaths(t, dir)
			w.crash()
			// SIGKILL inside that write(2): it stored only a prefix.
			f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(p[:len(p)-7])
			f.Close()

			w, err = Open(dir, o) // same boot
			if err != nil {
				t.Fatal(err)
			}
			rec := w.Recovery()
			seq, err := w.Append(testRecord(99))
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			res := readAll(t, dir)
			for _, a := range acked {
				if !slices.Contains(res.seqs, a) {
					t.Fatalf("acknowledged %d lost", a)
				}
			}
			if rec.SeqJump != 0 || rec.Resume != nil || !rec.Sealed || seq != acked[len(acked)-1]+1 {
				t.Errorf("nothing was lost, yet: sealed %v, %d numbers skipped, note %+v, new record %d", rec.Sealed, rec.SeqJump, rec.Resume, seq)
			}
		})
	}
}

// TestStageOfDamagedNewestHeader: the newest segment's header damaged
// while the stage holds acknowledged frames for it. The frames are salted
// with the number the segment's name gives, as a reader reads it; Open
// replays them.
func TestStageOfDamagedNewestHeader(t *testing.T) {
	dir := testdir.TempDir(t)
	o := testOptions(codec.Msgpack)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for w.Stats().Segments < 2 {
		appendN(t, w, 0, 10)
		w.Flush()
	}
	appendN(t, w, 0, 1)
	w.Flush()
	acked := appendN(t, w, 100, 5) // staged
	segs := segmentPaths(t, dir)
	w.crash()
	p := segs[len(segs)-1]
	data := read(t, p)
	data[100] ^= 1 // the newest segment's header checksum
	write(t, p, data)
	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	rec := w.Recovery()
	w.Close()
	res := readAll(t, dir)
	for _, a := range acked {
		if !slices.Contains(res.seqs, a) {
			t.Errorf("acknowledged record %d, intact in the stage, dropped (replayed %d)", a, rec.Replayed)
		}
	}
}

// TestRecoverRemovesTmpSegments: a segment a dead writer was creating
// (seg-*.tmp) is removed when the ring is opened again; other files,
// .tmp or not, stay, and the records are all there.
func TestRecoverRemovesTmpSegments(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	acked := appendN(t, w, 0, 5)
	w.crash()
	dead := filepath.Join(dir, segName(w.segSeq+1, o.Codec)+tmpSuffix)
	keep := []string{filepath.Join(dir, "other.tmp"), filepath.Join(dir, "seg-notes.txt")}
	for _, p := range append([]string{dead}, keep...) {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after reopening: %v, want it removed", filepath.Base(dead), err)
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s after reopening: %v, want it kept", filepath.Base(p), err)
		}
	}
	if res := readAll(t, dir); !slices.Equal(res.seqs, acked) {
		t.Errorf("read %v, appended %v", res.seqs, acked)
	}
}

// TestRecoveryLast: Open says which record the writer before wrote last,
// in every codec and staging, after a clean close or a crash with records
// still staged; an empty ring has none.
func TestRecoveryLast(t *testing.T) {
	for _, tc := range []struct {
		name   string
		codec  codec.Codec
		packed bool
		crash  bool
		n      int
	}{
		{"msgpack/closed", codec.Msgpack, false, false, 30},
		{"json/closed", codec.JSON, false, false, 30},
		{"msgpack/crash-staged", codec.Msgpack, false, true, 20},
		{"json/crash-staged", codec.JSON, false, true, 20},
		{"packed/closed", codec.Msgpack, true, false, 200},
		{"packed/crash", codec.Msgpack, true, true, 200},
		{"empty", codec.Msgpack, false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(tc.codec)
			o.StageSize, o.Pack = 16<<10, tc.packed
			w, err := Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			seqs := appendN(t, w, 0, tc.n)
			if tc.crash {
				w.crash()
			} else {
				w.Close()
			}
			w, err = Open(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if tc.crash && !tc.packed && w.Recovery().Replayed == 0 {
				t.Fatal("nothing replayed: the case needs staged records")
			}
			last := w.Recovery().Last
			if tc.n == 0 {
				if last != nil {
					t.Fatalf("empty ring: Last = seq %d, want none", last.Seq)
				}
				return
			}
			if last == nil {
				t.Fatal("Last: none, want the last record written")
			}
			var rec codec.Record
			if err := last.Decode(&rec); err != nil {
				t.Fatal(err)
			}
			want := testRecord(tc.n - 1)
			if last.Seq != seqs[len(seqs)-1] || rec.Mono != want.Mono || !rec.Wall.Equal(want.Wall) || rec.Boot != want.Boot {
				t.Fatalf("Last: seq %d mono %d wall %v boot %x, want seq %d mono %d wall %v", last.Seq, rec.Mono, rec.Wall, rec.Boot, seqs[len(seqs)-1], want.Mono, want.Wall)
			}
		})
	}
}

// TestRecoveryLastEmptyNewest: a crash just after a rotation, the new
// segment's records still in a memory stage, leaves a newest segment of
// no record: Last is the newest record of the segment before.
func TestRecoveryLastEmptyNewest(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(codec.Msgpack)
	o.MemoryStage = true
	w, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("no rotation left a segment of no record")
		}
		appendN(t, w, i, 1)
		paths := segmentPaths(t, dir)
		st, err := os.Stat(paths[len(paths)-1])
		if err != nil {
			t.Fatal(err)
		}
		if len(paths) > 1 && st.Size() <= 256 { // a header alone
			break
		}
	}
	w.crash()
	stored := readAll(t, dir).seqs
	if len(stored) == 0 {
		t.Fatal("nothing in the segments")
	}
	w, err = Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if last := w.Recovery().Last; last == nil || last.Seq != stored[len(stored)-1] {
		t.Fatalf("Last %+v, want seq %d, the newest record stored", last, stored[len(stored)-1])
	}
}
