// Command size appends one record to a ring so that the linker keeps
// ringlog and codec; size.sh compares its stripped binary with an empty
// program's to show what the ring adds to an executable.
package main

import (
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

func main() {
	dir := filepath.Join(os.TempDir(), "itiny-size")
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	w, err := ringlog.Open(dir, ringlog.Options{
		Stream:      "metrics",
		Codec:       codec.Msgpack,
		Budget:      1 << 20,
		SegmentSize: 64 << 10,
	})
	if err != nil {
		log.Fatal(err)
	}
	r := &codec.Record{
		Wall:   time.Now(),
		Source: "size",
		Level:  codec.LevelInfo,
		Name:   "cpu",
		Fields: codec.Fields{{Key: "user", Value: codec.Float(12.5)}},
	}
	if _, err := w.Append(r); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
}
