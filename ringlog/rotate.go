package ringlog

import (
	"errors"
	"os"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// writeSeg appends p, which holds frames frames (a packed block is one),
// to the active segment, deleting old segments first if the budget
// requires. A failed write is cut off again, so that no partial frame
// stays; if even that fails, the segment is not appended to again.
func (w *Writer) writeSeg(p []byte, frames int) error {
	old := roundUp(w.segSize, w.blk)
	grow := roundUp(w.segSize+int64(len(p)), w.blk) - old
	if err := w.reserve(grow); err != nil {
		return err
	}
	n, err := w.seg.writeAt(p, w.segSize)
	w.wrote.handed += int64(n)
	w.wrote.writes++
	if err != nil {
		if n > 0 && w.seg.truncate(w.segSize) != nil {
			w.dirty = true
		}
		return tinyfmt.Errorf("ringlog: stream %s: write %s: %w", w.o.Stream, w.segPath(&w.segs[len(w.segs)-1]), err)
	}
	w.segSize += int64(n)
	w.segs[len(w.segs)-1].size = w.segSize
	w.used += roundUp(w.segSize, w.blk) - old
	w.segWritten(p, 0, frames)
	w.markUnsynced()
	return nil
}

// reserve deletes the oldest segments until grow more bytes fit in the
// budget. The active segment is never deleted; Open checked that the
// budget holds the stage and two full segments.
func (w *Writer) reserve(grow int64) error {
	stage := roundUp(int64(w.o.stageBytes()), w.blk)
	for w.used+grow+stage > w.o.Budget {
		if len(w.segs) <= 1 {
			return tinyfmt.Errorf("ringlog: stream %s: budget %d exceeded with one segment", w.o.Stream, w.o.Budget)
		}
		old := w.segs[0]
		name := w.names[0].set(old.name, old.hdr.Segment, old.hdr.Codec, false)
		if err := w.d.remove(&w.names[0], name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return tinyfmt.Errorf("ringlog: retention: %w", err)
		}
		// Moved down, not resliced, so that appends reuse the array.
		w.segs = w.segs[:copy(w.segs, w.segs[1:])]
		w.used -= roundUp(old.size, w.blk)
		w.deleted++
		if err := w.dirChanged(); err != nil {
			return tinyfmt.Errorf("ringlog: retention: %w", err)
		}
	}
	return nil
}

// markUnsynced notes data in the active segment not yet synced; the first
// such write starts the SyncInterval clock.
func (w *Writer) markUnsynced() {
	if !w.unsynced {
		w.unsynced, w.unsyncedAt = true, time.Now()
		if w.o.Sync == SyncInterval {
			w.wake()
		}
	}
}

// dirChanged makes a change to the directory (a segment created or
// deleted) durable: at once under SyncAlways, else by the flusher, within
// the policy's loss window. Until then a power cut may undo the change,
// never reorder it: a journaling file system commits an unlink and a later
// create in order, so the budget holds on disk either way.
func (w *Writer) dirChanged() error {
	if w.o.Sync == SyncAlways {
		return w.syncDir()
	}
	w.dirDirty = true
	w.wake()
	return nil
}

// rotate seals the active segment and starts a new one whose first record
// will be w.next.
func (w *Writer) rotate() error { return w.rotateWith(nil) }

// rotateWith rotates, and writes first, record w.next's frame as
// framePlaceholder started it, with the new segment's header: the segment
// gets its name with the record in it, so no crash leaves one without the
// other. The caller then counts the number as used.
func (w *Writer) rotateWith(first []byte) error {
	if w.seg.valid() {
		if err := w.flushStage(); err != nil {
			return err
		}
		if w.unsynced {
			w.sealed = append(w.sealed, sealedSeg{w.seg, w.segSeq})
			w.unsynced = false
			w.wake()
		} else {
			w.seg.close()
		}
		w.seg = segFile{}
	}
	// Nothing below changes the writer until the new segment exists: if
	// creating it fails, w.seg stays invalid and the next Append tries again
	// with the same number, so frames are never staged for a segment that
	// does not exist and segment numbers have no holes.
	wall, mono := w.o.Now()
	segSeq := w.segSeq + 1
	h := Header{Codec: w.o.Codec, Stream: w.o.Stream, Ring: w.ring, Segment: segSeq, First: w.next, Boot: w.o.Boot, Wall: wall, Mono: mono}
	h.Flags = w.o.segFlags()
	hb := appendHeader(w.hdrBuf[:0], &h)
	hdr, frames := len(hb), 0
	if first != nil {
		frames = 1
		var err error
		if hb, err = w.appendFirst(hb, first, segSalt(segSeq)); err != nil {
			return err
		}
	}
	w.hdrBuf = hb
	if err := w.reserve(roundUp(int64(len(hb)), w.blk)); err != nil {
		return err
	}
	// The segment appears under its name only once its header is written,
	// so a reader never finds it without one.
	tmp := w.names[0].set("", segSeq, w.o.Codec, true)
	name := w.names[1].set("", segSeq, w.o.Codec, false)
	f, err := w.d.create(&w.names[0], tmp)
	if err != nil {
		return tinyfmt.Errorf("ringlog: new segment: %w", err)
	}
	n, err := f.writeAt(hb, 0)
	w.wrote.handed += int64(n)
	w.wrote.writes++
	if err != nil {
		err = w.d.pathError("write", tmp, err)
	}
	if err == nil && w.o.Sync == SyncAlways {
		if err = f.datasync(); err != nil {
			err = w.d.pathError("sync", tmp, err)
		}
	}
	renamed := false
	if err == nil {
		err = w.d.rename(&w.names[0], &w.names[1], tmp, name)
		renamed = err == nil
		reached("segment-renamed")
	}
	if err == nil {
		err = w.dirChanged()
	}
	if err != nil {
		f.close()
		if renamed { // a failed directory sync: the segment is under its name
			w.d.remove(&w.names[1], name)
		} else {
			w.d.remove(&w.names[0], tmp)
		}
		return tinyfmt.Errorf("ringlog: new segment: %w", err)
	}
	w.seg, w.segSize, w.dirty = f, int64(len(hb)), false
	w.segSeq, w.salt = segSeq, segSalt(segSeq)
	if w.o.Sync != SyncAlways {
		w.markUnsynced() // the header
	}
	w.text = w.o.Codec == codec.JSON
	w.segs = append(w.segs, segRef{hdr: h, size: w.segSize}) // named by its number
	w.used += roundUp(w.segSize, w.blk)
	w.segWritten(hb, hdr, frames)
	return nil
}

// appendFirst appends frame f, record w.next's, sealed with salt s, to
// b: in a block of its own in a packed ring.
func (w *Writer) appendFirst(b, f []byte, s salt) ([]byte, error) {
	f = sealFrame(f, w.text, s, w.next)
	if w.o.Pack {
		if err := w.packStaged(f); err != nil {
			return b, err
		}
		f = sealBlock(w.block, s, w.next)
		w.block = w.block[:0]
	}
	return append(b, f...), nil
}

// syncMark makes the high-water mark durable now.
func (w *Writer) syncMark() error {
	if err := w.st.syncHeader(); err != nil {
		return tinyfmt.Errorf("ringlog: stream %s: sync stage: %w", w.o.Stream, err)
	}
	w.hwDirty = false
	w.hwSynced.Store(w.hw)
	return nil
}

func (w *Writer) syncSeg() error {
	if w.hwDirty {
		if err := w.syncMark(); err != nil {
			return err
		}
	}
	if !w.unsynced || !w.seg.valid() {
		return nil
	}
	if err := w.datasync(w.seg); err != nil {
		return tinyfmt.Errorf("ringlog: stream %s: sync: %w", w.o.Stream, err)
	}
	w.unsynced = false
	return nil
}
