//go:build !nocores

package agent

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/minicore"
)

// On by default: it only reads a spool that itiny core, installed as the
// kernel's core_pattern handler, fills.
func init() { registerCollector("cores", true, newCoresCollector) }

// coresCollector stores the crashes itiny core leaves in the data
// directory's spool (internal/corespool): each minidump into the cores
// stream in parts (process.core), then a process.crash event in events
// naming its first part, and only then removes the spool file. At its
// start (and a reload) it writes the limits the handler keeps crashes
// within, from its options and the cores stream's budget. A look at an
// empty spool costs two system calls and no allocation.
type coresCollector struct {
	data  string
	spool *corespool.Spool // nil until the storage lets it be opened
	lim   corespool.Limits // Size: what the cores ring holds
	part  int              // minidump bytes a process.core record
	boot  string
	crash codec.Record
	core  codec.Record
}

// The cores collector's options' defaults: 64 KiB of stack for each of
// 16 threads, 4 crashes kept an hour.
const (
	coreThreadBytes = 64 << 10
	coreThreads     = 16
	corePerHour     = 4
)

func newCoresCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("cores", c.Options, "thread_bytes", "threads", "per_hour"); err != nil {
		return nil, err
	}
	lim, err := coreOptions(c.Options)
	if err != nil || c.check {
		return nil, err
	}
	var sc *StreamConfig
	for i := range c.Streams {
		if c.Streams[i].Name == StreamCores {
			sc = &c.Streams[i]
		}
	}
	if lim, err = coreLimits(lim, sc); err != nil {
		return nil, err
	}
	if c.Data == "" {
		return nil, errors.New("no data directory")
	}
	boot, _ := os.ReadFile(filepath.Join(c.Proc, "sys/kernel/random/boot_id"))
	col := &coresCollector{
		data: c.Data, lim: lim, part: int(min(catalog.CorePart, sc.Segment/4)),
		boot:  strings.TrimSpace(string(boot)),
		crash: catalogRecord(&catalog.ProcessCrash), core: catalogRecord(&catalog.ProcessCore),
	}
	// A spool the storage refuses (a read-only or full disk) is made at
	// a later sample; another failure switches the collector off.
	if err := col.open(); err != nil && !storageErr(err) {
		return nil, err
	}
	return col, nil
}

// open opens the spool and tells the handler the limits.
func (c *coresCollector) open() error {
	spool, err := corespool.Open(c.data)
	if err == nil {
		if err = spool.SetLimits(c.lim); err != nil {
			spool.Close()
		}
	}
	if err != nil {
		return err
	}
	c.spool = spool
	return nil
}

// coreOptions reads the options into limits, the spool's yet unset.
func coreOptions(opts map[string]string) (corespool.Limits, error) {
	lim := corespool.Limits{ThreadBytes: coreThreadBytes, Threads: coreThreads, PerHour: corePerHour}
	if v, ok := opts["thread_bytes"]; ok {
		n, err := size.Parse(strings.TrimSpace(v))
		if err != nil || n > minicore.MaxThreadBytes {
			return lim, fmt.Errorf("option thread_bytes: want a size from 1B to 1MiB, got %q", v)
		}
		lim.ThreadBytes = int(n)
	}
	if v, ok := opts["threads"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > minicore.MaxThreads {
			return lim, fmt.Errorf("option threads: want 0 to %d, got %q", minicore.MaxThreads, v)
		}
		lim.Threads = n
	}
	var err error
	lim.PerHour, err = optPositive(opts, "per_hour", corePerHour)
	return lim, err
}

// coreLimits completes lim from the cores stream sc: a minidump takes at
// most what its ring holds beside its stage and two segments (the one
// written and one to spare), so that it never evicts its own first
// parts; the spool holds at most the ring's budget.
func coreLimits(lim corespool.Limits, sc *StreamConfig) (corespool.Limits, error) {
	if sc == nil {
		return lim, errors.New("no [stream " + StreamCores + "] to store minidumps in")
	}
	holds := sc.Budget - int64(sc.Buffer) - 2*sc.Segment
	// The minidump's headers: the ELF header and MaxPieces program
	// headers a thread.
	want := int64(lim.Threads)*(int64(lim.ThreadBytes)+minicore.MaxPieces*56) + minicore.NoteBytes + 64
	lim.Size, lim.Spool = min(want, holds), sc.Budget
	if lim.Size < 64<<10 {
		return lim, fmt.Errorf("[stream %s] budget %s holds no minidump: %d bytes beside its stage and two segments", StreamCores, size.Format(sc.Budget), holds)
	}
	return lim, nil
}

// CoreLimits returns the limits the cores collector of configuration c
// gives itiny core: what itiny core keeps crashes within when no agent
// has written its own yet.
func CoreLimits(c *Config) (corespool.Limits, error) {
	var opts map[string]string
	if sec := c.Collectors["cores"]; sec != nil {
		opts = sec.Options
	}
	lim, err := coreOptions(opts)
	if err != nil {
		return lim, err
	}
	return coreLimits(lim, c.Stream(StreamCores))
}

func (c *coresCollector) Close() error {
	if c.spool == nil {
		return nil
	}
	return c.spool.Close()
}

// coresStored holds, by spool file name, what this process has stored of
// a crash whose file it could not remove yet, so that neither its parts
// nor its event are written twice.
var coresStored sync.Map // name -> coreStored

type coreStored struct {
	first uint64 // the first part's sequence number
	told  bool   // process.crash is written
}

