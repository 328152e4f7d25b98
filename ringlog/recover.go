package ringlog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/randid"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// A Recovery reports what Open found and repaired.
type Recovery struct {
	New      bool      // the ring did not exist
	Clean    bool      // the previous writer closed the ring cleanly
	Replayed int       // acknowledged records moved from the stage to a segment
	Sealed   bool      // the newest segment had a damaged tail and was sealed
	Damage   []*Damage // damage at the tail of the newest segments, and a damaged stage header
	// SeqJump counts the numbers passed over because records may have
	// been lost; Resume, then set, is the note recorded at the first new
	// number that says what they were.
	SeqJump uint64
	Resume  *Resume
	// Last is the newest record the ring held before Open, a replayed
	// one included, its payload a copy (Segment and Offset unset); nil
	// when it held none that could be read. A program learns from it
	// what the writer before wrote last: when, and in which boot.
	Last *Entry
}

// recover finds where the ring ends, repairs its tail and chooses the
// next number. The rule it keeps: every new number is above every number
// a reader could have seen, so that no number names two records and a
// reader, which passes over numbers it has read, never drops a new one.
func (w *Writer) recover(si stageInfo) error {
	// A segment being created when the writer died. Not filepath.Glob:
	// its matcher and sort cost the firmware 7 KB (docs/DESIGN.md
	// section 14).
	ents, _ := osDir(w.dir).readDir()
	removed := false
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, segPrefix) && strings.HasSuffix(n, tmpSuffix) {
			os.Remove(filepath.Join(w.dir, n))
			removed = true
		}
	}
	if removed {
		syncDir(w.dir)
	}
	segs, err := listSegments(osDir(w.dir))
	if err != nil {
		return tinyfmt.Errorf("ringlog: %w", err)
	}
	segs = regularOnly(segs)
	stagePath := filepath.Join(w.dir, stageName)
	if errors.Is(si.err, ErrUnsupported) {
		return tinyfmt.Errorf("ringlog: %s: %w; not appending", stagePath, si.err)
	}
	markStale(segs, si)
	active := -1 // the newest segment with a valid header
	for i := range segs {
		s := &segs[i]
		if errors.Is(s.hdrErr, ErrUnsupported) {
			return tinyfmt.Errorf("ringlog: %s: %w; not appending", s.path, s.hdrErr)
		}
		if s.hdrErr != nil {
			continue
		}
		if s.hdr.Stream != w.o.Stream {
			return tinyfmt.Errorf("ringlog: %s holds stream %q, not %q", s.path, s.hdr.Stream, w.o.Stream)
		}
		active = i
	}
	w.segs = segs
	for _, s := range segs {
		w.used += roundUp(s.size, w.blk)
		w.segSeq = max(w.segSeq, s.hdr.Segment)
	}
	// The segments say which ring this is; a stage that disagrees was
	// copied in or left over, and its frames and mark are not this ring's.
	switch {
	case active >= 0:
		w.ring = segs[active].hdr.Ring
	case si.valid:
		w.ring = si.ring
	default:
		if err := randid.Read(w.ring[:]); err != nil {
			return err
		}
	}
	stageOK := si.valid && si.ring == w.ring
	switch {
	case si.err != nil:
		w.rec.Damage = append(w.rec.Damage, &Damage{Segment: stagePath, Length: stageHeaderSize, Err: si.err})
	case si.valid && !stageOK:
		w.rec.Damage = append(w.rec.Damage, &Damage{Segment: stagePath, Length: stageHeaderSize,
			Err: tinyfmt.Errorf("%w: ring %x, not %x", ErrBadStage, si.ring[:], w.ring[:])})
	}
	for _, s := range segs {
		if s.hdrErr == ErrStaleSegment {
			w.rec.Damage = append(w.rec.Damage, &Damage{Segment: s.path, Length: s.size, Err: s.hdrErr})
		}
	}
	// The mark on disk stays as it is until the end: replaying and the
	// resume note must not lower it, should Open itself be cut short.
	w.hw = ^uint64(0)
	w.hwSynced.Store(w.hw)
	w.rec.New = len(segs) == 0 && !si.valid && si.err == nil
	w.rec.Clean = w.rec.New || stageOK && si.state == stateClosed

	// last is the highest number a reader could have seen: in the newest
	// segment, in segments after it whose headers are damaged (a reader
	// reads their frames), and below any segment's first number.
	var last uint64
	for _, s := range segs {
		if s.hdrErr == nil && s.hdr.First > 0 {
			last = max(last, s.hdr.First-1)
		}
	}
	var staleLast uint64 // the highest number in other rings' segments and their staged frames
	var size int64       // of the newest segment
	for i := range segs {
		s := &segs[i]
		// The newest segment, those after it whose headers are damaged
		// (the ring's tail is then uncertain, and the frames a reader
		// would read in them count), and every other ring's segment,
		// whose numbers a reader may have read before.
		if i < active && s.hdrErr != ErrStaleSegment {
			continue
		}
		data, err := readFile(osDir(w.dir), s.name, nil)
		if err != nil {
			return tinyfmt.Errorf("ringlog: %w", err)
		}
		hi := w.scanTail(s, data)
		if s.hdrErr == ErrStaleSegment {
			staleLast = max(staleLast, hi)
			continue
		}
		if i == active {
			size = int64(len(data))
		}
		last = max(last, hi)
	}
	// A newest segment of no record (made just before a crash took what
	// the stage held in memory): the last record is in one before it.
	for i := active - 1; i >= 0 && w.rec.Last == nil; i-- {
		if s := &segs[i]; s.hdrErr == nil {
			if data, err := readFile(osDir(w.dir), s.name, nil); err == nil {
				w.rec.Last = lastEntry(s, data)
			}
		}
	}
	var staged []frame
	var stagedCodec codec.Codec
	if stageOK && active >= 0 {
		// Staged frames are salted for the segment that was newest when
		// they were staged (stagedFor); those salted for a newest segment
		// of another ring are not replayed, but their numbers count.
		if raw, err := w.st.readStaged(); err == nil {
			staged, stagedCodec = stagedFor(raw, segs, last+1)
			if n := &segs[len(segs)-1]; n.hdrErr == ErrStaleSegment {
				if fs := stagedFrames(raw, n.hdr, staleLast+1); len(fs) > 0 {
					staleLast = max(staleLast, fs[len(fs)-1].Seq)
				}
			}
		}
	}
	if a := active; a >= 0 && a == len(segs)-1 && !w.rec.Sealed && segs[a].hdr.Codec == w.o.Codec && segs[a].hdr.Flags&packedFlags == w.o.segFlags() {
		// Continue the newest segment.
		name := w.names[0].set(segs[a].name, segs[a].hdr.Segment, segs[a].hdr.Codec, false)
		if w.seg, err = w.d.open(&w.names[0], name, syscall.O_WRONLY); err != nil {
			return tinyfmt.Errorf("ringlog: %w", err)
		}
		w.segSeq, w.segSize = segs[a].hdr.Segment, size
		w.salt = segSalt(w.segSeq)
		w.text = segs[a].hdr.Codec == codec.JSON
	}
	w.next = last + 1

	// Decide where numbering resumes before changing anything on disk,
	// and say so in the stage first: once a new segment is made, the
	// damage or the stage that showed the gap may no longer show it, and
	// a crash before the note would leave the next writer reusing numbers
	// a reader saw.
	own := w.resumeAt(si, stageOK, len(segs) > 0, len(staged) > 0)
	to := max(own, staleLast+1)
	if to > w.next+uint64(len(staged)) {
		if err := w.st.markResume(stageOK, w.ring, uint8(w.o.Codec), w.o.stageBytes(), to, w.o.Boot); err != nil {
			return tinyfmt.Errorf("ringlog: stage: %w", err)
		}
	}
	if len(staged) > 0 {
		if !w.seg.valid() {
			if err := w.rotate(); err != nil {
				return err
			}
		}
		if err := w.replay(staged, stagedCodec); err != nil {
			return err
		}
		f := staged[len(staged)-1]
		p := f.Payload
		if stagedCodec == codec.JSON {
			p = textPayload(p)
		}
		w.rec.Last = &Entry{Seq: f.Seq, Payload: bytes.Clone(p), Codec: stagedCodec}
	}
	reached("replayed")
	// Numbering is unbroken from base: from the writer before's base if
	// it continues that writer's numbers, else from here.
	w.base = w.next
	if stageOK && si.baseOK && !w.rec.New {
		w.base = min(si.base, w.next)
	}
	if to > w.next {
		if err := w.resume(to, w.explain(si, stageOK, own, to)); err != nil {
			return err
		}
		w.base = to
	} else if !w.seg.valid() {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	if err := w.syncSeg(); err != nil {
		return err
	}
	// The stage's new header, mark and state in one write (stage.reset).
	state := uint8(stateOpen)
	if k := chooseStaging(&w.o, true); k == stageMemory || k == stagePacked {
		state = stateOpenMem
	}
	w.hw, w.flushedTo = w.next+hwStep, w.next
	if err := w.st.reset(w.ring, uint8(w.o.Codec), w.o.stageBytes(), w.o.StageSize > 0 && !w.o.MemoryStage, w.hw, w.base, state, w.o.Boot); err != nil {
		return tinyfmt.Errorf("ringlog: stage: %w", err)
	}
	w.staging = chooseStaging(&w.o, w.st.mem != nil)
	w.unmappable = w.staging == stageNone && chooseStaging(&w.o, true) == stageMapped
	if w.staging == stageMemory {
		w.st.mem = make([]byte, stageHeaderSize+w.o.StageSize)
		w.st.anon = true
	}
	reached("stage-written")
	if err := w.st.sync(); err != nil {
		return err
	}
	w.hwSynced.Store(w.hw)
	return nil
}

