package agent

import (
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/internal/order"
	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/ringlog"
)

// The agent's streams.
const (
	StreamMetrics = catalog.StreamMetrics // periodic system samples
	StreamState   = catalog.StreamState   // component and process states
	StreamEvents  = catalog.StreamEvents  // notifications: events and alarms
	StreamSelf    = catalog.StreamSelf    // the agent's own health
	StreamCores   = catalog.StreamCores   // crashed processes' minidumps
)

// A Collector samples one part of the system.
type Collector interface {
	// Update takes one sample and emits its records. The agent calls it
	// from one goroutine at the collector's interval. In steady state it
	// must not allocate: collectors keep their records and buffers.
	Update(e Emitter) error
}

// An Emitter stores a record in a stream. It stamps boot, times and
// sequence number; the record is encoded before Emit returns, so the
// caller may reuse it and everything it points to.
type Emitter interface {
	Emit(stream string, r *codec.Record) error
}

// An atEmitter stores a record of something that happened at its own
// monotonic time, not the sample's: a kernel message read after it was
// logged. The agent's emitter is one.
type atEmitter interface {
	EmitAt(stream string, r *codec.Record, mono int64) error
}

// emitAt emits r at monotonic time mono (nanoseconds since boot, not 0:
// Emit takes 0 as unset). An emitter that is not an atEmitter (the
// embedding program's) gets r stamped from the clocks now.
func emitAt(e Emitter, stream string, r *codec.Record, mono int64) error {
	if ae, ok := e.(atEmitter); ok {
		return ae.EmitAt(stream, r, mono)
	}
	stampAt(r, time.Now(), clock.Mono(), mono)
	return e.Emit(stream, r)
}

// setValue sets field i of f to a value made elsewhere (an alias of a
// buffer, an output); a number or a string is set with codec.Fields'
// setters. Not inlined: a store of a codec.Value inline takes four times
// the code of a call.
//
//go:noinline
func setValue(f codec.Fields, i int, v codec.Value) { f[i].Value = v }

// A streamSyncer makes a stream's records durable now: the agent's
// emitters are, for the cores collector, which removes what the records
// stand for only then.
type streamSyncer interface {
	SyncStream(stream string) error
}

// syncStream syncs stream through e, if e can.
func syncStream(e Emitter, stream string) error {
	if s, ok := e.(streamSyncer); ok {
		return s.SyncStream(stream)
	}
	return nil
}

// stampAt stamps r with monotonic time at, and the wall time of at by the
// offset between wall and mono, read together.
func stampAt(r *codec.Record, wall time.Time, mono, at int64) {
	r.Wall, r.Mono = wall.Add(time.Duration(at-mono)), at
}

// A CollectorConfig is what a collector is built from. Paths are never
// hard-coded: tests point the roots at testdata.
type CollectorConfig struct {
	Proc string // procfs root, "/proc"
	Sys  string // sysfs root, "/sys"
	Dev  string // devfs root, "/dev"
	// Data is the data directory: for a collector's own state, and the
	// cores collector takes what itiny core leaves there; Streams the
	// streams' configuration.
	Data    string
	Streams []StreamConfig
	// Options holds the keys of the config file's [collector NAME]
	// section other than enabled and interval.
	Options map[string]string
	// check asks the factory to check Options and return a nil
	// collector, opening nothing (checkCollector).
	check bool
	// state names a file, DATA/NAME.state, for what the collector keeps
	// across the agent's restarts within this boot (boot); "" keeps
	// nothing. async takes the records a collector writes between its
	// samples, from a goroutine of its own (the agent's Emit); nil: none.
	state string
	boot  codec.BootID
	async Emitter
	// ended holds the record each ring ended with when the agent
	// opened it (ringlog.Recovery.Last), nil for an empty one: what a
	// collector killed between storing a record and marking it stored
	// finds it did store (the cores collector).
	ended map[string]*ringlog.Entry
}

type collectorFactory func(CollectorConfig) (Collector, error)

type collectorEntry struct {
	enabled bool // by default
	factory collectorFactory
}

var registry = map[string]collectorEntry{}

