// Package agent is the itiny agent: it samples the system with built-in
// collectors, takes records from the appliance's own components (a unix
// socket, syslog, or Emit in the same process), derives notifications from
// rules, and writes everything into one ring per stream under a hard byte
// budget, with no network.
//
// An appliance's Go program can host the agent itself:
//
//	a, err := agent.New(cfg, agent.Options{})
//	go a.Run(ctx)
//	a.Emit("events", &rec) // 0 allocations
//	a.Close()
package agent

import (
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/internal/version"
	"github.com/itiny/itiny/ringlog"
)

// Version is the agent's version, recorded in its start record.
const Version = version.String

// Options are what the embedding program, or tests, set beyond the
// configuration.
type Options struct {
	Log  Logger // diagnostic log, e.g. a *log.Logger; nil logs to stderr
	Proc string // procfs root; "" is /proc
	Sys  string // sysfs root; "" is /sys
	Dev  string // devfs root; "" is /dev
	// Housekeeping, if set, is called every HousekeepingEvery on the
	// scheduler's goroutine, between rounds of collectors, so that the
	// embedding program's periodic chores need no timer (and no wake-up)
	// of their own. It must return quickly.
	Housekeeping      func(now time.Time)
	HousekeepingEvery time.Duration
	// SocketIdle closes an ingest connection that sends nothing for so
	// long; 0 is 30 s. (Client makes a closed connection again.)
	SocketIdle time.Duration
	// KeepCrash makes the Go runtime's crash output (a panic, a fatal
	// error) go also to the data directory's crash file, and the agent
	// record a crash found there at its next start as agent.crash
	// (crash.go). The crash output is the process's: itiny run sets it;
	// a program hosting the agent sets it only if it sets none of its
	// own (runtime/debug.SetCrashOutput).
	KeepCrash bool

	// For tests: the kernel clock's status (syscall.Adjtimex), the time
	// daemon's flag file and the time suspended since boot, nanoseconds
	// (clocksync_linux.go); unset, the system's.
	adjtimex func(*syscall.Timex) (int, error)
	syncFlag string
	slept    func() int64
}

// A Logger takes the agent's diagnostic messages, one line each. A
// *log.Logger is one; the agent itself does not link package log.
type Logger interface {
	Printf(format string, args ...any)
}

// LineLogger writes each message to W as one line, after Prefix and the
// local time, the way log.LstdFlags does, in one Write (the rotated log
// file and a shared stderr keep it whole). It is safe for concurrent use if W is.
type LineLogger struct {
	W      io.Writer
	Prefix string
}

func (l LineLogger) Printf(format string, args ...any) {
	b := time.Now().AppendFormat([]byte(l.Prefix), "2006/01/02 15:04:05 ")
	b = tinyfmt.Appendf(b, format, args...)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	l.W.Write(b)
}

// An Agent is a running itiny agent.
type Agent struct {
	cfg     *Config                // as at New: streams and listeners
	live    atomic.Pointer[Config] // the latest Reload: limits, intervals
	opts    Options
	log     Logger
	boot    codec.BootID
	bootN   uint32
	streams map[string]*stream // fixed after New: read without locks

	mu         sync.Mutex // guards what Run and Reload change
	collectors []*scheduled
	off        []offCollector          // enabled, but could not start
	sample     sampleEmitter           // the current round's, under mu
	rules      atomic.Pointer[ruleSet] // read by Emit, which must not take mu
	ingest     *ingest
	syslog     *syslogListener
	peers      peerTable // senders on the socket and syslog (peers.go)
	uid        uint32    // the agent's user: its companions' records are trusted (companion)

	// What waits for the storage (storage.go); Run's goroutine's after New.
	bootUnsaved    string // the boot counter's file, not yet saved
	listenErr      error  // why a socket is not made yet
	startNoted     bool   // agent.start is in the itiny stream
	deviceBooted   bool   // for agent.start
	prev           prevBoot
	ended          map[string]*ringlog.Entry // each ring's last record at open: CollectorConfig.ended
	uncleanSeen    bool                      // a ring opened was not closed cleanly: for agent.start
	startEvents    []startEvent
	crashes        []crash  // read from the crash file, not yet recorded
	lastRunCrashed bool     // the crash file's last run crashed
	crashKept      bool     // the crash file holds crashes not yet in the ring
	crashOut       *os.File // the crash file, nil if not kept
	crashHead      string   // this run's header in it

	clockOffset int64     // wall - mono at the last check, ns
	sync        clockSync // the clock's synchronisation, as last recorded
	stop        chan struct{}
	done        chan struct{} // closed when Run returns
	running     atomic.Bool
	closeOnce   sync.Once
	selfMu      sync.Mutex
	self        codec.Record // reused for the agent's own records
}