// scanTail reads a segment's frames as a reader would and returns the
// highest number in them. Damage at its end, a block that checks but does
// not unpack, or a damaged header seal the ring's tail: the writer never
// appends after bytes it cannot read.
func (w *Writer) scanTail(s *segRef, data []byte) uint64 {
	h := s.hdr
	own := s.hdrErr != ErrStaleSegment // another ring's damage is not the ring's
	if s.hdrErr != nil && own {
		h = Header{Segment: s.hdr.Segment, Codec: s.hdr.Codec} // read from its first byte
		w.rec.Sealed = true
		w.rec.Damage = append(w.rec.Damage, &Damage{Segment: s.path, Err: s.hdrErr})
	}
	sc := newScanner(s.path, data, h)
	if own {
		sc.hdrErr = s.hdrErr
	}
	last := max(h.First, 1) - 1
	var newest []byte // the payload of the record numbered newestSeq: data's, or the unpacker's
	var newestSeq uint64
	for {
		f, err := sc.next()
		if err != nil {
			var d *Damage
			if errors.As(err, &d) && own && d.Offset+d.Length == int64(len(data)) && d.Err != s.hdrErr {
				w.rec.Damage = append(w.rec.Damage, d)
				w.rec.Sealed = true
			}
			if err == errPending || d == nil {
				if own && newest != nil && (w.rec.Last == nil || newestSeq >= w.rec.Last.Seq) {
					w.rec.Last = &Entry{Seq: newestSeq, Payload: bytes.Clone(newest), Codec: h.Codec}
				}
				return last
			}
			continue
		}
		l, p, err := lastRecord(f)
		last = max(last, l)
		if p != nil && l >= newestSeq {
			newest, newestSeq = p, l
		}
		if err != nil && own {
			// Checksummed but not a block: the records after the bad
			// entry are unknown, so seal and resume above the mark.
			w.rec.Damage = append(w.rec.Damage, &Damage{Segment: s.path, Offset: int64(sc.off - f.Len), Length: int64(f.Len), Err: ErrBadBlock})
			w.rec.Sealed = true
		}
	}
}

