package ringlog

import (
	"encoding/binary"
	"time"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// How acknowledged records wait for the segment, chosen once at Open.
// Packing (Options.Pack) is apart from it: a property of the segments.
type staging uint8

const (
	// stageNone writes each record straight to the segment: no stage,
	// SyncAlways, or a stage file that cannot be mapped (JFFS2).
	stageNone staging = iota
	// stageMapped copies frames into the mapped stage file: they survive
	// the death of the process without a system call.
	stageMapped
	// stageMemory keeps frames in the process's memory until a flush
	// (Options.MemoryStage): they are lost if the process dies.
	stageMemory
	// stagePacked packs records into the block in the process's memory,
	// which is the stage: a packed ring with a memory stage.
	stagePacked
)

// chooseStaging picks the strategy for o, once the stage file is reset
// (mapped says whether mapping it worked).
func chooseStaging(o *Options, mapped bool) staging {
	switch {
	case o.Sync == SyncAlways || o.StageSize < 0:
		return stageNone
	case o.MemoryStage && o.Pack:
		return stagePacked
	case o.MemoryStage:
		return stageMemory
	case mapped:
		return stageMapped
	}
	return stageNone
}

// WritePath says how acknowledged records reach the segment, as the
// agent's agent.start names it: "mapped" (the mapped stage file, which a
// crash of the process does not lose), "memory" (the process's memory
// until a flush: periodic streams), "direct" (a write to the segment at
// each record: SyncAlways, no stage), or "direct-unmappable" (the same,
// because the file system cannot map files shared, as JFFS2 cannot).
func (w *Writer) WritePath() string {
	switch {
	case w.staging == stageMapped:
		return "mapped"
	case w.staging == stageMemory || w.staging == stagePacked:
		return "memory"
	case w.unmappable:
		return "direct-unmappable"
	}
	return "direct"
}

// put stores a sealed frame: staged, or straight into the segment when
// there is no stage or the frame does not fit in it.
func (w *Writer) put(f []byte) error {
	switch w.staging {
	case stagePacked:
		return w.putPacked(f)
	case stageMapped, stageMemory:
		if len(f) <= len(w.st.mem)-stageHeaderSize {
			return w.putStaged(f)
		}
	}
	return w.putDirect(f)
}

// putPacked adds f's record to the block, which holds up to StageSize
// bytes and as many records as pack.Encoder.Fits, flushing it first when
// it is full.
func (w *Writer) putPacked(f []byte) error {
	if len(w.block) > 0 && (len(w.block)+len(f)+binFrameHeader > w.o.StageSize || !w.pk.Fits(len(f)-binFrameHeader)) {
		if err := w.flushStage(); err != nil {
			return err
		}
	}
	if len(w.block) == 0 {
		w.stagedAt = time.Now()
		w.wake()
	}
	return w.packStaged(f)
}

// putStaged copies f into the stage, flushing it first when it is full,
// or when a packed ring's block could not take f's record.
func (w *Writer) putStaged(f []byte) error {
	if len(f) > w.st.free() || w.o.Pack && len(w.block) > 0 && !w.pk.Fits(len(f)-binFrameHeader) {
		if err := w.flushStage(); err != nil {
			return err
		}
	}
	if w.st.n == 0 {
		w.stagedAt = time.Now()
		w.wake()
	}
	at := w.st.n
	w.st.put(f)
	if w.o.Pack {
		// Packed as well as staged: the stage file keeps the frames a
		// crash would otherwise lose.
		if err := w.packStaged(f); err != nil {
			w.st.n = at
			return err
		}
	}
	w.stagedFrames++
	return nil
}

// putDirect writes f to the segment after whatever is staged; under
// SyncAlways it is synced before the record counts as appended.
func (w *Writer) putDirect(f []byte) error {
	if err := w.flushStage(); err != nil {
		return err
	}
	if w.o.Pack {
		if err := w.packStaged(f); err != nil {
			return err
		}
		f = sealBlock(w.block, w.salt, w.blockFirst)
		w.block = w.block[:0]
	}
	before := w.segSize
	if err := w.writeSeg(f, 1); err != nil {
		return err
	}
	if w.o.Sync == SyncAlways {
		if err := w.syncSeg(); err != nil {
			// Not acknowledged, so not kept: cut the frame off again, or
			// stop appending to this segment if even that fails.
			if w.seg.truncate(before) == nil {
				w.used -= roundUp(w.segSize, w.blk) - roundUp(before, w.blk)
				w.segSize = before
				w.segs[len(w.segs)-1].size = before
			} else {
				w.dirty = true
			}
			return err
		}
	}
	return nil
}

// packStaged adds the record of sealed frame f to the block.
func (w *Writer) packStaged(f []byte) error {
	seq := binary.LittleEndian.Uint64(f[8:])
	if len(w.block) == 0 {
		w.pk.Reset()
		w.block = framePlaceholder(w.block, false)
		w.blockFirst = seq
	}
	b, err := w.pk.Append(w.block, f[binFrameHeader:], seq)
	if err != nil {
		if w.pk.Len() == 0 {
			w.block = w.block[:0]
		}
		return tinyfmt.Errorf("ringlog: stream %s: %w", w.o.Stream, err)
	}
	w.block = b
	return nil
}

// stagedBytes is what a flush of the stage would add to the segment.
func (w *Writer) stagedBytes() int {
	if w.o.Pack {
		return len(w.block)
	}
	return w.st.n
}

// hasStaged reports whether records wait for a flush.
func (w *Writer) hasStaged() bool { return w.st.n > 0 || len(w.block) > 0 }

// flushStage writes the staged frames to the active segment.
func (w *Writer) flushStage() error {
	if !w.hasStaged() {
		return nil
	}
	var p []byte
	frames := 1
	if w.o.Pack {
		p = sealBlock(w.block, w.salt, w.blockFirst)
	} else {
		p, frames = w.st.staged(), w.stagedFrames
	}
	if err := w.writeSeg(p, frames); err != nil {
		return err
	}
	w.st.n, w.stagedFrames = 0, 0
	w.block = w.block[:0]
	if w.staging == stageMemory || w.staging == stagePacked {
		return w.markAhead()
	}
	return nil
}

// markAhead raises the high-water mark at a flush of a memory stage, far
// enough ahead of the rate of the flushes so far that Append seldom has
// to: the flusher then syncs the stage's header in the same moment as
// the segment, and the file system makes one journal commit of both,
// not one at each flush and one whenever the numbers reach half a step
// (docs/DESIGN.md section 5; BENCHMARKS 16). Numbers the mark reserves
// are passed over only after a crash, and the resume note bounds the
// records lost by its cause, not by the numbers.
func (w *Writer) markAhead() error {
	n := w.next - min(w.flushedTo, w.next) // records since the last flush
	w.flushedTo = w.next
	ahead := hwStep + 4*min(n, maxAhead)
	if w.next+ahead/2 < w.hw {
		return nil
	}
	return w.setMark(w.next + ahead)
}
