package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/atomicfile"
	"github.com/itiny/itiny/migrate"
	"github.com/itiny/itiny/view"
)

// followStatus is what --status-file holds, and what a status line says.
type followStatus struct {
	Time    time.Time     `json:"time"`
	Scope   string        `json:"scope"`
	Store   string        `json:"store"`
	State   string        `json:"state"` // following, or why it is not
	Streams []statusEntry `json:"streams"`
}

type statusEntry struct {
	migrate.Lag
	BehindS float64 `json:"behind_s"` // age of the oldest message not acknowledged
}

// follower is --follow: migrate, then forward what the agent appends,
// starting over (plan, resume, follow) after any failure, with a pause
// that grows to maxPause, until SIGINT or SIGTERM.
type follower struct {
	c       *config
	u       *url.URL
	dial    func(context.Context, *url.URL, *config, int64) (migrate.Sink, error)
	paths   []string
	convert codec.Codec
	stderr  io.Writer
	status  followStatus
	said    time.Time // the last status line
}

const maxPause = 30 * time.Second

func (f *follower) run(ctx context.Context) error {
	pause := time.Second
	for {
		err := f.once(ctx)
		if ctx.Err() != nil {
			f.state("stopped")
			f.say(true)
			return nil
		}
		var ce *codeError
		if errors.As(err, &ce) && ce.code != exitResume || errors.Is(err, migrate.ErrNoRoom) {
			return err // will not mend by itself
		}
		f.state("retrying in " + pause.String() + ": " + err.Error())
		f.say(true)
		select {
		case <-ctx.Done():
			f.state("stopped")
			f.say(true)
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

// once plans the rings as they are now, resumes the migration and
// follows them, until an error.
func (f *follower) once(ctx context.Context) error {
	in, err := view.OpenWith(f.paths, view.OpenOptions{BundleMemory: int64(f.c.bundleMemory)})
	if errors.Is(err, bundle.ErrLimit) {
		return withCode(exitInput, fmt.Errorf("%w (--bundle-memory raises the limit)", err))
	}
	if err != nil {
		return withCode(exitInput, err)
	}
	plan, err := migrate.NewPlan(in, f.c.scope)
	if err != nil {
		return withCode(exitInput, err)
	}
	// A stream or topic made for following has no size limit unless one
	// is given: sized for the ring as it is now, it would discard the
	// oldest records once the device had forwarded more than that.
	maxBytes := int64(f.c.maxBytes)
	if maxBytes == 0 {
		maxBytes = -1
	}
	sink, err := f.dial(ctx, f.u, f.c, maxBytes)
	if err != nil {
		return err
	}
	defer sink.Close()
	f.status.Store = sink.Name()
	logf := func(format string, a ...any) { fmt.Fprintf(f.stderr, "itiny-migrate: "+format+"\n", a...) }
	o := migrate.Options{Window: f.c.window, Checkpoint: f.c.checkpoint, Convert: f.convert, Logf: logf}
	res, err := migrate.Run(ctx, plan, sink, o)
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Sent > 0 {
			logf("%s: caught up: sent %d", r.Stream, r.Sent)
		}
	}
	f.state("following")
	f.say(true)
	return migrate.Follow(ctx, plan, sink, migrate.FollowOptions{Options: o, Poll: f.c.poll, Status: f.lags})
}

// lags takes Follow's report, and says it when it is time.
func (f *follower) lags(lags []migrate.Lag) {
	now := time.Now()
	f.status.Streams = f.status.Streams[:0]
	for _, l := range lags {
		e := statusEntry{Lag: l}
		if l.Behind > 0 && !l.Oldest.IsZero() {
			e.BehindS = now.Sub(l.Oldest).Seconds()
		}
		f.status.Streams = append(f.status.Streams, e)
	}
	f.say(false)
}

func (f *follower) state(s string) { f.status.State = s }

// say writes the status line and file every --status-every, or now.
func (f *follower) say(now bool) {
	t := time.Now()
	if !now && t.Sub(f.said) < f.c.statusEvery {
		return
	}
	f.said, f.status.Time = t, t.UTC()
	var b strings.Builder
	fmt.Fprintf(&b, "itiny-migrate: %s", f.status.State)
	for _, e := range f.status.Streams {
		fmt.Fprintf(&b, "; %s %d behind", e.Stream, e.Behind)
		if e.Behind > 0 {
			fmt.Fprintf(&b, " (%.1fs)", e.BehindS)
		}
		fmt.Fprintf(&b, ", %d sent", e.Sent)
	}
	fmt.Fprintln(f.stderr, b.String())
	if f.c.statusFile != "" {
		js, _ := json.Marshal(&f.status)
		if err := atomicfile.Replace(f.c.statusFile, atomicfile.Options{Perm: 0o644}, atomicfile.Bytes(append(js, '\n'))); err != nil {
			fmt.Fprintf(f.stderr, "itiny-migrate: --status-file: %v\n", err)
		}
	}
}