// lastEntry returns the newest record of a segment, a copy, or nil.
func lastEntry(s *segRef, data []byte) *Entry {
	sc := newScanner(s.path, data, s.hdr)
	var newest []byte
	var seq uint64
	for {
		f, err := sc.next()
		if err != nil {
			var d *Damage
			if err != errPending && errors.As(err, &d) {
				continue
			}
			if newest == nil {
				return nil
			}
			return &Entry{Seq: seq, Payload: bytes.Clone(newest), Codec: s.hdr.Codec}
		}
		if l, p, _ := lastRecord(f); p != nil && l >= seq {
			newest, seq = p, l
		}
	}
}

// replay appends the staged frames that continue the newest segment.
// They were framed for the segment that was active then; they are framed
// again, as they may go to a new one, and transcoded if the ring's codec
// changed since.
func (w *Writer) replay(staged []frame, from codec.Codec) error {
	var rec codec.Record
	for _, f := range staged {
		p := f.Payload
		if from == codec.JSON {
			p = textPayload(p)
		}
		if from != w.o.Codec {
			if err := from.Decode(p, &rec); err != nil {
				return tinyfmt.Errorf("ringlog: stream %s: staged record %d: %w", w.o.Stream, f.Seq, err)
			}
			rec.Seq = f.Seq
			var err error
			if p, err = w.o.Codec.Append(nil, &rec); err != nil {
				return tinyfmt.Errorf("ringlog: stream %s: staged record %d: %w", w.o.Stream, f.Seq, err)
			}
		}
		if err := w.appendPayload(p, f.Seq); err != nil {
			return err
		}
		w.rec.Replayed++
	}
	return nil
}

