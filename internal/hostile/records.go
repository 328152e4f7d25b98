// Package hostile builds the input that once made itiny's binaries hold
// memory without bound, for the tests that now bound it and the bench
// scripts that measure it: ingest messages whose decoded form is many
// times their size (records.go: TestIngestMemoryBound in agent,
// bench/attack.sh), and support bundles made to take a reader's memory
// (bundles.go: the bundle memory tests, bench/hostile.sh; docs/DESIGN.md
// sections 12 and 24).
package hostile

import (
	"bytes"
	"fmt"

	"github.com/itiny/itiny/codec"
)

// Size is the largest message Records returns: the default max_record.
const Size = 16 << 10

// Records returns messages of at most Size bytes that a decoder must work
// through and the agent must reject, so that no rate limit or ring stops
// them early: records to an unknown stream whose nested list of one-byte
// values (3,900 values, each 72 bytes decoded) moves one field along from
// one record to the next, so that reused storage would keep hidden tails,
// in MessagePack and JSON; a record of 15,000 values, more than the
// agent's arena holds; one of 1,024 fields; an empty message; garbage.
func Records() [][]byte {
	var out [][]byte
	add := func(c codec.Codec, r *codec.Record) {
		b, err := c.Append(nil, r)
		if err != nil || len(b) > Size {
			panic(fmt.Sprintf("hostile: %s record of %d bytes: %v", c, len(b), err))
		}
		out = append(out, b)
	}
	ones := func(n int) codec.Value {
		vs := make([]codec.Value, n)
		for i := range vs {
			vs[i] = codec.Int(1)
		}
		return codec.List(vs...)
	}
	for slot := 0; slot < 16; slot++ {
		for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
			r := &codec.Record{Stream: "nosuch", Name: "x"}
			for i := 0; i < 16; i++ {
				v := codec.Int(int64(i))
				if i == slot {
					lists := make([]codec.Value, 39)
					for j := range lists {
						lists[j] = ones(100)
					}
					v = codec.List(lists...)
				}
				r.Fields = append(r.Fields, codec.Field{Key: fmt.Sprintf("k%d", i), Value: v})
			}
			add(c, r)
		}
	}
	over := &codec.Record{Stream: "events", Name: "x"}
	for i := 0; i < 15; i++ {
		over.Fields = append(over.Fields, codec.Field{Key: fmt.Sprintf("k%d", i), Value: ones(1000)})
	}
	add(codec.Msgpack, over)
	many := &codec.Record{Stream: "nosuch", Name: "x"}
	for i := 0; i < codec.MaxFields; i++ {
		many.Fields = append(many.Fields, codec.Field{Key: fmt.Sprintf("f%d", i), Value: codec.Int(int64(i))})
	}
	add(codec.Msgpack, many)
	return append(out, []byte{}, []byte{0xc1, 0xc1}, bytes.Repeat([]byte("["), Size-1))
}