func (c *coresCollector) Update(e Emitter) error {
	if c.spool == nil {
		if err := c.open(); err != nil {
			return err
		}
	}
	if pending, err := c.spool.Pending(); err != nil || !pending {
		return err
	}
	names, err := c.spool.Crashes()
	if err != nil {
		return err
	}
	var first error
	for _, name := range names {
		retry, err := c.take(e, name)
		if retry {
			return err // the stream cannot take records: next sample
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// take stores one crash and removes its file. A file that is not a
// crash file, or a minidump the ring cannot hold, is told as a crash with
// that error and removed; retry is set when a record could not be
// written, the file kept for the next sample.
func (c *coresCollector) take(e Emitter, name string) (retry bool, err error) {
	cr, f, err := c.spool.Read(name, c.lim.Size)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // taken meanwhile: a reload's collector
	}
	st, _ := coresStored.Load(name)
	done, _ := st.(coreStored)
	if err == nil && !done.told && done.first == 0 {
		done.first, err = c.storeParts(e, &cr, f)
		if errors.Is(err, errEmit) {
			f.Close()
			return true, err
		}
	}
	if f != nil {
		f.Close()
	}
	if err != nil { // the file, not the ring: told, and removed
		cr.Size, done.first = 0, 0
		if cr.Error != "" {
			cr.Error += "; "
		}
		cr.Error += err.Error()
	}
	coresStored.Store(name, done)
	if !done.told {
		if err := c.emit(e, catalog.StreamEvents, &c.crash, &cr, func(f codec.Fields) {
			f[0].Value, f[1].Value, f[2].Value = codec.String(cr.Exe), codec.Int(cr.Pid), codec.Int(cr.Tid)
			f[3].Value, f[4].Value, f[5].Value = codec.String(signalName(cr.Signal)), codec.Int(int64(cr.Threads)), codec.Int(int64(cr.Stacks))
			f[6].Value, f[7].Value, f[8].Value, f[9].Value = codec.Int(cr.Size), codec.Uint(done.first), codec.Int(cr.Dropped), codec.String(cr.Error)
		}); err != nil {
			return true, err
		}
		done.told = true
		coresStored.Store(name, done)
	}
	if err := c.spool.Remove(name); err != nil {
		return false, err
	}
	coresStored.Delete(name)
	return false, nil
}

// errEmit is wrapped by storeParts' error when the ring refused a part.
var errEmit = errors.New("storing the minidump")

// storeParts stores the minidump in f as process.core records and
// returns the first's sequence number, 0 when there is no minidump.
func (c *coresCollector) storeParts(e Emitter, cr *corespool.Crash, f *os.File) (uint64, error) {
	if cr.Size <= 0 {
		return 0, nil
	}
	buf := make([]byte, c.part)
	read := func(i int64) ([]byte, error) {
		b := buf[:min(int64(len(buf)), cr.Size-i*int64(len(buf)))]
		_, err := f.ReadAt(b, corespool.HeaderSize+i*int64(len(buf)))
		return b, err
	}
	parts := (cr.Size + int64(len(buf)) - 1) / int64(len(buf))
	// The checksum first: every part carries the whole minidump's.
	sum, table := uint32(0), crc32.MakeTable(crc32.Castagnoli)
	for i := range parts {
		b, err := read(i)
		if err != nil {
			return 0, fmt.Errorf("reading the minidump: %w", err)
		}
		sum = crc32.Update(sum, table, b)
	}
	var first uint64
	for i := range parts {
		b, err := read(i)
		if err != nil {
			return 0, fmt.Errorf("reading the minidump: %w", err)
		}
		if err := c.emit(e, StreamCores, &c.core, cr, func(f codec.Fields) {
			f[0].Value, f[1].Value, f[2].Value = codec.Int(cr.Pid), codec.Int(i+1), codec.Int(parts)
			f[3].Value, f[4].Value, f[5].Value = codec.Uint(first), codec.Int(cr.Size), codec.Uint(uint64(sum))
			f[6].Value = codec.Bytes(b)
		}); err != nil {
			return 0, fmt.Errorf("%w: %w", errEmit, err)
		}
		if i == 0 {
			first = c.core.Seq
		}
	}
	return first, nil
}

// emit sets r's fields and writes it, at the time the handler ran when
// that was in this boot, else at the sample's.
func (c *coresCollector) emit(e Emitter, stream string, r *codec.Record, cr *corespool.Crash, set func(codec.Fields)) error {
	set(r.Fields)
	r.Level = codec.LevelInfo
	if r == &c.crash {
		r.Level = codec.LevelCrit
	}
	if cr.Boot == c.boot && c.boot != "" && cr.Mono > 0 {
		return emitAt(e, stream, r, cr.Mono)
	}
	return e.Emit(stream, r)
}

// signalName names the signals that dump core; another is "signal N".
func signalName(n int) string {
	for _, s := range [...]struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGQUIT, "SIGQUIT"}, {syscall.SIGILL, "SIGILL"}, {syscall.SIGTRAP, "SIGTRAP"}, {syscall.SIGABRT, "SIGABRT"},
		{syscall.SIGBUS, "SIGBUS"}, {syscall.SIGFPE, "SIGFPE"}, {syscall.SIGSEGV, "SIGSEGV"}, {syscall.SIGXCPU, "SIGXCPU"},
		{syscall.SIGXFSZ, "SIGXFSZ"}, {syscall.SIGSYS, "SIGSYS"}} {
		if int(s.sig) == n {
			return s.name
		}
	}
	return "signal " + strconv.Itoa(n)
}
