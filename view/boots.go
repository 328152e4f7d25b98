package view

import (
	"io"
	"time"

	"github.com/itiny/itiny/codec"
)

// A BootInfo summarises one boot's records.
type BootInfo struct {
	N           uint32
	ID          codec.BootID
	First, Last time.Time // wall times of its first and last records (untrusted)
	Records     int
	Streams     map[string]int
	// Losses counts the gaps after the boot's records: a gap counts to the
	// boot of the stream's record before it, whose records it may have cost.
	Losses
}

// ListBoots reads every record of srcs and returns their boots, oldest
// first, in the merged order.
func ListBoots(srcs []*Source) ([]BootInfo, error) {
	m, err := NewMerger(srcs, time.Time{})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	var boots []BootInfo
	var early Losses // gaps before any record decoded: the first boot's
	for {
		it, err := m.Next()
		if err == io.EOF {
			return boots, nil
		}
		if err != nil {
			return nil, err
		}
		switch it.Kind {
		case KindBoot:
			boots = append(boots, BootInfo{N: it.Boot.N, ID: it.Boot.ID, Streams: map[string]int{}})
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
				b.First = it.Rec.Wall
			}
			b.Last = it.Rec.Wall
			b.Records++
			b.Streams[it.Source.Stream]++
		}
	}
}