type stream struct {
	cfg      StreamConfig
	w        atomic.Pointer[ringlog.Writer] // nil while down
	down     atomic.Pointer[unavailable]    // why the ring is not open
	written  atomic.Uint64
	errors   atomic.Uint64
	rejected atomic.Uint64 // invalid records from ingest
	budget   budget        // the write budget's state: the stats loop's
	tiers    *tiers        // the rollup tiers of its samples, if any
}

type scheduled struct {
	name     string
	c        Collector
	interval time.Duration
	next     time.Time
	sampled  bool // next follows a sample, not the collector's start
	errs     uint64
	// A spell of failures: collector.failing was written at its first,
	// failedAt (monotonic), and collector.recovered is written once oks
	// samples in a row succeed.
	failing  bool
	failedAt int64
	failures uint64
	oks      int
}

// An offCollector is a collector the configuration enables that the
// device cannot serve, and why.
type offCollector struct{ name, err string }

// ErrUnknownStream is returned by Emit for a stream not in the config.
var ErrUnknownStream = errors.New("agent: unknown stream")

// ErrClosed is returned by Reload after Close.
var ErrClosed = errors.New("agent: closed")

// New opens the agent's rings under cfg.Data, recovering them, records
// the start (the boot counter, and an unclean shutdown if the last run did
// not close its rings) and makes its sockets: when it returns, the agent
// takes records, though it samples only once Run runs. A ring or socket
// the storage does not let it make (full, read-only) leaves its stream
// unavailable, or the socket unmade, until Run can make it (storage.go).
func New(cfg *Config, opts Options) (*Agent, error) {
	if cfg.Data == "" {
		return nil, errors.New("agent: no data directory")
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if opts.Proc == "" {
		opts.Proc = "/proc"
	}
	if opts.Sys == "" {
		opts.Sys = "/sys"
	}
	if opts.Dev == "" {
		opts.Dev = "/dev"
	}
	a := &Agent{cfg: cfg, opts: opts, log: opts.Log, streams: map[string]*stream{}, ended: map[string]*ringlog.Entry{}, stop: make(chan struct{}), done: make(chan struct{})}
	a.peers.a = a
	a.uid = uint32(os.Getuid())
	if a.log == nil {
		a.log = LineLogger{W: os.Stderr, Prefix: "itiny: "}
	}
	a.live.Store(cfg)
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil && !storageErr(err) {
		return nil, tinyfmt.Errorf("agent: %w", err)
	}
	if opts.KeepCrash {
		a.openCrash() // first: a panic opening the rings is kept
	}
	deviceBooted, err := a.loadBoot()
	if err != nil {
		a.closeCrash()
		return nil, err
	}
	var unclean []string
	var replayed int
	var jumped uint64
	for _, sc := range cfg.Streams {
		s := &stream{cfg: sc}
		a.streams[sc.Name] = s
		rec, err := a.openStream(s)
		if deviceBooted && err == nil {
			a.prev.see(sc.Name, rec.Last)
		}
		if err == nil && rec.Last != nil {
			a.ended[sc.Name] = rec.Last
		}
		switch {
		case err == nil && !rec.Clean:
			unclean = append(unclean, sc.Name)
			replayed += rec.Replayed
			jumped += rec.SeqJump
		case err != nil && storageErr(err):
			a.markDown(s, err)
		case err != nil:
			a.closeStreams()
			a.closeCrash()
			return nil, err
		}
	}
	a.rules.Store(newRuleSet(cfg.Rules))
	a.buildTiers()
	a.rebuildTiers()
	a.clockOffset = time.Now().UnixNano() - clock.Mono()
	a.sync.init(&opts)
	if err := a.buildCollectors(cfg); err != nil {
		a.closeStreams()
		a.closeCrash()
		return nil, err
	}

	// The agent's own story: a start, a device boot, an unclean stop.
	deviceBooted = deviceBooted && !a.prev.again
	a.deviceBooted, a.uncleanSeen = deviceBooted, len(unclean) > 0
	a.noteStart()
	a.checkSync(clock.Mono())
	for _, s := range a.streamList() {
		a.noteDown(s) // now that the itiny stream may say it
	}
	if len(unclean) > 0 {
		a.noteUnclean(unclean, replayed, jumped)
	}
	if deviceBooted {
		a.noteDeviceBoot()
	}
	a.noteCrashes()
	// The sockets last, once the rings are open and the start is told:
	// when New returns, the agent takes records, and its caller may say
	// so (itiny run's running: line).
	if err := a.startListeners(); err != nil {
		a.Shutdown("error: " + err.Error())
		return nil, err
	}
	return a, nil
}

// noteStart writes agent.start and the configuration in effect, when the
// itiny stream can take them.
func (a *Agent) noteStart() {
	if a.streams[StreamSelf].w.Load() == nil {
		return
	}
	a.startNoted = true
	// How the process collector learns that a watched process exited:
	// the first's that watches one.
	exits := ""
	a.mu.Lock()
	for _, s := range a.collectors {
		if c, ok := s.c.(interface{ processExits() string }); ok && exits == "" {
			exits = c.processExits()
		}
	}
	a.mu.Unlock()
	paths, unmappable := a.writePaths()
	if unmappable != "" {
		a.log.Printf("%s cannot map files shared (JFFS2, a FUSE file system with direct_io): streams %s write each record to its segment (docs/DEPLOY.md)", a.cfg.Data, unmappable)
	}
	f := a.selfFields()
	addString(f, "version", Version)
	addUint(f, "bootn", uint64(a.bootN))
	addBool(f, "device_boot", a.deviceBooted)
	addBool(f, "clean", !a.uncleanSeen)
	addInt(f, "pid", int64(os.Getpid()))
	addString(f, "process_exits", exits)
	addString(f, "write_path", paths)
	a.noteFields(StreamSelf, catalog.AgentStart.Name, codec.LevelNotice)
	a.noteConfig()
}

// writePaths returns how each stream's records reach its segment
// (ringlog.Writer.WritePath), as "stream=path" words in the configuration's
// order, and the streams whose file system cannot map their stage.
func (a *Agent) writePaths() (paths, unmappable string) {
	for _, sc := range a.cfg.Streams {
		p := "down"
		if w := a.streams[sc.Name].w.Load(); w != nil {
			p = w.WritePath()
		}
		if paths != "" {
			paths += " "
		}
		paths += sc.Name + "=" + p
		if p == "direct-unmappable" {
			if unmappable != "" {
				unmappable += ","
			}
			unmappable += sc.Name
		}
	}
	return paths, unmappable
}

// noteConfig writes the configuration in effect and the collectors it
// enables that are off, with why: after agent.start and agent.reload.
func (a *Agent) noteConfig() {
	text, cut := configText(a.live.Load().String(), int(a.streams[StreamSelf].cfg.Segment)/4)
	f := a.selfFields()
	addString(f, "text", text)
	addBool(f, "truncated", cut)
	a.noteFields(StreamSelf, catalog.AgentConfig.Name, codec.LevelInfo)
	a.mu.Lock()
	off := a.off
	a.mu.Unlock()
	for _, o := range off {
		f := a.selfFields()
		addString(f, "collector", o.name)
		addString(f, "error", o.err)
		a.noteFields(StreamSelf, catalog.CollectorOff.Name, codec.LevelWarning)
	}
}

// configText bounds a configuration's text to catalog.MaxConfigText
// bytes, and to limit if less, cut at the end of a line.
func configText(text string, limit int) (string, bool) {
	limit = min(limit, catalog.MaxConfigText)
	if len(text) <= limit {
		return text, false
	}
	text = text[:limit]
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i+1]
	}
	return text, true
}