// registerCollector makes a collector known by name; each collector's file
// calls it from init.
func registerCollector(name string, enabledByDefault bool, f collectorFactory) {
	if _, dup := registry[name]; dup {
		panic("agent: collector registered twice: " + name)
	}
	registry[name] = collectorEntry{enabledByDefault, f}
}

func collectorNames() []string {
	var ns []string
	for n := range registry {
		ns = append(ns, n)
	}
	order.Strings(ns)
	return ns
}

// newCollector builds the named collector.
func newCollector(name string, c CollectorConfig) (Collector, error) {
	e, ok := registry[name]
	if !ok {
		return nil, tinyfmt.Errorf("agent: unknown collector %q", name)
	}
	col, err := e.factory(c)
	if err != nil {
		return nil, tinyfmt.Errorf("agent: collector %s: %w", name, err)
	}
	return col, nil
}

// checkCollector checks a collector's options as its factory does when the
// agent builds it, opening nothing: the configuration refuses what would
// otherwise switch the collector off at run time.
func checkCollector(name string, opts map[string]string, streams []StreamConfig) error {
	e, ok := registry[name]
	if !ok {
		return tinyfmt.Errorf("unknown collector %q", name)
	}
	_, err := e.factory(CollectorConfig{Options: opts, Streams: streams, check: true})
	return err
}

// A procFile re-reads a small pseudo-file (procfs, sysfs) through a
// descriptor kept open, with pread at offset 0 into a reused buffer, so a
// sample costs one system call and no allocation.
type procFile struct {
	path string
	fd   int
	buf  []byte
	// raw reads with a raw system call, unknown to the Go scheduler (see
	// pread): procfs and sysfs answer from memory. A collector whose file
	// may reach a slow driver (thermal sensors on I2C) clears it.
	raw bool
}

func openProcFile(path string, size int) (*procFile, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &pathError{path, err}
	}
	return &procFile{path: path, fd: fd, buf: make([]byte, size), raw: true}, nil
}

// read returns the file's current content, valid until the next read.
// The buffer doubles when the content fills it.
func (p *procFile) read() ([]byte, error) {
	for {
		n, err := pread(p.fd, p.buf, p.raw)
		if err != nil {
			return nil, &pathError{p.path, err}
		}
		if n < len(p.buf) || len(p.buf) >= 1<<20 {
			return p.buf[:n], nil
		}
		p.buf = make([]byte, 2*len(p.buf))
	}
}

func (p *procFile) close() error { return syscall.Close(p.fd) }

type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// Parsing helpers over byte slices, allocation-free.

// fields splits b at spaces and tabs into dst, reusing it. Out of line
// for the firmware's size; a sample's time is unchanged (docs/DESIGN.md
// section 14).
//
//go:noinline
func fields(dst [][]byte, b []byte) [][]byte {
	dst = dst[:0]
	start := -1
	for i, c := range b {
		if c == ' ' || c == '\t' || c == '\n' {
			if start >= 0 {
				dst = append(dst, b[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, b[start:])
	}
	return dst
}

// nextLine returns the first line of b and the rest.
func nextLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

func parseUint(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, strconv.ErrSyntax
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		if v > (1<<64-1)/10 {
			return 0, strconv.ErrRange
		}
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}

func parseFloat(b []byte) (float64, error) {
	if len(b) == 0 {
		return 0, strconv.ErrSyntax
	}
	// The bytes are not modified while ParseFloat reads them.
	return strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
}

// catalogRecord returns the catalogue's record c with all fields zero
// integers, for a collector to update in place sample after sample. Not
// inlined: a copy in each collector's constructor cost the firmware 8 KB
// (docs/DESIGN.md section 14).
//
//go:noinline
func catalogRecord(c *catalog.Record) codec.Record {
	r := codec.Record{Source: c.Source, Name: c.Name, Level: codec.LevelInfo, Fields: make(codec.Fields, len(c.Fields))}
	for i, f := range c.Fields {
		r.Fields[i] = codec.Field{Key: f.Key, Value: codec.Int(0)}
	}
	return r
}
