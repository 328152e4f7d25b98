//go:build !nokmsg

package agent

import (
	"bytes"
	"path/filepath"
	"syscall"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// On by default. Where /dev/kmsg cannot be read (no CAP_SYSLOG while
// kernel.dmesg_restrict is set, or no /dev/kmsg in a container) the
// collector is off, and collector.off says why: the agent starts.
func init() { registerCollector("kmsg", true, newKmsgCollector) }

// kmsgCollector reads the kernel log from /dev/kmsg and turns the messages
// that matter on an appliance (OOM kills, hung tasks, I/O and filesystem
// errors, oopses and panics, segfaults: kmsgPatterns) into events of their
// own, with the fields parsed from them. Other messages at err or worse
// are kernel.log; the rest are ignored unless all = true.
//
// /dev/kmsg gives one record per read(2), "PRIO,SEQ,USEC,FLAGS;TEXT\n"
// followed by " KEY=value\n" lines, and fails with EINVAL if the buffer is
// too small for it. The reader splits on newlines within each read, so a
// regular file holding many records works too (the tests use one).
type kmsgCollector struct {
	path       string
	fd         int
	read       func(p []byte) (int, error) // the reader, injectable for tests
	all        bool
	buf        []byte
	start, end int            // unconsumed bytes of buf
	readMono   int64          // clock.Mono after the last read: no message is later
	log        codec.Record   // kernel.log
	recs       []codec.Record // one per kmsgPatterns

	// The rate limit, on the kernel's time of the messages it admits:
	// rate records a second, burst at once; the rest are counted and
	// reported in a kernel.dropped record.
	rate, burst float64
	bucket      tokenBucket
	drops       dropTally
	dropSeq     uint64 // the first dropped message's
	dropped     codec.Record
}

const (
	kmsgPerUpdate = 256 // records read per Update at most, so that a storm cannot hog the agent
	// Messages at crit or worse (a panic, an oops's BUG line) pass the
	// rate limit, as many as this per Update: a storm of I/O errors just
	// before a panic must not cost the panic's lines, and a storm of
	// crit lines (user space may write them to /dev/kmsg) stays bounded.
	kmsgCritPerUpdate = 32
	kmsgRecordMax     = 8 << 10 // a /dev/kmsg read needs room for a whole record (CONSOLE_EXT_LOG_MAX)
	kmsgBuffer        = 4 * kmsgRecordMax
	// The default rate limit: a storm of I/O errors costs the events
	// stream at most kmsgBurst records at once and kmsgRate a second
	// after (a sample of 10 s: up to 100), the rest one kernel.dropped.
	kmsgRate  = 10
	kmsgBurst = 100
)

func newKmsgCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("kmsg", c.Options, "from_start", "all", "rate", "burst"); err != nil {
		return nil, err
	}
	fromStart, err := optBool(c.Options, "from_start", false)
	if err != nil {
		return nil, err
	}
	all, err := optBool(c.Options, "all", false)
	if err != nil {
		return nil, err
	}
	rate, err := optPositive(c.Options, "rate", kmsgRate)
	if err != nil {
		return nil, err
	}
	burst, err := optPositive(c.Options, "burst", max(kmsgBurst, rate))
	if err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	path := filepath.Join(c.Dev, "kmsg")
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err == syscall.EPERM || err == syscall.EACCES {
		return nil, tinyfmt.Errorf("%s: %w (kernel.dmesg_restrict is set and the agent lacks CAP_SYSLOG, or the file's mode)", path, err)
	}
	if err != nil {
		return nil, &pathError{path, err}
	}
	if !fromStart {
		// Only what is logged from now on: the boot messages already in
		// the buffer were seen by an earlier run, or never mattered.
		if _, err := syscall.Seek(fd, 0, 2 /* SEEK_END */); err != nil {
			syscall.Close(fd)
			return nil, &pathError{path, err}
		}
	}
	k := &kmsgCollector{path: path, fd: fd, all: all, buf: make([]byte, kmsgBuffer), rate: float64(rate), burst: float64(burst)}
	k.bucket.fill(time.Time{}, k.burst)
	k.dropped = catalogRecord(&catalog.KernelDropped)
	k.dropped.Level = codec.LevelWarning
	k.read = func(p []byte) (int, error) { return syscall.Read(k.fd, p) }
	k.log = catalogRecord(&catalog.KernelLog)
	for _, p := range kmsgPatterns {
		k.recs = append(k.recs, catalogRecord(p.rec))
	}
	return k, nil
}

// Close releases the descriptor; the agent calls it when the
// configuration is reloaded.
func (k *kmsgCollector) Close() error { return syscall.Close(k.fd) }