// resumeAt returns the number to continue at when records may have been
// lost, or 0. Numbers at or above the stage's high-water mark were never
// handed out. After a clean close the mark is exact, so records lost
// since (a truncated copy) do not get their numbers reused. After a crash
// it runs ahead of what was used; skip to it when records may have been
// lost (a new boot dropped the page cache, the tail was damaged, or the
// writer kept records in its own memory). Without a mark to trust, the
// writer skips hwStep numbers: the most one writer hands out ahead of the
// mark it keeps.
func (w *Writer) resumeAt(si stageInfo, stageOK, anySegs, replaying bool) uint64 {
	switch {
	case stageOK && si.hwOK:
		// A write cut short, in the boot that wrote it, loses nothing:
		// torn tails only, and either the stage still holds the records
		// after the last whole one (replay restores them) or there was no
		// stage, so the torn record was never acknowledged (Append returns
		// once its write is whole). Any other damage may have cost
		// acknowledged records. A writer that decided to resume and died
		// before its note left the state that says so.
		cutShort := replaying || w.st.size <= stageHeaderSize
		for _, d := range w.rec.Damage {
			cutShort = cutShort && (IsTornTail(d) || errors.Is(d, ErrStaleSegment))
		}
		lost := si.boot != w.o.Boot || si.state == stateOpenMem || si.state == stateResume || w.rec.Sealed && !cutShort
		if w.rec.Clean || lost {
			return si.hw
		}
	case anySegs:
		return w.next + hwStep
	}
	return 0
}

// resume continues numbering at to, in a segment of its own (numbers
// within a segment are consecutive), and records why at its first
// number. The note is in the segment when it gets its name: a crash must
// not leave the gap without its only account, since the next writer,
// finding the numbers used, would see no gap to explain.
func (w *Writer) resume(to uint64, n Resume) error {
	w.rec.SeqJump = to - w.next
	n.After = w.next - 1
	w.next = to
	wall, mono := w.o.Now()
	r := codec.Record{Boot: w.o.Boot, BootCount: w.o.BootCount, Wall: wall, Mono: mono}
	n.fill(&r)
	r.Seq, r.Stream = w.next, w.o.Stream
	b, err := w.o.Codec.Append(framePlaceholder(nil, w.text), &r)
	if err != nil {
		return tinyfmt.Errorf("ringlog: stream %s: resume note: %w", w.o.Stream, err)
	}
	rec := len(b) - frameOverhead(w.text)
	if err := w.rotateWith(b); err != nil {
		return err
	}
	w.wrote.record += int64(rec)
	w.next++
	w.rec.Resume = &n
	return nil
}

// explain says what the gap a resume at to leaves holds, from what the
// stage says of the writer before; own is where the ring's own state
// would resume, to may be above it for numbers other rings' segments in
// the directory used.
func (w *Writer) explain(si stageInfo, stageOK bool, own, to uint64) Resume {
	if own <= w.next {
		// Left over or copied in, or the ring's own segment with a
		// header damaged to name another: which, nothing tells.
		return Resume{Loss: LossPossible, Lost: to - w.next, Cause: "a segment whose header names another ring used these numbers",
			Bound: "the records of that segment, and those staged for it, if it was this ring's"}
	}
	r := w.explainOwn(si, stageOK, own-w.next)
	if to > own {
		r.Loss, r.Lost = LossPossible, to-w.next
		r.Bound += "; and up to the numbers a segment of another ring used"
	}
	return r
}

