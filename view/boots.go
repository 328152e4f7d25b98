package view

import (
	"encoding/hex"
	"io"
	"time"

	"github.com/itiny/itiny/codec"
)

// A BootInfo summarises one boot's records.
type BootInfo struct {
	N           uint32
	ID          codec.BootID
	First, Last time.Time // wall times of its first and last records (untrusted), repaired as their marks say
	FirstClock  TimeMark
	LastClock   TimeMark
	Sync        SyncPoint // what the rings say of its clock
	Records     int
	Streams     map[string]int
	// Losses counts the gaps after the boot's records: a gap counts to the
	// boot of the stream's record before it, whose records it may have cost.
	Losses
	// Uptime is the monotonic time of its last record: how long the
	// device had been up then.
	Uptime time.Duration
	// Ended says how the boot ended (EndedPanic...), and Evidence the
	// records that tell: a panic's header and the line that names it
	// ("Panic#1 Part1: Kernel panic - not syncing: ..."), the watchdog's
	// flags. ListBoots says what the next boot's kernel records (pstore,
	// watchdog) tell; EndBoots the rest, from the agent's runs.
	Ended, Evidence string

	next kernelEnd // what this boot's records say of the boot before
	weak weakEnd   // what the next boot tells that EndBoots weighs
}

// ListBoots reads every record of srcs and returns their boots, oldest
// first, in the merged order, with wall times repaired (Clocks).
func ListBoots(srcs []*Source) ([]BootInfo, error) {
	m, err := newRepairedMerger(srcs)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	var boots []BootInfo
	var early Losses // gaps before any record decoded: the first boot's
	for {
		it, err := m.Next()
		if err == io.EOF {
			for i := 1; i < len(boots); i++ {
				// Unless device.boot names another: the boot before
				// that one is not in the rings.
				if pb := boots[i].next.prevBoot; pb == "" || pb == hex.EncodeToString(boots[i-1].ID[:]) {
					b := &boots[i-1]
					b.Ended, b.Evidence, b.weak = boots[i].next.verdict()
				}
			}
			return boots, nil
		}
		if err != nil {
			return nil, err
		}
		switch it.Kind {
		case KindBoot:
			boots = append(boots, BootInfo{N: it.Boot.N, ID: it.Boot.ID, Streams: map[string]int{}, Sync: it.Sync})
			if len(boots) == 1 {
				boots[0].Losses = early
			}
		case KindGap:
			// The records a gap may have cost were those of the boot of
			// the stream's record before it. Before a record that does
			// not decode, first in its ring, no boot is known yet.
			if len(boots) == 0 {
				early.Add(&it.Gap)
				continue
			}
			i := len(boots) - 1
			for i > 0 && (boots[i].N != it.Boot.N || boots[i].ID != it.Boot.ID) {
				i--
			}
			boots[i].Add(&it.Gap)
		case KindRecord:
			b := &boots[len(boots)-1]
			if b.Records == 0 {
				b.First, b.FirstClock = it.Rec.Wall, it.Time
			}
			b.Last, b.LastClock, b.Uptime = it.Rec.Wall, it.Time, time.Duration(it.Rec.Mono)
			b.next.see(it.Rec)
			b.Records++
			b.Streams[it.Source.Stream]++
		}
	}
}
