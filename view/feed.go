package view

import (
	"errors"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// A feeder reads one ring ahead, in its own goroutine: it reads, checks
// and decodes records in batches while the merge and the printing of the
// records before them run, so that a dump uses two cores. Records in a
// batch alias the batch's copy of their bytes, which stays untouched until
// the merge hands the batch back.
type feeder struct {
	full chan *batch
	free chan *batch
	stop chan struct{}
}

type batch struct {
	ents []fed
	n    int
	buf  []byte
	end  error // after the entries: io.EOF, or why reading stopped
}

type fed struct {
	e   ringlog.Entry
	rec codec.Record
	err error // damage, or (with e set) why the record does not decode
}

const (
	batchRecords = 256
	batchBytes   = 256 << 10
	batches      = 3
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
	for {
		var b *batch
		select {
		case b = <-f.free:
		case <-f.stop:
			return
		}
		b.n, b.buf, b.end = 0, b.buf[:0], nil
		for b.n < batchRecords && len(b.buf) < batchBytes {
			e, err := r.Next()
			fe := &b.ents[b.n]
			if err != nil {
				var d *ringlog.Damage
				if !errors.As(err, &d) {
					b.end = err
					break
				}
				*fe = fed{err: d}
				b.n++
				continue
			}
			start := len(b.buf)
			b.buf = append(b.buf, e.Payload...)
			e.Payload = b.buf[start:len(b.buf):len(b.buf)]
			fe.e, fe.err = e, nil
			if err := e.Codec.DecodeAlias(e.Payload, &fe.rec); err != nil {
				fe.err = err
			}
			b.n++
		}
		select {
		case f.full <- b:
		case <-f.stop:
			return
		}
		if b.end != nil {
			return
		}
	}
}

func (f *feeder) close() { close(f.stop) }