// explainOwn says what the gap of n numbers the ring's own state makes
// holds.
func (w *Writer) explainOwn(si stageInfo, stageOK bool, n uint64) Resume {
	r := Resume{Loss: LossPossible, Lost: n}
	mem := "records of the last " + w.o.FlushEvery.String() + " in a " + strconv.Itoa(w.o.StageSize) + "-byte memory buffer"
	switch {
	case !stageOK || !si.hwOK:
		r.Cause, r.Bound = "the stage and its mark were lost", "the numbers reserved ahead of the mark"
	case si.state == stateResume:
		r.Cause, r.Bound = "a writer found records possibly lost and died before noting it", "the numbers up to the mark it set"
	case w.rec.Clean && si.baseOK && si.base <= w.next:
		r.Loss, r.Cause = LossExact, "records missing after a clean close"
	case w.rec.Clean:
		// Some of the numbers may be below the writer before's base: an
		// earlier resume may have skipped them, and they were never records.
		r.Cause = "records missing after a clean close"
		b := strconv.FormatUint(max(si.base, w.next), 10)
		r.Bound = "numbers from " + b + " on were records; below " + b + ", an earlier resume may have skipped numbers, never records, counted here"
	case w.rec.Sealed:
		r.Cause, r.Bound = "the newest segment's tail was damaged", "the damaged bytes"
	case si.boot == w.o.Boot: // the same boot: only a memory buffer is lost
		r.Cause, r.Bound = "the writer died with records in memory", mem
	case si.state == stateOpenMem:
		r.Cause, r.Bound = "a reboot or power cut with records in memory", mem+", and unsynced ones"
	default:
		// The stage does not say how the writer before synced; the
		// bound is this writer's policy, which a changed configuration
		// may not share, so not even sync always claims nothing lost.
		r.Cause, r.Bound = "a reboot or power cut before a sync", "unsynced records (sync none)"
		switch w.o.Sync {
		case SyncAlways:
			r.Bound = "unsynced records (sync always)"
		case SyncInterval:
			r.Bound = "records of the last " + w.o.SyncEvery.String() + " (sync interval)"
		}
		r.Bound += ", if synced alike before"
	}
	return r
}

// stagedFor returns the stage's frames that continue next, and the codec
// they were framed in. They are salted for the segment that was newest
// when they were staged: the newest now, unless an Open that failed
// part-way (a full disk) moved some of them into segments it made; then
// an older one, whose salt is tried in turn. A frame that verifies is
// the record of its number whichever segment's salt it has, as numbers
// are never used twice (stagedFrames).
func stagedFor(raw []byte, segs []segRef, next uint64) ([]frame, codec.Codec) {
	for i := len(segs) - 1; i >= 0; i-- {
		if s := &segs[i]; s.hdrErr != ErrStaleSegment {
			if fs := stagedFrames(raw, s.hdr, next); len(fs) > 0 {
				return fs, s.hdr.Codec
			}
		}
	}
	return nil, 0
}

// stagedFrames returns the frames in a stage's frame area that continue
// the active segment's sequence at next. Frames already in the segment
// are passed over; the run ends at the first frame that does not verify or
// leaves a hole: a frame being written when the writer died, or stale
// bytes. A frame that verifies under the segment's salt is always that
// segment's record of its number, as numbers are never used twice, so
// replaying it is right even when it is left from an earlier fill.
func stagedFrames(raw []byte, hdr Header, next uint64) []frame {
	var fs []frame
	text, s := hdr.Codec == codec.JSON, segSalt(hdr.Segment)
	for off := 0; off < len(raw); {
		f, st := parseFrame(raw[off:], text, s, MaxSegmentSize)
		if st != frameOK || f.Seq > next {
			break
		}
		if f.Seq == next {
			fs = append(fs, f)
			next++
		}
		off += f.Len
	}
	return fs
}

// textPayload turns a text frame's line back into the record's JSON.
func textPayload(line []byte) []byte {
	p := make([]byte, 0, len(line)-textPrefixLen+1)
	p = append(p, '{')
	return append(p, line[textPrefixLen:]...)
}
