package agent

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// The agent starts whatever its storage does. A device whose disk is
// full is exactly when its records matter, yet a ring's recovery must
// write (staged records into the segment, a resume note into a new one)
// and a read-only file system refuses even to open the stage. A stream
// whose ring cannot be opened for such a condition of the storage is
// unavailable: its records are refused, with the reason, and counted;
// the records its stage holds stay there, untouched (a failed Open costs
// none: ringlog's stagedFor); the other streams, the socket, the
// collectors and the rules go on. The condition goes to the log at once
// and to the itiny stream when that can be written. Every retryEvery the
// agent tries again, and when the ring opens, its recovery moves the
// staged records in, as after any crash. So do the boot counter and the
// sockets, which a read-only data directory also refuses.

// ErrUnavailable is matched (errors.Is) by the error Emit returns for a
// stream whose ring could not be opened yet.
var ErrUnavailable = errors.New("agent: stream unavailable")

// storageErr reports whether err is a condition of the storage that may
// pass (space freed, a remount read-write, a device back), for which the
// agent starts anyway and retries, rather than a fault of the
// configuration or of a ring.
func storageErr(err error) bool {
	for _, e := range [...]syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO, syscall.EFBIG} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// unavailable says why a stream's ring is not open; Emit returns it.
type unavailable struct {
	msg    string
	err    error
	since  time.Time
	errors uint64 // the stream's error count when it went down
}

func (u *unavailable) Error() string        { return u.msg }
func (u *unavailable) Unwrap() error        { return u.err }
func (u *unavailable) Is(target error) bool { return target == ErrUnavailable }

// retryEvery is how often the agent retries what the storage refused.
func (a *Agent) retryEvery() time.Duration { return min(10*time.Second, a.live.Load().StatsEvery) }

// openRing is ringlog.Open; tests without the privilege to mount a full
// or read-only file system make it fail.
var openRing = ringlog.Open

// openStream opens a stream's ring.
func (a *Agent) openStream(s *stream) (ringlog.Recovery, error) {
	w, err := openRing(filepath.Join(a.cfg.Data, s.cfg.Name), a.ringOptions(s.cfg))
	if err != nil {
		return ringlog.Recovery{}, err
	}
	s.w.Store(w)
	s.down.Store(nil)
	return w.Recovery(), nil
}

// markDown records that a stream's ring could not be opened, or not
// again, and why; it reports whether that is news.
func (a *Agent) markDown(s *stream, err error) bool {
	// The condition first: a socket's answer may be cut short.
	why := "stream " + s.cfg.Name + " unavailable"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		why += " (" + errno.Error() + ")"
	}
	u := &unavailable{msg: why + ": " + err.Error(), err: err, since: time.Now(), errors: s.errors.Load()}
	if old := s.down.Load(); old != nil {
		if old.err.Error() == err.Error() {
			return false
		}
		u.since, u.errors = old.since, old.errors
	}
	s.down.Store(u)
	a.log.Printf("%s; its records are refused, its staged records kept, and its ring retried every %s", u.msg, a.retryEvery())
	return true
}

// noteDown writes a stream's unavailability to the itiny stream, if that
// can be written.
func (a *Agent) noteDown(s *stream) {
	if u := s.down.Load(); u != nil && a.streams[StreamSelf].w.Load() != nil {
		f := a.selfFields()
		addString(f, "stream", s.cfg.Name)
		addString(f, "since", u.since.UTC().Format(time.RFC3339))
		addString(f, "error", u.err.Error())
		a.noteFields(StreamSelf, catalog.StreamUnavailable.Name, codec.LevelErr)
	}
}

// retryStorage retries what the storage refused: the boot counter, the
// rings not open, the sockets. It returns an error only for a socket
// that cannot be made for another reason, which ends Run.
func (a *Agent) retryStorage() error {
	if a.bootUnsaved != "" {
		if err := a.saveBoot(a.bootUnsaved); err == nil {
			a.bootUnsaved = ""
			a.log.Printf("boot counter saved")
		}
	}
	// The itiny stream first: it tells of the others.
	var unclean []string
	var replayed int
	var jumped uint64
	selfDown := a.streams[StreamSelf].down.Load() != nil
	for _, s := range append([]*stream{a.streams[StreamSelf]}, a.streamList()...) {
		u := s.down.Load()
		if u == nil {
			continue
		}
		rec, err := a.openStream(s)
		if err != nil {
			if a.markDown(s, err) {
				a.noteDown(s)
			}
			continue
		}
		a.streamUp(s, u, rec)
		if !rec.Clean {
			a.uncleanSeen = true
			unclean = append(unclean, s.cfg.Name)
			replayed += rec.Replayed
			jumped += rec.SeqJump
		}
	}
	if len(unclean) > 0 {
		a.noteUnclean(unclean, replayed, jumped)
	}
	if selfDown {
		for _, s := range a.streamList() {
			a.noteDown(s) // still down, and not yet said in the itiny stream
		}
	}
	return a.startListeners()
}

