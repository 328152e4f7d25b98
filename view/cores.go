package view

import (
	"cmp"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// A Core is a crashed process as the rings tell it: its process.crash
// event, and whether the cores stream still holds its minidump.
type Core struct {
	Wall     time.Time // the event's: when itiny core ran, in this boot
	Boot     Boot
	Exe      string
	PID, TID int64
	Signal   string
	Threads  int64
	Stacks   int64  // threads whose stacks the minidump holds
	Size     int64  // the minidump's bytes; 0: none was kept
	Seq      uint64 // its first part's in the cores stream; 0: none
	Dropped  int64  // crashes before it that were not kept
	Error    string // what failed, "" if nothing did
	// CrashBoot and Time are the crash's own: its boot id, dashed, and
	// the kernel's time of it; "" and zero when the event has none.
	CrashBoot string
	Time      time.Time
	// Held: the cores stream holds the minidump's first part (it may
	// have turned over since, or be missing from a copy).
	Held bool
	// Lost: not a crash but a count of crashes not kept, Dropped, that
	// no crash kept after them told (process.crashes_dropped).
	Lost bool
}

// The fields cores reads, named by the catalogue.
var (
	keyCrashExe      = catalog.ProcessCrash.Key("exe")
	keyCrashProcPID  = catalog.ProcessCrash.Key("pid")
	keyCrashTID      = catalog.ProcessCrash.Key("tid")
	keyCrashSignal   = catalog.ProcessCrash.Key("signal")
	keyCrashThreads  = catalog.ProcessCrash.Key("threads")
	keyCrashStacks   = catalog.ProcessCrash.Key("stacks")
	keyCrashSize     = catalog.ProcessCrash.Key("size")
	keyCrashMinidump = catalog.ProcessCrash.Key("minidump")
	keyCrashDropped  = catalog.ProcessCrash.Key("dropped")
	keyCrashError    = catalog.ProcessCrash.Key("error")
	keyCrashBoot     = catalog.ProcessCrash.Key("boot")
	keyCrashTime     = catalog.ProcessCrash.Key("time")
	keyLostDropped   = catalog.ProcessCrashesDropped.Key("dropped")
	keyCorePart      = catalog.ProcessCore.Key("part")
	keyCoreParts     = catalog.ProcessCore.Key("parts")
	keyCoreFirst     = catalog.ProcessCore.Key("first")
	keyCoreSize      = catalog.ProcessCore.Key("size")
	keyCoreCRC       = catalog.ProcessCore.Key("crc")
	keyCoreData      = catalog.ProcessCore.Key("data")
)

// streams returns the sources of one stream.
func streams(srcs []*Source, name string) []*Source {
	var out []*Source
	for _, s := range srcs {
		if s.Stream == name {
			out = append(out, s)
		}
	}
	return out
}

// isCore reports whether r is one of the cores collector's records.
func isCore(r *codec.Record, c *catalog.Record) bool {
	return r.Source == c.Source && r.Name == c.Name
}

// eachRecord calls fn with each record of srcs, in the merged order,
// until it returns false.
func eachRecord(srcs []*Source, fn func(it *Item) bool) error {
	m, err := NewMerger(srcs, time.Time{})
	if err != nil {
		return err
	}
	defer m.Close()
	for {
		it, err := m.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if it.Kind == KindRecord && !fn(&it) {
			return nil
		}
	}
}

// ListCores returns the crashes the events stream tells of, and the
// counts of those not kept (Core.Lost), oldest first.
func ListCores(srcs []*Source) ([]Core, error) {
	var cores []Core
	held := map[uint64]bool{}
	err := eachRecord(append(streams(srcs, catalog.StreamEvents), streams(srcs, catalog.StreamCores)...), func(it *Item) bool {
		r := it.Rec
		switch {
		case it.Source.Stream == catalog.StreamCores && isCore(r, &catalog.ProcessCore) && intField(r, keyCorePart) == 1:
			held[it.Entry.Seq] = true
		case it.Source.Stream == catalog.StreamEvents && isCore(r, &catalog.ProcessCrash):
			cores = append(cores, Core{Wall: r.Wall, Boot: Boot{r.BootCount, r.Boot},
				Exe: strings.Clone(strField(r, keyCrashExe)), PID: intField(r, keyCrashProcPID), TID: intField(r, keyCrashTID),
				Signal: strings.Clone(strField(r, keyCrashSignal)), Threads: intField(r, keyCrashThreads), Stacks: intField(r, keyCrashStacks),
				Size: intField(r, keyCrashSize), Seq: uint64(intField(r, keyCrashMinidump)), Dropped: intField(r, keyCrashDropped),
				Error: strings.Clone(strField(r, keyCrashError)), CrashBoot: strings.Clone(strField(r, keyCrashBoot))})
			if t := intField(r, keyCrashTime); t > 0 {
				cores[len(cores)-1].Time = time.Unix(t, 0)
			}
		case it.Source.Stream == catalog.StreamEvents && isCore(r, &catalog.ProcessCrashesDropped):
			cores = append(cores, Core{Wall: r.Wall, Boot: Boot{r.BootCount, r.Boot}, Dropped: intField(r, keyLostDropped), Lost: true})
		}
		return true
	})
	for i := range cores {
		cores[i].Held = held[cores[i].Seq]
	}
	return cores, err
}

// ErrNoCore is wrapped by ExtractCore's error when the cores stream
// holds no whole minidump of that sequence number.
var ErrNoCore = errors.New("no such minidump")

// ExtractCore writes the minidump whose first part is record seq of the
// cores stream to w, and returns its size. Its parts are checked: each
// in its place, none missing, their bytes the size and the checksums
// (CRC-32C, of the minidump up to each part's end) they say. An error
// names what is wrong.
func ExtractCore(srcs []*Source, seq uint64, w io.Writer) (int64, error) {
	cores := streams(srcs, catalog.StreamCores)
	if len(cores) == 0 {
		return 0, fmt.Errorf("%w: no cores stream in the rings", ErrNoCore)
	}
	var first error
	for _, s := range cores {
		n, err := extractFrom(s, seq, w)
		if err == nil || n > 0 { // written: a second copy cannot mend it
			return n, err
		}
		if first == nil {
			first = err
		}
	}
	return 0, first
}

// extractFrom is ExtractCore on one ring.
func extractFrom(s *Source, seq uint64, w io.Writer) (int64, error) {
	var (
		parts, size, next int64 // next: the part due; 0 before the first
		sum               uint32
		written           int64
		oldest, last      uint64
		failed            error
	)
	err := eachRecord([]*Source{s}, func(it *Item) bool {
		at, r := it.Entry.Seq, it.Rec
		if oldest == 0 {
			oldest = at
		}
		last = at
		if !isCore(r, &catalog.ProcessCore) {
			return true
		}
		part := intField(r, keyCorePart)
		switch {
		case at == seq && part != 1:
			failed = fmt.Errorf("%w: seq %d is part %d of the minidump at seq %d", ErrNoCore, seq, part, intField(r, keyCoreFirst))
			return false
		case at == seq:
			parts, size, next = intField(r, keyCoreParts), intField(r, keyCoreSize), 1
		case next == 0 || uint64(intField(r, keyCoreFirst)) != seq:
			return true
		case part != next:
			failed = fmt.Errorf("minidump %d: part %d of %d where part %d was due: a part is missing", seq, part, parts, next)
			return false
		}
		v, _ := field(r, keyCoreData)
		sum = crc32.Update(sum, crc32.MakeTable(crc32.Castagnoli), []byte(v.Str()))
		if crc := uint32(intField(r, keyCoreCRC)); crc != sum {
			failed = fmt.Errorf("minidump %d: part %d of %d: checksum %08x, the part says %08x", seq, part, parts, sum, crc)
			return false
		}
		n, err := io.WriteString(w, v.Str())
		written += int64(n)
		if err != nil {
			failed = err
			return false
		}
		next++
		return next <= parts
	})
	switch {
	case err != nil || failed != nil:
		return written, cmp.Or(err, failed)
	case next == 0 && seq < oldest:
		return 0, fmt.Errorf("%w: seq %d is gone, the cores stream %s holds seq %d to %d", ErrNoCore, seq, s.Where, oldest, last)
	case next == 0:
		return 0, fmt.Errorf("%w: seq %d is not a minidump's first part in the cores stream %s (seq %d to %d)", ErrNoCore, seq, s.Where, oldest, last)
	case next <= parts:
		return written, fmt.Errorf("minidump %d: part %d of %d missing from the cores stream %s (seq %d to %d)", seq, next, parts, s.Where, oldest, last)
	case written != size:
		return written, fmt.Errorf("minidump %d: %d bytes in its parts, they say %d", seq, written, size)
	}
	return written, nil
}
