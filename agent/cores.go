//go:build !nocores

package agent

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/corespool"
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

func newCoresCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("cores", c.Options, "thread_bytes", "threads", "per_hour"); err != nil {
		return nil, err
	}
	lim, err := coreOptions(c.Options)
	if err != nil {
		return nil, err
	}
	var sc *StreamConfig
	for i := range c.Streams {
		if c.Streams[i].Name == StreamCores {
			sc = &c.Streams[i]
		}
	}
	if lim, err = coreLimits(lim, sc); err != nil || c.check {
		return nil, err
	}
	if c.Data == "" {
		return nil, errors.New("no data directory")
	}
	boot, _ := os.ReadFile(filepath.Join(c.Proc, "sys/kernel/random/boot_id"))
	col := &coresCollector{
		data: c.Data, lim: lim, part: corePart(sc),
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

func (c *coresCollector) Close() error {
	if c.spool == nil {
		return nil
	}
	return c.spool.Close()
}

// coresStored holds, by spool file name, what this process has stored of
// a crash whose file it could not remove yet, so that neither its parts
// nor its event are written twice, by this collector or a reload's.
var coresStored struct {
	sync.Mutex
	m map[string]coreStored
}

// storedAs records what is stored of a crash; the zero coreStored
// forgets it.
func storedAs(name string, s coreStored) {
	coresStored.Lock()
	defer coresStored.Unlock()
	if coresStored.m == nil {
		coresStored.m = map[string]coreStored{}
	}
	if s == (coreStored{}) {
		delete(coresStored.m, name)
	} else {
		coresStored.m[name] = s
	}
}

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
	coresStored.Lock()
	done := coresStored.m[name]
	coresStored.Unlock()
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
	storedAs(name, done)
	if !done.told {
		f := c.crash.Fields
		f[0].Value, f[1].Value, f[2].Value = codec.String(cr.Exe), codec.Int(cr.Pid), codec.Int(cr.Tid)
		f[3].Value, f[4].Value, f[5].Value = codec.String(signalName(syscall.Signal(cr.Signal))), codec.Int(cr.Threads), codec.Int(cr.Stacks)
		f[6].Value, f[7].Value, f[8].Value, f[9].Value = codec.Int(cr.Size), codec.Uint(done.first), codec.Int(cr.Dropped), codec.String(cr.Error)
		f[10].Value, f[11].Value = codec.String(cr.Boot), codec.Int(cr.Time)
		if err := c.emit(e, catalog.StreamEvents, &c.crash, &cr); err != nil {
			return true, err
		}
		done.told = true
		storedAs(name, done)
	}
	if err := c.spool.Remove(name); err != nil {
		return false, err
	}
	storedAs(name, coreStored{})
	return false, nil
}

// errEmit is wrapped by storeParts' error when the ring refused a part.
var errEmit = errors.New("storing the minidump")

// storeParts stores the minidump in f as process.core records and
// returns the first's sequence number, 0 when there is no minidump.
// Each part carries the checksum of the minidump up to its end: one
// pass over the file.
func (c *coresCollector) storeParts(e Emitter, cr *corespool.Crash, f *os.File) (uint64, error) {
	buf := make([]byte, c.part)
	parts := (cr.Size + int64(c.part) - 1) / int64(c.part)
	var sum uint32
	var first uint64
	for i := range parts {
		b := buf[:min(int64(c.part), cr.Size-i*int64(c.part))]
		if _, err := f.ReadAt(b, corespool.HeaderSize+i*int64(c.part)); err != nil {
			return 0, fmt.Errorf("reading the minidump: %w", err)
		}
		sum = crc32.Update(sum, crc32.MakeTable(crc32.Castagnoli), b)
		f := c.core.Fields
		f[0].Value, f[1].Value, f[2].Value = codec.Int(cr.Pid), codec.Int(i+1), codec.Int(parts)
		f[3].Value, f[4].Value, f[5].Value = codec.Uint(first), codec.Int(cr.Size), codec.Uint(uint64(sum))
		f[6].Value = codec.Bytes(b)
		if err := c.emit(e, StreamCores, &c.core, cr); err != nil {
			return 0, fmt.Errorf("%w: %w", errEmit, err)
		}
		if i == 0 {
			first = c.core.Seq
		}
	}
	return first, nil
}

// emit writes r, of crash cr, at the time the handler ran when that was
// in this boot, else at the sample's.
func (c *coresCollector) emit(e Emitter, stream string, r *codec.Record, cr *corespool.Crash) error {
	r.Level = codec.LevelInfo
	if r == &c.crash {
		r.Level = codec.LevelCrit
	}
	if cr.Boot == c.boot && c.boot != "" && cr.Mono > 0 {
		return emitAt(e, stream, r, cr.Mono)
	}
	return e.Emit(stream, r)
}
