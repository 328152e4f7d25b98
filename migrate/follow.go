package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// FollowOptions configure Follow.
type FollowOptions struct {
	Options
	// Poll is how long Follow waits before it looks at the rings again
	// when they held nothing new; 0 means DefaultPoll.
	Poll time.Duration
	// Status, if set, is called with every ring's lag after each look at
	// the rings, from Follow's goroutine: it must not block for long.
	Status func([]Lag)
}

// DefaultPoll bounds what a record waits to be read after it reached the
// ring: well under the second the forwarder's latency may take.
const DefaultPoll = 100 * time.Millisecond

// A Lag is how far the store is behind a ring, as of the last look.
type Lag struct {
	Stream    string    `json:"stream"`
	Forwarded uint64    `json:"forwarded"` // the number of the last record the store acknowledged
	Newest    uint64    `json:"newest"`    // the number of the newest record read from the ring
	Behind    uint64    `json:"behind"`    // messages read and not acknowledged yet
	Oldest    time.Time `json:"-"`         // wall time of the oldest of them; zero when none
	Sent      uint64    `json:"sent"`      // messages this Follow had acknowledged
}

// Follow forwards what the agent appends to the rings of p that are
// directories on this machine, after Run has migrated what they held, with
// the same identities, gap markers (numbers retention deleted before they
// were read become a marker with that cause) and checkpoint. It reads the
// rings as any reader does, never writing or locking them, and follows
// them across rotation. It returns nil when ctx is done, else the first
// error: the caller runs Run again, which resumes exactly, and then
// Follow.
func Follow(ctx context.Context, p *Plan, s Sink, o FollowOptions) error {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	cp, err := LoadCheckpoint(o.Checkpoint)
	if err != nil {
		return err
	}
	w := &saver{path: o.Checkpoint}
	var fs []*follower
	defer func() {
		for _, f := range fs {
			f.mg.Close()
		}
	}()
	for _, r := range p.Rings {
		if r.live == nil {
			continue
		}
		sc := cp.Streams[r.Stream]
		if sc == nil || sc.Ring != r.RingID() {
			return fmt.Errorf("%s: no checkpoint of ring %s: run Run first", r.Stream, r.RingID())
		}
		mg, err := view.NewMerger([]*view.Source{r.live}, time.Time{})
		if err != nil {
			return err
		}
		mg.Follow = true
		f := &follower{r: r, mg: mg, sc: sc, ringHex: r.RingID(), lag: Lag{Stream: r.Stream, Forwarded: keyThrough(sc.Done)}}
		f.pb = newPublisher(ctx, s, r, o.Window, sc.Pos)
		fs = append(fs, f)
	}
	if len(fs) == 0 {
		return errors.New("nothing to follow: no ring is a directory on this machine")
	}
	lags := make([]Lag, len(fs))
	for {
		idle := true
		for _, f := range fs {
			n, err := f.pump(p.Scope, o, cp, w)
			if err != nil {
				w.wait()
				return fmt.Errorf("%s: %w", f.r.Stream, err)
			}
			if n > 0 {
				idle = false
			}
		}
		if o.Status != nil {
			for i, f := range fs {
				lags[i] = f.lag
			}
			o.Status(lags)
		}
		if !idle {
			continue
		}
		select {
		case <-ctx.Done():
			return w.wait()
		case <-time.After(o.Poll):
		}
	}
}

// A follower forwards one live ring.
type follower struct {
	r       *RingPlan
	mg      *view.Merger
	sc      *StreamCheckpoint
	pb      *publisher
	ringHex string
	m       Message
	buf     []byte
	lag     Lag
}

// pump reads what the ring holds that is new, up to a window, sends it and
// waits for the store's acknowledgements; it returns how many messages it
// sent.
func (f *follower) pump(scope string, o FollowOptions, cp *Checkpoint, w *saver) (int, error) {
	done := func(win *window, pos uint64) error {
		last := win.msgs[win.n-1]
		f.sc.Done, f.sc.Pos, f.sc.Updated = last.Key(), pos, codec.Time{Time: time.Now().UTC()}
		f.sc.Acked += uint64(win.n)
		f.lag.Sent += uint64(win.n)
		f.lag.Behind -= min(f.lag.Behind, uint64(win.n))
		f.lag.Forwarded = keyThrough(f.sc.Done)
		if f.lag.Behind == 0 {
			f.lag.Oldest = time.Time{}
		}
		return w.save(cp)
	}
	n := 0
	for n < o.Window {
		it, err := f.mg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		ok, err := f.r.message(&it, scope, f.ringHex, o.Convert, &f.buf, &f.m)
		if err != nil {
			return n, err
		}
		if !ok || f.m.Key() <= f.sc.Done {
			continue // forwarded before
		}
		if f.m.Kind == KindRecord {
			f.lag.Newest = f.m.Seq
		}
		if f.lag.Behind == 0 {
			f.lag.Oldest = f.m.Wall
		}
		f.lag.Behind++
		if err := f.pb.put(&f.m, done); err != nil {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, f.pb.finish(done)
}
