package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/catalog"
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

	mu     sync.Mutex // guards what follows: the store's client reports from its own goroutine
	status followStatus
	said   time.Time // the last status line

	told     time.Time         // the last forward.status sent to the agent
	toldKind string            // its state's first word: following, retrying, stopped
	gen      int               // the store connection's number: a closed one's late news is not news
	phase    string            // what a connection that comes back returns to: catching up, following
	tells    chan codec.Record // to the teller; nil once it is told to end
	told1    chan struct{}     // closed when the teller has ended
}

const maxPause = 30 * time.Second

func (f *follower) run(ctx context.Context) error {
	// The agent is told from a goroutine of its own: an agent that does
	// not answer must not stop the forwarding. One status waits at most;
	// a newer one replaces it.
	f.tells, f.told1 = make(chan codec.Record, 1), make(chan struct{})
	go f.teller()
	pause := time.Second
	for {
		start := time.Now()
		err := f.once(ctx)
		if ctx.Err() != nil {
			f.stop()
			return nil
		}
		var ce *codeError
		switch {
		case errors.Is(err, migrate.ErrNoRoom):
			return withCode(exitNoRoom, err) // will not mend by itself
		case errors.As(err, &ce) && (ce.code == exitRefused || ce.code == exitUsage):
			return err // nor will these; a ring that cannot be read now may be later
		}
		if time.Since(start) > 2*maxPause {
			pause = time.Second // it had been working: a new blip, not the old one
		}
		f.state("retrying in " + pause.String() + ": " + err.Error())
		f.say(true)
		select {
		case <-ctx.Done():
			f.stop()
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
	f.mu.Lock()
	f.gen++
	gen := f.gen
	f.mu.Unlock()
	f.c.connEvent = func(err error) { f.connEvent(gen, err) }
	f.setPhase("catching up")
	sink, err := f.dial(ctx, f.u, f.c, maxBytes)
	if err != nil {
		return err
	}
	defer sink.Close()
	f.mu.Lock()
	f.status.Store = sink.Name()
	f.mu.Unlock()
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
	f.setPhase("following")
	f.say(true)
	return migrate.Follow(ctx, plan, sink, migrate.FollowOptions{Options: o, Poll: f.c.poll, Status: f.lags})
}

// stop says the forwarder stopped, and gives the teller a second to tell
// the agent so.
func (f *follower) stop() {
	f.state("stopped")
	f.say(true)
	f.mu.Lock()
	close(f.tells)
	f.tells = nil
	f.mu.Unlock()
	select {
	case <-f.told1:
	case <-time.After(time.Second):
	}
}

// setPhase sets what the forwarder does, and its state to it.
func (f *follower) setPhase(p string) {
	f.mu.Lock()
	f.phase, f.status.State = p, p
	f.mu.Unlock()
}

// connEvent hears from the store's client that the connection broke (err)
// or came back (nil): while it is away, Follow waits, and the status
// says so at once.
func (f *follower) connEvent(gen int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if gen != f.gen {
		return // a connection closed since: its client's queued news
	}
	if err != nil {
		f.status.State = "store unreachable, waiting: " + err.Error()
	} else {
		f.status.State = f.phase
	}
	f.sayLocked(true)
}

// lags takes Follow's report, and says it when it is time.
func (f *follower) lags(lags []migrate.Lag) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.status.Streams = f.status.Streams[:0]
	for _, l := range lags {
		e := statusEntry{Lag: l}
		if l.Behind > 0 && !l.Oldest.IsZero() {
			e.BehindS = now.Sub(l.Oldest).Seconds()
		}
		f.status.Streams = append(f.status.Streams, e)
	}
	f.sayLocked(false)
}

func (f *follower) state(s string) {
	f.mu.Lock()
	f.status.State = s
	f.mu.Unlock()
}

// say writes the status line and file every --status-every, or now.
func (f *follower) say(now bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sayLocked(now)
}

func (f *follower) sayLocked(now bool) {
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
	f.tell(t)
	if f.c.statusFile != "" {
		js, _ := json.Marshal(&f.status)
		if err := atomicfile.Replace(f.c.statusFile, atomicfile.Options{Perm: 0o644}, atomicfile.Bytes(append(js, '\n'))); err != nil {
			fmt.Fprintf(f.stderr, "itiny-migrate: --status-file: %v\n", err)
		}
	}
}

// agentSocket is the agent's socket --agent-socket names: with auto, the
// socket of the data directory given, if there is one.
func (f *follower) agentSocket() string {
	if f.c.agentSocket != "auto" {
		return f.c.agentSocket
	}
	if len(f.paths) != 1 {
		return ""
	}
	p := filepath.Join(f.paths[0], "itiny.sock")
	if fi, err := os.Stat(p); err != nil || fi.Mode().Type() != fs.ModeSocket {
		return ""
	}
	return p
}

// tell sends the status to the agent beside the forwarder as a
// forward.status record of its own stream (catalog.ForwardStatus), when
// the state changes and every --agent-status-every.
func (f *follower) tell(now time.Time) {
	kind, _, _ := strings.Cut(f.status.State, " ")
	kind = strings.TrimSuffix(kind, ":")
	if kind == f.toldKind && now.Sub(f.told) < f.c.agentEvery {
		return
	}
	if f.tells == nil || f.agentSocket() == "" {
		return
	}
	var behind, sent uint64
	var behindS float64
	for _, e := range f.status.Streams {
		behind += e.Behind
		sent += e.Sent
		behindS = max(behindS, e.BehindS)
	}
	level := codec.LevelInfo
	if kind == "store" || kind == "retrying" || behindS >= 60 { // store unreachable, retrying
		level = codec.LevelWarning
	}
	r := codec.Record{Stream: catalog.StreamSelf, Name: catalog.ForwardStatus.Name, Source: catalog.ForwardStatus.Source, Level: level,
		Fields: codec.Fields{
			{Key: "state", Value: codec.String(f.status.State)},
			{Key: "store", Value: codec.String(f.status.Store)},
			{Key: "behind", Value: codec.Uint(behind)},
			{Key: "behind_s", Value: codec.Float(behindS)},
			{Key: "sent", Value: codec.Uint(sent)},
		}}
	select { // the one waiting, if any, is older: this replaces it
	case <-f.tells:
	default:
	}
	f.tells <- r
	f.told, f.toldKind = now, kind
}

// teller sends the statuses tell hands it to the agent's socket, and says
// the first of a run of failures.
func (f *follower) teller() {
	defer close(f.told1)
	said := ""
	for r := range f.tells {
		path := f.agentSocket()
		if path == "" {
			continue
		}
		c, err := agent.Dial(path)
		if err == nil {
			_, err = c.Send(&r)
			c.Close()
		}
		switch {
		case err == nil:
			said = ""
		case err.Error() != said:
			said = err.Error()
			fmt.Fprintf(f.stderr, "itiny-migrate: the agent's socket %s: %v\n", path, err)
		}
	}
}
