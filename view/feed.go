package view

import (
	"errors"

	"github.com/itiny/itiny/ringlog"
)

// A feeder reads one ring ahead, in its own goroutine: it reads, checks
// and decodes records in batches while the merge and the printing of the
// records before them run, so that a dump uses two cores. Records in a
// batch alias the batch's copy of their bytes, which stays untouched until
// the merge hands the batch back.
//
// What a feeder holds is bounded whatever the ring holds: a batch ends
// once its records' bytes and what they take decoded pass batchBytes, and
// a record larger than bigRecord is not copied: it ends its batch, and the
// feeder reads on only once the merge has handed that batch back. So a
// feeder holds at most batches x (batchBytes + bigRecord + a record of
// MaxValues decoded), about 4.5 MB, and its entries keep at most
// keepValues values each between batches, about 3.5 MB more. The copy of
// a JSON record to unescape (slot) is in the batch's bytes; a big one's
// is the slot's, for as long as the record.
type feeder struct {
	full chan *batch
	free chan *batch
	stop chan struct{}
}

type batch struct {
	ents []fed
	n    int
	buf  []byte
	size int   // bytes of the records and what they take decoded
	big  bool  // the last entry's payload is the reader's, not buf's
	end  error // after the entries: io.EOF, or why reading stopped
}

type fed struct {
	e   ringlog.Entry
	rec slot
	err error // damage, or (with e set) why the record does not decode
}

const (
	batchRecords = 256
	batchBytes   = 256 << 10
	batches      = 3
	bigRecord    = 64 << 10
)

func startFeeder(r *ringlog.Reader) *feeder {
	f := &feeder{full: make(chan *batch, batches), free: make(chan *batch, batches), stop: make(chan struct{})}
	for i := 0; i < batches; i++ {
		f.free <- &batch{ents: make([]fed, batchRecords)}
	}
	go f.run(r)
	return f
}

func (f *feeder) run(r *ringlog.Reader) {
	var back []*batch // handed back while waiting for a big record's batch
	for {
		var b *batch
		if n := len(back); n > 0 {
			b, back = back[n-1], back[:n-1]
		} else {
			select {
			case b = <-f.free:
			case <-f.stop:
				return
			}
		}
		f.fill(r, b)
		select {
		case f.full <- b:
		case <-f.stop:
			return
		}
		if b.end != nil {
			return
		}
		for b.big {
			// Its last record is the reader's own bytes, valid until the
			// reader reads on: wait for the merge to be done with it.
			select {
			case x := <-f.free:
				back = append(back, x)
				if x == b {
					b.big = false
				}
			case <-f.stop:
				return
			}
		}
	}
}

// fill reads records into b.
func (f *feeder) fill(r *ringlog.Reader, b *batch) {
	b.n, b.buf, b.size, b.big, b.end = 0, b.buf[:0], 0, false, nil
	for b.n < batchRecords && b.size < batchBytes && !b.big {
		e, err := r.Next()
		fe := &b.ents[b.n]
		if err != nil {
			var d *ringlog.Damage
			if !errors.As(err, &d) {
				b.end = err
				return
			}
			fe.e, fe.err = ringlog.Entry{}, d
			b.n++
			continue
		}
		fe.e = e
		if b.big = len(e.Payload) > bigRecord; b.big {
			fe.err = fe.rec.decode(&fe.e)
		} else {
			start := len(b.buf)
			b.buf = append(b.buf, e.Payload...)
			fe.e.Payload = b.buf[start:len(b.buf):len(b.buf)]
			// A copy to unescape in place, if one is needed, goes in
			// the batch's buffer too: the slot keeps none between batches.
			fe.err = fe.rec.decodeIn(&fe.e, &b.buf)
		}
		b.size += len(e.Payload) + fe.rec.size()
		b.n++
	}
}

func (f *feeder) close() { close(f.stop) }