// ringOptions maps a stream's configuration to its ring's, for this boot.
func (a *Agent) ringOptions(sc StreamConfig) ringlog.Options {
	o := sc.ringOptions()
	o.Boot, o.BootCount = a.boot, a.bootN
	return o
}

// Emit stamps r (boot, boot counter, and wall and monotonic time if unset:
// see Record.WallSet) and appends it to the stream's ring. When Emit
// returns nil, a record of a continuous stream survives the death of the
// agent. It allocates nothing; r may be reused when it returns. r must
// pass Record.Validate: Emit does not check, and readers drop a record
// that breaks a rule (docs/FORMAT.md section 4). For a stream whose ring
// the storage has not let the agent open yet, it returns an error that
// matches ErrUnavailable and says why (storage.go).
func (a *Agent) Emit(name string, r *codec.Record) error { return a.emit(name, r, nil) }

// emit is Emit for a record from peer p, or with p nil from the agent,
// its collectors or the embedding program: only theirs feed the rules,
// so a sender on a socket can neither trip nor blind one (rules.go).
func (a *Agent) emit(name string, r *codec.Record, p *peer) error {
	s := a.streams[name]
	if s == nil {
		return tinyfmt.Errorf("%w %q", ErrUnknownStream, name)
	}
	w := s.w.Load()
	if w == nil {
		if u := s.down.Load(); u != nil {
			s.errors.Add(1)
			return u
		}
		w = s.w.Load() // opened meanwhile
	}
	r.Boot, r.BootCount = a.boot, a.bootN
	if !r.WallSet() {
		r.Wall = time.Now()
	}
	if r.Mono == 0 {
		r.Mono = clock.Mono()
	}
	ts := s.tiers
	if p != nil {
		ts = nil // as rules: no sender can skew a summary
	}
	if ts != nil {
		// Appended and rolled up in one order: a sample numbered before
		// another is never folded after it (Roller.Floor).
		ts.mu.Lock()
		defer ts.mu.Unlock()
	}
	if _, err := w.Append(r); err != nil {
		s.errors.Add(1)
		return err
	}
	s.written.Add(1)
	if ts != nil {
		ts.list[0].add(r)
	}
	if rs := a.rules.Load(); rs.watches(name, r.Name, p != nil) {
		rs.observe(a, name, r, p)
	}
	return nil
}

