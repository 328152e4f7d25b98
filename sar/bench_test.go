package sar

import (
	"io"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// BenchmarkReaderText reads disk samples of four devices into text rows:
// what reading a day of rings through sar costs per record.
func BenchmarkReaderText(b *testing.B) {
	devs := []string{"sda", "sdb", "mmcblk0", "nvme0n1"}
	recs := make([]*codec.Record, len(devs))
	for i, d := range devs {
		recs[i] = step{1, 0, catalog.Disk.Name, disk(d, 0, 0, 0, 0, 0, 0, 0, 0)}.record()
	}
	r := NewReader(&Disk, NewTextWriter(io.Discard, &Disk, time.UTC), Options{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rec := recs[i%len(recs)]
		rec.Mono += 10e9
		rec.Wall = rec.Wall.Add(10 * time.Second)
		for j := 1; j < len(rec.Fields); j++ {
			rec.Fields[j].Value = codec.Uint(rec.Fields[j].Value.Uint() + uint64(i%7))
		}
		if err := r.Add(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaderSummaries reads an interface's minute summaries into
// text rows: what reading a tier through sar costs per record.
func BenchmarkReaderSummaries(b *testing.B) {
	rec := step{1, 0, catalog.Net.Name, net("eth0", 0, 0, 0, 0, 0, 0, 0, 0)}.record()
	for _, k := range []string{"rx_bytes_rate", "rx_packets_rate", "tx_bytes_rate", "tx_packets_rate"} {
		rec.Fields = append(rec.Fields, codec.Field{Key: k, Value: codec.Float(100)})
	}
	rec.Fields = append(rec.Fields, codec.Field{Key: "samples", Value: codec.Int(6)})
	r := NewReader(&Net, NewTextWriter(io.Discard, &Net, time.UTC), Options{Every: time.Hour})
	b.ReportAllocs()
	for b.Loop() {
		rec.Mono += 60e9
		rec.Wall = rec.Wall.Add(time.Minute)
		if err := r.AddFrom(rec, 0, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
