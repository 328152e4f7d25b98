// Command handout measures what it would cost in flash to make a periodic
// stream's crash loss exact: recording, where a SIGKILL cannot lose it,
// each number handed out (docs/DESIGN.md section 22). It writes a
// periodic ring as the agent's default metrics stream does (memory stage,
// packed, flushed every -flush, a sample of -records records every
// -sample); with -counter it also writes the last number handed out into a
// small file after each record, through the page cache, as a stage header
// field would be. bench/handout.sh runs it on a loop-mounted ext4 image and
// counts the sectors the kernel wrote.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

func main() {
	dir := flag.String("dir", "", "the data directory")
	counter := flag.Bool("counter", false, "record each number handed out in a file")
	duration := flag.Duration("duration", time.Minute, "how long to run")
	sample := flag.Duration("sample", 10*time.Second, "time between samples")
	records := flag.Int("records", 30, "records per sample")
	flush := flag.Duration("flush", time.Minute, "the stream's flush interval")
	flag.Parse()
	if err := run(*dir, *counter, *duration, *sample, *records, *flush); err != nil {
		fmt.Fprintln(os.Stderr, "handout:", err)
		os.Exit(1)
	}
}

func run(dir string, counter bool, duration, sample time.Duration, records int, flush time.Duration) error {
	w, err := ringlog.Open(filepath.Join(dir, "metrics"), ringlog.Options{Stream: "metrics", Codec: codec.Msgpack,
		Budget: 6 << 20, SegmentSize: 256 << 10, StageSize: 64 << 10, MemoryStage: true, Pack: true, FlushEvery: flush})
	if err != nil {
		return err
	}
	defer w.Close()
	var f *os.File
	if counter {
		if f, err = os.OpenFile(filepath.Join(dir, "handed-out"), os.O_RDWR|os.O_CREATE, 0o640); err != nil {
			return err
		}
		defer f.Close()
	}
	var buf [8]byte
	r := codec.Record{Source: "cpu", Name: "cpu", Level: codec.LevelInfo}
	end := time.Now().Add(duration)
	for i := 0; time.Now().Before(end); i++ {
		for j := 0; j < records; j++ {
			r.Wall, r.Mono = time.Now(), time.Since(end).Nanoseconds()
			r.Fields = append(r.Fields[:0],
				codec.Field{Key: "cpu", Value: codec.Int(int64(j))},
				codec.Field{Key: "user", Value: codec.Uint(uint64(1000*i + j))},
				codec.Field{Key: "system", Value: codec.Uint(uint64(300*i + j))},
				codec.Field{Key: "idle", Value: codec.Uint(uint64(9000*i + j))})
			seq, err := w.Append(&r)
			if err != nil {
				return err
			}
			if f != nil {
				binary.LittleEndian.PutUint64(buf[:], seq)
				if _, err := f.WriteAt(buf[:], 0); err != nil {
					return err
				}
			}
		}
		time.Sleep(sample)
	}
	return nil
}
