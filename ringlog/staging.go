package ringlog

import (
	"encoding/binary"
	"fmt"
	"time"
)

// put stores a sealed frame: in the stage when it fits, else straight
// into the segment.
func (w *Writer) put(f []byte) error {
	switch {
	case w.packMem():
		// The block is the stage: it holds up to StageSize bytes.
		if len(w.block) > 0 && len(w.block)+len(f)+binFrameHeader > w.o.StageSize {
			if err := w.flushStage(); err != nil {
				return err
			}
		}
		if len(w.block) == 0 {
			w.stagedAt = time.Now()
			w.wake()
		}
		return w.packStaged(f)
	case w.st.mem != nil && w.o.Sync != SyncAlways && len(f) <= len(w.st.mem)-stageHeaderSize:
		if len(f) > w.st.free() {
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
			// Packed as well as staged: the stage file keeps the frames
			// a crash would otherwise lose.
			if err := w.packStaged(f); err != nil {
				w.st.n = at
				return err
			}
		}
		return nil
	}
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
	if err := w.writeSeg(f); err != nil {
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

// packMem reports whether staged records are kept only as the packed
// block in memory (a packed ring with a memory stage).
func (w *Writer) packMem() bool {
	return w.o.Pack && w.o.MemoryStage && w.o.StageSize > 0 && w.o.Sync != SyncAlways
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
		return fmt.Errorf("ringlog: stream %s: %w", w.o.Stream, err)
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
	if w.o.Pack {
		p = sealBlock(w.block, w.salt, w.blockFirst)
	} else {
		p = w.st.staged()
	}
	if err := w.writeSeg(p); err != nil {
		return err
	}
	w.st.n = 0
	w.block = w.block[:0]
	return nil
}