// A sampleEmitter stamps every record of one scheduler round with the
// round's time. Collectors reuse their records, so the times of the
// previous sample must be overwritten; and one round's records share one
// time, as one sadc sample does.
type sampleEmitter struct {
	a    *Agent
	wall time.Time
	mono int64
}

func (e *sampleEmitter) Emit(stream string, r *codec.Record) error {
	r.Wall, r.Mono = e.wall, e.mono
	return e.a.Emit(stream, r)
}

// SyncStream makes the records of stream name durable now.
func (e *sampleEmitter) SyncStream(name string) error { return e.a.syncStream(name) }

// EmitAt stamps r with monotonic time mono, before or after the round's,
// and the wall time the round's wall-minus-mono offset gives it.
func (e *sampleEmitter) EmitAt(stream string, r *codec.Record, mono int64) error {
	stampAt(r, e.wall, e.mono, mono)
	return e.a.Emit(stream, r)
}

// Reload applies a new configuration: collectors, their intervals and
// options, rules, rate and size limits, the clock and stats intervals.
// Streams and listeners keep the settings they were opened with; changes
// to them are reported and take effect at the next start.
func (a *Agent) Reload(cfg *Config) error {
	cfg.Data = a.cfg.Data
	if err := cfg.Check(); err != nil {
		return err
	}
	for _, sc := range cfg.Streams {
		if old := a.streams[sc.Name]; old == nil || old.cfg != sc {
			a.log.Printf("reload: [stream %s] changed: takes effect at restart", sc.Name)
		}
	}
	if cfg.Socket != a.cfg.Socket || cfg.Syslog != a.cfg.Syslog || cfg.SocketMode != a.cfg.SocketMode || cfg.SocketGroup != a.cfg.SocketGroup {
		a.log.Printf("reload: socket settings changed: take effect at restart")
	}
	if err := a.buildCollectors(cfg); err != nil {
		return err
	}
	a.rules.Store(newRuleSet(cfg.Rules))
	a.live.Store(cfg)
	a.note(StreamSelf, catalog.AgentReload.Name, codec.LevelNotice)
	a.noteConfig()
	return nil
}

