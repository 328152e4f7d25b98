package ringlog_test

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// Example writes three records to a ring and reads them back.
func Example() {
	dir, err := os.MkdirTemp("", "ring")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	w, err := ringlog.Open(dir, ringlog.Options{
		Stream:      "events",
		Codec:       codec.JSON,
		Budget:      1 << 20, // bytes on disk, never exceeded
		SegmentSize: 64 << 10,
		Sync:        ringlog.SyncInterval,
	})
	if err != nil {
		log.Fatal(err)
	}
	for i, name := range []string{"boot", "link.up", "disk.full"} {
		r := codec.Record{Level: codec.LevelNotice, Source: "example", Name: name,
			Fields: codec.Fields{{Key: "n", Value: codec.Int(int64(i))}}}
		if _, err := w.Append(&r); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := ringlog.NewReader(dir)
	if err != nil {
		log.Fatal(err)
	}
	var rec codec.Record
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("skipped:", err) // damage: reading goes on
			continue
		}
		if err := e.Decode(&rec); err != nil {
			log.Fatal(err)
		}
		fmt.Println(rec.Seq, rec.Stream, rec.Level, rec.Name, rec.Fields[0].Value.Int())
	}
	// Output:
	// 1 events notice boot 0
	// 2 events notice link.up 1
	// 3 events notice disk.full 2
}
