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
	// Losses counts the gaps of the boot's records: those after its last
	// record of a stream, before the next boot's first, count here, as the
	// records lost were this boot's.
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
		case KindGap:
			b := &boots[len(boots)-1]
			if b.Records == 0 && len(boots) > 1 {
				b = &boots[len(boots)-2]
			}
			b.Add(&it.Gap)
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
