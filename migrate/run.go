package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/itiny/itiny/codec"
)

// Options configure Run.
type Options struct {
	// Window is how many messages may be in flight, unacknowledged; a
	// checkpoint follows each window. 0 means DefaultWindow.
	Window int
	// Checkpoint is the checkpoint file's path. Required.
	Checkpoint string
	// Convert re-encodes record payloads in this codec; 0 keeps each
	// record's own.
	Convert codec.Codec
	// Progress, if set, is told of every window.
	Progress *Progress
	// Logf, if set, reports what Run decides (a checkpoint not trusted).
	Logf func(format string, args ...any)
}

// DefaultWindow: big enough that waiting for a window's last
// acknowledgement costs little, small enough that a crash resends little.
const DefaultWindow = 8192

// A RingResult is what Run did with one ring.
type RingResult struct {
	Stream  string
	Sent    uint64        // messages published in this run
	Skipped uint64        // at or below the checkpoint
	Found   uint64        // in the store's tail after the checkpoint: sent before a crash
	Elapsed time.Duration // publishing, tail scan included
}

// Run migrates every ring of p to s, resuming from the checkpoint, and
// returns what it did per ring. Verify it afterwards with Verify.
func Run(ctx context.Context, p *Plan, s Sink, o Options) ([]RingResult, error) {
	if o.Checkpoint == "" {
		return nil, errors.New("migrate: no checkpoint file")
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	cp, err := LoadCheckpoint(o.Checkpoint)
	if err != nil {
		return nil, err
	}
	if cp.Scope != "" && cp.Scope != p.Scope {
		return nil, fmt.Errorf("checkpoint %s is for scope %q, not %q: name another --checkpoint", o.Checkpoint, cp.Scope, p.Scope)
	}
	cp.Scope, cp.Sink = p.Scope, s.Name()
	w := &saver{path: o.Checkpoint}
	// Every destination first: one that cannot take its ring (ErrNoRoom)
	// stops the run before anything is sent.
	dests := make([]string, len(p.Rings))
	for i, r := range p.Rings {
		if dests[i], err = s.Prepare(ctx, p, r); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Stream, err)
		}
	}
	var results []RingResult
	for i, r := range p.Rings {
		res, err := runRing(ctx, r, dests[i], s, cp, w, o, logf)
		results = append(results, res)
		if err != nil {
			w.wait()
			return results, fmt.Errorf("%s: %w", r.Stream, err)
		}
	}
	// Once more, for the rings that had nothing to send: their destination
	// and ring are in the checkpoint for Follow and the next run.
	if err := w.save(cp); err != nil {
		return results, err
	}
	return results, w.wait()
}

func runRing(ctx context.Context, r *RingPlan, dest string, s Sink, cp *Checkpoint, w *saver, o Options, logf func(string, ...any)) (RingResult, error) {
	start := time.Now()
	res := RingResult{Stream: r.Stream}
	sc := cp.Streams[r.Stream]
	switch {
	case sc == nil:
		sc = &StreamCheckpoint{Ring: r.RingID(), Dest: dest}
	case sc.Ring != r.RingID():
		logf("%s: the checkpoint is of ring %s, this is ring %s: starting over", r.Stream, sc.Ring, r.RingID())
		sc = &StreamCheckpoint{Ring: r.RingID(), Dest: dest}
	case sc.Dest != dest:
		logf("%s: the checkpoint is of destination %s, this is %s: scanning all of it", r.Stream, sc.Dest, dest)
		sc = &StreamCheckpoint{Ring: r.RingID(), Dest: dest}
	}
	cp.Streams[r.Stream] = sc
	if c, ok := s.(Checkpointer); ok {
		done, pos, ok, err := c.Checkpointed(ctx, r)
		if err != nil {
			return res, fmt.Errorf("reading the store's checkpoint: %w", err)
		}
		if ok && done > sc.Done {
			sc.Done, sc.Pos = done, pos
		}
	}

	// What the store holds after the checkpoint: sent, never checkpointed.
	found := newFoundSet()
	if err := s.Scan(ctx, r, sc.Pos, found.add); err != nil {
		return res, fmt.Errorf("scanning the store after position %d: %w", sc.Pos, err)
	}

	pub := newPublisher(ctx, s, r, o.Window, sc.Pos)
	done := func(win *window, pos uint64) error {
		last := win.msgs[win.n-1]
		sc.Done, sc.Updated = last.Key(), codec.Time{Time: time.Now().UTC()}
		// What the scan found after the checkpoint was stored by an
		// earlier run, perhaps after positions this run's windows reach
		// (retried messages land late). Until the checkpoint covers all of
		// it, the position stays where the scan started, so that a resume
		// after another crash finds it again instead of sending it twice.
		if sc.Done >= found.maxKey {
			sc.Pos = pos
		}
		sc.Acked += uint64(win.n)
		res.Sent += uint64(win.n)
		if err := w.save(cp); err != nil {
			return err
		}
		if o.Progress != nil {
			o.Progress.add(r.Stream, uint64(win.n))
		}
		return nil
	}
	err := r.walk(r.Scope, o.Convert, func(m *Message) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if m.Key() <= sc.Done {
			res.Skipped++
			return nil
		}
		if found.has(m) {
			res.Found++
			return nil
		}
		return pub.put(m, done)
	})
	if err == nil {
		err = pub.finish(done)
	}
	if err == nil && found.maxKey > sc.Done {
		// The walk is over: every message above the checkpoint was sent
		// and acknowledged, or found stored. Those found last are covered
		// too; left out, a run sending nothing would leave them above the
		// checkpoint for Follow to send again after the duplicate window.
		sc.Done, sc.Pos = found.maxKey, max(sc.Pos, found.maxPos)
		sc.Updated = codec.Time{Time: time.Now().UTC()}
		err = w.save(cp)
	}
	if o.Progress != nil {
		o.Progress.add(r.Stream, res.Skipped+res.Found)
	}
	res.Elapsed = time.Since(start)
	return res, err
}