// selfSource is the src of the agent's own records, which no sender may
// use.
const selfSource = catalog.SelfSource

// checkClock records a wall-clock step: wall time moving away from the
// monotonic clock by more than ClockStep between two checks; and a change
// of the clock's synchronisation (checkSync).
func (a *Agent) checkClock(now time.Time) {
	mono := clock.Mono()
	a.checkSync(mono)
	off := now.UnixNano() - mono
	delta := off - a.clockOffset
	a.clockOffset = off
	if time.Duration(max(delta, -delta)) < a.live.Load().ClockStep {
		return
	}
	f := a.selfFields()
	addFloat(f, "step_s", float64(delta)/1e9)
	addString(f, "wall", now.UTC().Format(time.RFC3339Nano))
	a.noteFields(StreamEvents, catalog.ClockStep.Name, codec.LevelWarning)
}

// syncStream writes stream name's buffered records to its ring and syncs
// them.
func (a *Agent) syncStream(name string) error {
	s := a.streams[name]
	if s == nil {
		return tinyfmt.Errorf("%w %q", ErrUnknownStream, name)
	}
	w := s.w.Load()
	if w == nil {
		if u := s.down.Load(); u != nil {
			return u
		}
		return tinyfmt.Errorf("stream %s: not open", name)
	}
	return w.Sync()
}

// Flush writes every stream's buffered records to its ring now.
func (a *Agent) Flush() error {
	var errs []error
	for _, s := range a.streams {
		if w := s.w.Load(); w != nil {
			errs = append(errs, w.Flush())
		}
	}
	return errors.Join(errs...)
}

// Close stops Run, closes the listeners, flushes and closes every ring,
// marking the shutdown clean.
func (a *Agent) Close() error { return a.Shutdown("closed") }

// Shutdown is Close, with what stopped the agent for its agent.stop
// record: a signal's name, say, or "error: " and the error that ended
// Run, which makes the record an err.
func (a *Agent) Shutdown(reason string) error {
	var err error
	a.closeOnce.Do(func() {
		close(a.stop)
		if a.running.Load() {
			<-a.done // no collector runs while the rings close
		}
		a.mu.Lock()
		in, sl, cols := a.ingest, a.syslog, a.collectors
		a.collectors = nil
		a.mu.Unlock()
		if in != nil {
			in.close()
		}
		if sl != nil {
			sl.close()
		}
		// The drops not yet reported, whatever their interval.
		_, reps := a.peers.sweep(true)
		for _, r := range reps {
			a.reportDrops(r)
		}
		closeCollectors(cols)
		level := codec.LevelNotice
		if strings.HasPrefix(reason, "error") {
			level = codec.LevelErr
		}
		a.note(StreamSelf, catalog.AgentStop.Name, level, codec.Field{Key: "reason", Value: codec.String(reason)})
		err = a.closeStreams()
		a.closeCrash()
	})
	return err
}

func (a *Agent) closeStreams() error {
	var errs []error
	for _, s := range a.streams {
		if w := s.w.Load(); w != nil {
			errs = append(errs, w.Close())
		}
	}
	return errors.Join(errs...)
}

// Streams returns the names of the agent's streams.
func (a *Agent) Streams() []string {
	var ns []string
	for _, sc := range a.cfg.Streams {
		ns = append(ns, sc.Name)
	}
	return ns
}