func (k *kmsgCollector) Update(e Emitter) error {
	var first error
	crit := kmsgCritPerUpdate
	for n := 0; n < kmsgPerUpdate; {
		line, ok := k.nextLine()
		if !ok {
			more, err := k.fill()
			if err != nil {
				return err
			}
			if !more {
				break
			}
			continue
		}
		if len(line) == 0 || line[0] == ' ' {
			continue // a record's KEY=value lines
		}
		n++
		m, err := parseKmsg(k.path, line)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		validUTF8(m.msg) // before the fields alias it
		r := k.record(m)
		if r == nil {
			continue
		}
		mono := k.mono(m.usec)
		if r.Level <= codec.LevelCrit && crit > 0 {
			crit--
		} else if at := time.Unix(0, mono); !k.bucket.take(at, k.rate, k.burst) {
			if k.drops.pending == 0 {
				k.dropSeq = m.seq
			}
			k.drops.add(at)
			continue
		}
		f := r.Fields
		setValue(f, 0, alias(m.msg))
		f.SetUint(1, m.seq)
		f.SetUint(2, m.usec)
		err = emitAt(e, StreamEvents, r, mono)
		for i := range f {
			setValue(f, i, codec.Value{}) // no reference to the buffer left behind
		}
		if err != nil {
			return err
		}
	}
	if err := k.reportDrops(e); err != nil {
		return err
	}
	return first
}

// reportDrops writes one kernel.dropped record for the messages the rate
// limit dropped, when one is due: at the end of the Update that dropped
// the first, then at most once per dropReportEvery.
func (k *kmsgCollector) reportDrops(e Emitter) error {
	n, first, last, ok := k.drops.due(time.Unix(0, clock.Mono()), false)
	if !ok {
		return nil
	}
	f := k.dropped.Fields
	f.SetUint(0, n)
	f.SetUint(1, k.dropSeq)
	f.SetFloat(2, last.Sub(first).Seconds())
	return emitAt(e, StreamEvents, &k.dropped, first.UnixNano())
}

// record returns the record of message m with its level and fields set,
// nil for a message left out: the first pattern it matches, else
// kernel.log at err or worse, or at any level with all.
func (k *kmsgCollector) record(m kmsgRecord) *codec.Record {
	level := codec.Level(m.prio & 7)
	for i, p := range kmsgPatterns {
		if r := &k.recs[i]; p.parse(m.msg, r.Fields) {
			// A pattern is worth a look whatever its level: segfaults
			// are logged at info.
			r.Level = min(level, codec.LevelWarning)
			return r
		}
	}
	if level > codec.LevelErr && !k.all {
		return nil
	}
	k.log.Level = level
	return &k.log
}

// mono converts a message's time to the agent's monotonic clock. The
// kernel stamps messages with local_clock(), microseconds since boot that
// /dev/kmsg's ABI calls monotonic: CLOCK_MONOTONIC's count, which
// clock.Mono reads, so the conversion is a multiplication. The two may
// drift apart by the scheduler clock's error (and on some architectures
// after a suspend), so a message is never stamped later than its read;
// and never at 0, which Emit takes as unset.
func (k *kmsgCollector) mono(usec uint64) int64 {
	return max(1, min(int64(usec)*1000, k.readMono))
}

// nextLine returns the next complete line of the buffer, if any.
func (k *kmsgCollector) nextLine() ([]byte, bool) {
	i := bytes.IndexByte(k.buf[k.start:k.end], '\n')
	if i < 0 {
		return nil, false
	}
	line := k.buf[k.start : k.start+i]
	k.start += i + 1
	return line, true
}

// fill reads more into the buffer; more is false when there is nothing to
// read now (EAGAIN on /dev/kmsg, the end of a regular file).
func (k *kmsgCollector) fill() (more bool, err error) {
	// Keep the partial line (a regular file's writer may be mid-line).
	copy(k.buf, k.buf[k.start:k.end])
	k.end -= k.start
	k.start = 0
	if len(k.buf)-k.end < kmsgRecordMax {
		// A line longer than any kernel record: not a log, drop it.
		k.end = 0
		return false, tinyfmt.Errorf("agent: %s: line longer than %d bytes, dropped", k.path, len(k.buf)-kmsgRecordMax)
	}
	for {
		n, err := k.read(k.buf[k.end:])
		switch err {
		case nil:
			k.end += n
			k.readMono = clock.Mono()
			return n > 0, nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false, nil
		case syscall.EPIPE:
			// Records were overwritten in the kernel's ring before they
			// were read (a storm, or the per-Update bound): the next
			// read returns the oldest left.
			continue
		}
		return false, &pathError{k.path, err}
	}
}

// A kmsgRecord is a parsed /dev/kmsg record; msg aliases the input.
type kmsgRecord struct {
	prio      uint64 // facility << 3 | level
	seq, usec uint64
	msg       []byte
}

// parseKmsg parses "PRIO,SEQ,USEC,FLAGS[,...];TEXT" (read from path,
// named in errors).
func parseKmsg(path string, line []byte) (kmsgRecord, error) {
	var r kmsgRecord
	semi := bytes.IndexByte(line, ';')
	if semi < 0 {
		return r, malformed(path, "no ';' in record %s", quoteLine(line))
	}
	head := line[:semi]
	var nums [3]uint64
	for i := range nums {
		c := bytes.IndexByte(head, ',')
		if c < 0 {
			if i < 2 {
				return r, malformed(path, "want PRIO,SEQ,USEC,FLAGS before ';' in %s", quoteLine(line))
			}
			c = len(head)
		}
		v, err := parseUint(head[:c])
		if err != nil {
			return r, malformed(path, "bad number in %s", quoteLine(line))
		}
		nums[i] = v
		head = head[min(c+1, len(head)):]
	}
	r.prio, r.seq, r.usec, r.msg = nums[0], nums[1], nums[2], line[semi+1:]
	return r, nil
}