// A publisher sends full windows to the sink, and with a Pipeliner keeps
// one window on its way while the one before is acknowledged. A window's
// checkpoint position must be one below which the store holds no message
// of a later window: with a later window sent, that is the highest
// position acknowledged before it was sent (the store numbers messages in
// the order they arrive), not the window's own highest, which a retry
// may have placed after the next window's messages. A resume scans from
// there and finds the later windows' messages; it may find some of this
// window's too, which the checkpoint already covers.
type publisher struct {
	ctx   context.Context
	s     Sink
	p     Pipeliner // nil: one window at a time
	r     *RingPlan
	cur   *window                // being filled
	prev  *window                // on its way while wait is set; else spare
	wait  func() (uint64, error) // prev's acknowledgements
	acked uint64                 // the highest position acknowledged so far
}

func newPublisher(ctx context.Context, s Sink, r *RingPlan, size int, pos uint64) *publisher {
	pb := &publisher{ctx: ctx, s: s, r: r, cur: newWindow(size), acked: pos}
	if js, ok := s.(*JetStream); ok {
		js.ackedTo(r.Stream, pos) // a resend's scan starts there, not at the stream's start
	}
	if p, ok := s.(Pipeliner); ok {
		pb.p, pb.prev = p, newWindow(size)
	}
	return pb
}

// put adds m to the window, and sends the window when it is full; done is
// called with each window acknowledged and its checkpoint position.
func (pb *publisher) put(m *Message, done func(*window, uint64) error) error {
	pb.cur.put(m)
	if pb.cur.n < len(pb.cur.msgs) {
		return nil
	}
	return pb.flush(done)
}

// flush sends the window being filled and waits for the one before.
func (pb *publisher) flush(done func(*window, uint64) error) error {
	if pb.p == nil {
		if pb.cur.n == 0 {
			return nil
		}
		pos, err := pb.s.Publish(pb.ctx, pb.r, pb.cur.msgs[:pb.cur.n])
		if err != nil {
			return err
		}
		err = done(pb.cur, pos)
		pb.cur.n = 0
		return err
	}
	var wait func() (uint64, error)
	floor := pb.acked
	if pb.cur.n > 0 {
		var err error
		if wait, err = pb.p.Send(pb.ctx, pb.r, pb.cur.msgs[:pb.cur.n]); err != nil {
			return err
		}
	}
	if pb.wait != nil {
		pos, err := pb.wait()
		if err != nil {
			return err
		}
		pb.acked = max(pb.acked, pos)
		cp := pb.acked // nothing of a later window is on its way
		if wait != nil {
			cp = floor
		}
		if err := done(pb.prev, cp); err != nil {
			return err
		}
	}
	pb.prev.n = 0
	pb.cur, pb.prev, pb.wait = pb.prev, pb.cur, wait
	return nil
}

// finish sends what is left and waits for everything sent.
func (pb *publisher) finish(done func(*window, uint64) error) error {
	if err := pb.flush(done); err != nil || pb.p == nil {
		return err
	}
	return pb.flush(done) // the last window, now on its way
}

// A window holds copies of the messages being published: the walk's
// message, its payload and its name are valid only during its callback.
type window struct {
	msgs  []*Message
	slots []Message
	bufs  [][]byte
	n     int
}

func newWindow(n int) *window {
	w := &window{msgs: make([]*Message, n), slots: make([]Message, n), bufs: make([][]byte, n)}
	for i := range w.msgs {
		w.msgs[i] = &w.slots[i]
	}
	return w
}

func (w *window) put(m *Message) {
	i := w.n
	w.bufs[i] = append(w.bufs[i][:0], m.Payload...)
	w.slots[i] = *m
	w.slots[i].Payload = w.bufs[i]
	// The name is a view of the reader's buffer, which it reuses.
	w.slots[i].Name = strings.Clone(m.Name)
	w.n++
}

// A saver saves checkpoints one at a time in the background, so that
// the next window is sent while the last one's checkpoint is synced. A save
// waits for the one before: the file only moves forward.
type saver struct {
	path string
	done chan error // the save under way; nil: none
}

func (c *saver) save(cp *Checkpoint) error {
	if err := c.wait(); err != nil {
		return err
	}
	snap := cp.clone()
	c.done = make(chan error, 1)
	go func(done chan<- error) { done <- snap.Save(c.path) }(c.done)
	return nil
}

func (c *saver) wait() error {
	if c.done == nil {
		return nil
	}
	err := <-c.done
	c.done = nil
	return err
}

// A foundSet holds what a tail scan found of a ring: record numbers and
// gap markers.
type foundSet struct {
	recs   spans
	gaps   map[[2]uint64]bool
	maxKey uint64 // the highest message key found
	maxPos uint64 // the highest position of a message found
}

func newFoundSet() *foundSet { return &foundSet{gaps: map[[2]uint64]bool{}} }

func (f *foundSet) add(s Stored) {
	m := Message{Kind: s.Kind, Seq: s.Seq, Gap: s.Gap}
	f.maxKey = max(f.maxKey, m.Key())
	f.maxPos = max(f.maxPos, s.Pos)
	if s.Kind == KindGap {
		f.gaps[[2]uint64{s.Gap.From, s.Gap.To}] = true
		return
	}
	f.recs.add(s.Seq)
}

func (f *foundSet) has(m *Message) bool {
	if m.Kind == KindGap {
		return f.gaps[[2]uint64{m.Gap.From, m.Gap.To}]
	}
	return f.recs.has(m.Seq)
}
