//go:build !nocores

package agent

import (
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/ringlog"
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
	data    string
	spool   *corespool.Spool // nil until the storage lets it be opened
	lim     corespool.Limits // Size: what the cores ring holds
	part    int              // minidump bytes a process.core record
	marks   bool             // the cores stream writes and syncs each record at once: files are marked
	buf     []byte           // a part's bytes
	ended   map[string]*ringlog.Entry
	boot    string
	crash   codec.Record
	core    codec.Record
	dropped codec.Record // process.crashes_dropped
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
	part := corePart(sc)
	col := &coresCollector{
		data: c.Data, lim: lim, part: part, marks: sc.Mode == Continuous && sc.Sync == ringlog.SyncAlways, ended: c.ended, buf: make([]byte, part),
		boot:  strings.TrimSpace(string(boot)),
		crash: catalogRecord(&catalog.ProcessCrash), core: catalogRecord(&catalog.ProcessCore),
		dropped: catalogRecord(&catalog.ProcessCrashesDropped),
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
// a crash whose file it could not remove yet, for a reload's collector,
// and for a file it cannot mark (corespool.Spool.Mark), so that neither
// its parts nor its event are written twice.
var coresStored struct {
	sync.Mutex
	m map[string]corespool.Progress
}

// storedAs records what is stored of a crash; the zero Progress forgets
// it.
func storedAs(name string, p corespool.Progress) {
	coresStored.Lock()
	defer coresStored.Unlock()
	if coresStored.m == nil {
		coresStored.m = map[string]corespool.Progress{}
	}
	if p == (corespool.Progress{}) {
		delete(coresStored.m, name)
	} else {
		coresStored.m[name] = p
	}
}

func (c *coresCollector) Update(e Emitter) error {
	if c.spool == nil {
		if err := c.open(); err != nil {
			return err
		}
	}
	crashes, dropped, err := c.spool.Pending()
	if err != nil || !crashes && !dropped {
		return err
	}
	var first error
	if crashes {
		names, err := c.spool.Crashes()
		if err != nil {
			return err
		}
		for _, name := range names {
			retry, err := c.take(e, name)
			if retry {
				return err // the stream cannot take records: next sample
			}
			if first == nil {
				first = err
			}
		}
	}
	if dropped {
		// Crashes dropped since the last kept, which may be the last of
		// a storm: told now, not at a next crash that may never come.
		err := c.spool.TakeDropped(func(n int64) error {
			c.dropped.Level = codec.LevelWarning
			c.dropped.Fields.SetInt(0, n)
			if err := e.Emit(catalog.StreamEvents, &c.dropped); err != nil {
				return err
			}
			return syncStream(e, catalog.StreamEvents)
		})
		if first == nil {
			first = err
		}
	}
	return first
}

// take stores one crash and removes its file. A file that is not a
// crash file, or a minidump the ring cannot hold, is told as a crash with
// that error and removed; retry is set when a record could not be
// written, the file kept for the next sample, which resumes at the
// record that failed.
func (c *coresCollector) take(e Emitter, name string) (retry bool, err error) {
	cr, f, err := c.spool.Read(name, c.lim.Size)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // taken meanwhile: a reload's collector
	}
	if f != nil {
		defer f.Close()
	}
	done := cr.Stored // the file's mark, or this process's if further
	coresStored.Lock()
	if m, ok := coresStored.m[name]; ok && (m.Told > done.Told || m.Parts > done.Parts) {
		done = m
	}
	coresStored.Unlock()
	if done.Told == 0 && done.Part != int64(c.part) { // none stored, or in parts of another size
		done = corespool.Progress{Part: int64(c.part)}
	}
	if err == nil && done.Told == 0 {
		c.resume(&cr, f, &done)
		err = c.storeParts(e, &cr, f, name, &done)
		if errors.Is(err, errEmit) {
			return true, err
		}
	}
	if err != nil { // the file, not the ring: told, and removed
		cr.Size, done.First = 0, 0
		if cr.Error != "" {
			cr.Error += "; "
		}
		cr.Error += err.Error()
	}
	// The file goes only once what stands for it is durable, whatever
	// the streams' mode and sync: the parts, then the event.
	if err := syncStream(e, StreamCores); err != nil {
		return true, err
	}
	if done.Told == 0 {
		c.crashFields(&cr, &done)
		if err := c.emit(e, catalog.StreamEvents, &c.crash, &cr); err != nil {
			return true, err
		}
		done.Told = 1
		storedAs(name, done)
	}
	if err := syncStream(e, catalog.StreamEvents); err != nil {
		return true, err
	}
	c.mark(f, name, done)
	if err := c.spool.Remove(name); err != nil {
		return false, err
	}
	storedAs(name, corespool.Progress{})
	return false, nil
}

// crashFields sets c.crash's fields for crash cr, of which done is
// stored.
func (c *coresCollector) crashFields(cr *corespool.Crash, done *corespool.Progress) {
	v := c.crash.Fields
	for i, s := range [...]string{cr.Exe, signalName(syscall.Signal(cr.Signal)), cr.Error, cr.Boot} {
		v.SetString([...]int{0, 3, 9, 10}[i], s)
	}
	for i, n := range [...]int64{cr.Pid, cr.Tid, cr.Threads, cr.Stacks, cr.Size, done.First, cr.Dropped, cr.Time} {
		v.SetInt([...]int{1, 2, 4, 5, 6, 7, 8, 11}[i], n)
	}
}

// mark records what is stored of crash name: in this process, and in its
// file (nil: none), where a restarted agent finds it. Only where each
// part is synced as it is stored (sync = always, the default) is the
// file marked: else a mark could outlive, through a power cut, parts
// that did not.
func (c *coresCollector) mark(f *os.File, name string, p corespool.Progress) {
	storedAs(name, p)
	if f != nil && c.marks {
		c.spool.Mark(f, p) // on failure the parts are stored again after a restart
	}
}

// errEmit is wrapped by storeParts' error when the ring refused a part.
var errEmit = errors.New("storing the minidump")

// storeParts stores the minidump in f as process.core records, from the
// part after those done says are stored, marking each. Each part carries
// the checksum of the minidump up to its end: one pass over the file.
func (c *coresCollector) storeParts(e Emitter, cr *corespool.Crash, f *os.File, name string, done *corespool.Progress) error {
	for done.Parts < c.parts(cr) {
		sum, err := c.nextPart(cr, f, done)
		if err != nil {
			return err
		}
		if err := c.emit(e, StreamCores, &c.core, cr); err != nil {
			return tinyfmt.Errorf("%w: %w", errEmit, err)
		}
		c.stored(done, c.core.Seq, sum)
		c.mark(f, name, *done)
	}
	return nil
}

// parts is how many process.core records cr's minidump takes.
func (c *coresCollector) parts(cr *corespool.Crash) int64 {
	return (cr.Size + int64(c.part) - 1) / int64(c.part)
}

// nextPart sets c.core to the part after those done says are stored, and
// returns its checksum.
func (c *coresCollector) nextPart(cr *corespool.Crash, f *os.File, done *corespool.Progress) (uint32, error) {
	i := done.Parts
	b := c.buf[:min(int64(c.part), cr.Size-i*int64(c.part))]
	if _, err := f.ReadAt(b, corespool.HeaderSize+i*int64(c.part)); err != nil {
		return 0, tinyfmt.Errorf("reading the minidump: %w", err)
	}
	sum := crc32.Update(uint32(done.Sum), crc32.MakeTable(crc32.Castagnoli), b)
	v := c.core.Fields
	for k, n := range [...]int64{cr.Pid, i + 1, c.parts(cr), done.First, cr.Size} {
		v.SetInt(k, n)
	}
	v.SetUint(5, uint64(sum))
	setValue(v, 6, codec.Bytes(b))
	return sum, nil
}

// stored counts the part nextPart made, stored as record seq.
func (c *coresCollector) stored(done *corespool.Progress, seq uint64, sum uint32) {
	if done.Parts == 0 {
		done.First = int64(seq)
	}
	done.Parts++
	done.Sum = int64(sum)
}

// resume adds to done, what crash cr's mark says is stored, what the
// rings ended with at the agent's start beyond it: an agent killed
// between storing a record and marking it stored left the one record,
// the last of its ring, and stores it once.
func (c *coresCollector) resume(cr *corespool.Crash, f *os.File, done *corespool.Progress) {
	var r codec.Record
	last := func(stream string) bool {
		e := c.ended[stream]
		return e != nil && e.Decode(&r) == nil
	}
	if done.Parts < c.parts(cr) && f != nil && last(StreamCores) {
		if sum, err := c.nextPart(cr, f, done); err == nil && r.Name == catalog.ProcessCore.Name && r.Fields.Equal(c.core.Fields) {
			c.stored(done, r.Seq, sum)
		}
	}
	if done.Parts == c.parts(cr) && last(catalog.StreamEvents) {
		c.crashFields(cr, done)
		if r.Name == catalog.ProcessCrash.Name && r.Fields.Equal(c.crash.Fields) {
			done.Told = 1
		}
	}
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