// streamList returns the streams in the config's order.
func (a *Agent) streamList() []*stream {
	l := make([]*stream, len(a.cfg.Streams))
	for i, sc := range a.cfg.Streams {
		l[i] = a.streams[sc.Name]
	}
	return l
}

// streamUp reports a stream whose ring opened after it had not.
func (a *Agent) streamUp(s *stream, u *unavailable, rec ringlog.Recovery) {
	refused := s.errors.Load() - u.errors
	down := time.Since(u.since).Seconds()
	a.log.Printf("stream %s available again after %.3fs: %d records refused meanwhile, %d staged records recovered", s.cfg.Name, down, refused, rec.Replayed)
	switch {
	case s.cfg.Name == StreamSelf && !a.startNoted:
		a.uncleanSeen = a.uncleanSeen || !rec.Clean
		a.noteStart() // what could not be written to it before
	case s.cfg.Name == StreamEvents:
		ok := true
		for _, e := range a.startEvents {
			ok = a.note(StreamEvents, e.name, e.level, e.fields...) == nil && ok
		}
		a.startEvents = nil
		if a.crashKept && ok {
			a.emptyCrash() // its crashes are in the ring now (crash.go)
		}
	}
	if ts := a.tiersOf(s); ts != nil {
		a.rebuild(ts)
	}
	f := a.selfFields()
	addString(f, "stream", s.cfg.Name)
	addFloat(f, "unavailable_s", down)
	addUint(f, "refused", refused)
	addString(f, "error", u.err.Error())
	a.noteFields(StreamSelf, catalog.StreamAvailable.Name, codec.LevelNotice)
}

// noteUnclean records rings a writer did not close.
func (a *Agent) noteUnclean(streams []string, replayed int, jumped uint64) {
	a.log.Printf("unclean shutdown detected: streams %s; %d staged records recovered", strings.Join(streams, ", "), replayed)
	var f codec.Fields
	addString(&f, "streams", strings.Join(streams, ","))
	addInt(&f, "recovered", int64(replayed))
	addUint(&f, "seq_skipped", jumped)
	a.noteStartEvent(catalog.AgentUnclean.Name, codec.LevelWarning, f...)
}

// A startEvent is one of the agent's records of a start for the events
// stream (device.boot, agent.unclean_shutdown), kept until the stream can
// take it.
type startEvent struct {
	name   string
	level  codec.Level
	fields []codec.Field
}

// noteStartEvent writes a record of the start to the events stream, or
// keeps it for when the stream is available. It reports whether the
// record is in the ring.
func (a *Agent) noteStartEvent(name string, level codec.Level, fields ...codec.Field) bool {
	if a.streams[StreamEvents].w.Load() == nil {
		a.startEvents = append(a.startEvents, startEvent{name, level, fields})
		return false
	}
	return a.note(StreamEvents, name, level, fields...) == nil
}

// degraded reports whether anything waits for the storage.
func (a *Agent) degraded() bool {
	if a.bootUnsaved != "" || a.listenErr != nil {
		return true
	}
	for _, s := range a.streams {
		if s.down.Load() != nil {
			return true
		}
	}
	return false
}

// startListeners makes the sockets not yet made. One the storage refuses
// (a read-only data directory) is retried with the rings; any other
// failure is returned.
func (a *Agent) startListeners() error {
	a.mu.Lock()
	in, sl := a.ingest, a.syslog
	a.mu.Unlock()
	var pending error
	if a.cfg.Socket != "" && in == nil {
		in, err := a.listen()
		if err != nil && !storageErr(err) {
			return err
		}
		pending = err
		a.mu.Lock()
		a.ingest = in
		a.mu.Unlock()
	}
	if a.cfg.Syslog != "" && sl == nil {
		sl, err := a.listenSyslog(a.cfg.Syslog)
		if err != nil && !storageErr(err) {
			return err
		}
		if pending == nil {
			pending = err
		}
		a.mu.Lock()
		a.syslog = sl
		a.mu.Unlock()
	}
	switch {
	case pending != nil && (a.listenErr == nil || pending.Error() != a.listenErr.Error()):
		a.log.Printf("%v; retrying every %s", pending, a.retryEvery())
	case pending == nil && a.listenErr != nil:
		a.log.Printf("listening now (before: %v)", a.listenErr)
	}
	a.listenErr = pending
	return nil
}

// Listening says where the agent takes records, for its log: each
// socket's path, and whether it listens or waits for the storage (the
// reason is logged when the socket is refused).
func (a *Agent) Listening() string {
	a.mu.Lock()
	made := [...]bool{a.ingest != nil, a.syslog != nil}
	a.mu.Unlock()
	var b strings.Builder
	for i, l := range [...]struct{ what, path string }{{"socket", a.cfg.SocketPath()}, {"syslog", a.cfg.Syslog}} {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.what)
		switch {
		case l.path == "":
			b.WriteString(" off")
		case made[i]:
			b.WriteString(" " + l.path)
		default:
			b.WriteString(" " + l.path + " not listening yet (retried every " + a.retryEvery().String() + ")")
		}
	}
	return b.String()
}
