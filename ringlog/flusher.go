package ringlog

import (
	"errors"
	"time"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// datasync syncs f and records how long it took.
func (w *Writer) datasync(f segFile) error {
	start := time.Now()
	err := f.datasync()
	d := int64(time.Since(start))
	w.syncs.Add(1)
	w.syncNs.Add(d)
	for m := w.syncMaxNs.Load(); d > m && !w.syncMaxNs.CompareAndSwap(m, d); m = w.syncMaxNs.Load() {
	}
	return err
}

// syncDir syncs the ring's directory and counts it.
func (w *Writer) syncDir() error {
	w.dirSyncs.Add(1)
	return w.d.sync()
}

// pending is what the flusher syncs outside mu.
type pending struct {
	sealed []sealedSeg
	dir    bool
	hw     uint64 // a raised mark to sync, or 0
}

// takePending hands the sync work queued by rotations to the caller.
// Called with mu and syncMu held: the work taken the time before has been
// done, so its buffer takes the next rotations.
func (w *Writer) takePending() pending {
	p := pending{sealed: w.sealed, dir: w.dirDirty}
	w.sealed, w.spare, w.dirDirty = w.spare[:0], w.sealed, false
	if w.hwDirty {
		p.hw, w.hwDirty = w.hw, false
	}
	return p
}

// syncPending syncs the stage's mark (before the records it covers), the
// sealed segments, then the directory. Called with syncMu held.
func (w *Writer) syncPending(p pending) error {
	var errs []error
	if p.hw != 0 {
		if err := w.st.syncHeader(); err != nil {
			errs = append(errs, tinyfmt.Errorf("ringlog: stream %s: sync stage: %w", w.o.Stream, err))
		} else if p.hw > w.hwSynced.Load() {
			w.hwSynced.Store(p.hw) // only the flusher and mu's holders store; syncMu orders them
		}
	}
	if err := w.syncSealed(p.sealed); err != nil {
		errs = append(errs, err)
	}
	if p.dir {
		if err := w.syncDir(); err != nil {
			errs = append(errs, tinyfmt.Errorf("ringlog: stream %s: sync directory: %w", w.o.Stream, err))
		}
	}
	return errors.Join(errs...)
}

// keepSyncErr remembers the first background sync error.
func (w *Writer) keepSyncErr(err error) {
	if err != nil {
		e := err // only an error is moved to the heap, not every call's nil
		w.syncErr.CompareAndSwap(nil, &e)
	}
}

func (w *Writer) takeSyncErr() error {
	if p := w.syncErr.Swap(nil); p != nil {
		return *p
	}
	return nil
}

type sealedSeg struct {
	f   segFile
	seq uint64 // of the segment, in the writer's codec
}

// syncSealed syncs and closes sealed segments and returns the first error.
func (w *Writer) syncSealed(ss []sealedSeg) error {
	var first error
	for _, s := range ss {
		err := w.datasync(s.f)
		s.f.close()
		if err != nil && first == nil {
			first = tinyfmt.Errorf("ringlog: stream %s: sync %s: %w", w.o.Stream, w.pathOf(s.seq, w.o.Codec), err)
		}
	}
	return first
}

// writebackAge is how long Linux leaves a dirty page in the page cache
// before writing it back (vm.dirty_expire_centisecs, 30 s by default).
const writebackAge = 30 * time.Second

// syncFlushes says whether the flusher syncs the segment after each flush
// of a memory stage: when flushes are at least writebackAge apart, the
// kernel writes each flush on its own anyway, and writing it at once puts
// the data and the file system's metadata for it (the file's times, the
// extent a write into preallocated blocks converts) in one journal
// commit instead of two, half a minute apart (BENCHMARKS 16). Under
// writebackAge, the kernel's writeback gathers several flushes: syncing
// each would write more.
func (w *Writer) syncFlushes() bool {
	return (w.staging == stageMemory || w.staging == stagePacked) && w.o.FlushEvery >= writebackAge
}

func (w *Writer) flusher() {
	defer w.wg.Done()
	// The flusher sleeps while there is nothing to do: an idle ring costs
	// no wake-ups. The first record staged after idle, and under
	// SyncInterval the first write left unsynced, wake it (w.kick); it
	// then flushes staged records FlushEvery after the first of them, and
	// syncs SyncEvery after the first unsynced write. A periodic stream
	// with a short sync interval thus still writes only every FlushEvery.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-w.stop:
			timer.Stop()
			return
		case <-timer.C:
		case <-w.kick:
		}
		w.mu.Lock()
		var next time.Time
		var flushed segFile
		syncFlushed := false
		if !w.closed {
			now := time.Now()
			if w.hasStaged() {
				due := w.stagedAt.Add(w.o.FlushEvery)
				// An error here (a full disk) leaves the frames staged;
				// the next Append that needs the room reports it.
				switch {
				case now.Before(due):
					next = due
				case w.flushStage() != nil:
					next = now.Add(w.o.FlushEvery)
				default:
					syncFlushed = w.syncFlushes()
				}
			}
			if w.o.Sync == SyncInterval && w.unsynced {
				due := w.unsyncedAt.Add(w.o.SyncEvery)
				if now.Before(due) {
					next = earliest(next, due)
				} else {
					w.keepSyncErr(w.syncSeg())
				}
			}
			if syncFlushed && w.unsynced {
				// Still unsynced (the interval's sync above did not
				// take it), so a rotation hands it to the flusher to
				// close, under syncMu, which this holds while it syncs;
				// a synced one a rotation closes at once.
				flushed = w.seg
			}
		}
		w.syncMu.Lock()
		p := w.takePending()
		w.mu.Unlock()
		w.keepSyncErr(w.syncPending(p))
		if flushed.valid() {
			reached("flush-sync")
			if err := w.datasync(flushed); err != nil {
				w.keepSyncErr(tinyfmt.Errorf("ringlog: stream %s: sync: %w", w.o.Stream, err))
			}
		}
		w.syncMu.Unlock()
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
	}
}

// earliest returns the earlier of two times, ignoring a zero one.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// wake tells the flusher there is work; it never blocks.
func (w *Writer) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}
