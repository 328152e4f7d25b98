// Package oracle holds the decoder msgp generates for a record's shape:
// what codec's hand-written MessagePack decoder is checked against
// (FuzzDecodeMsgpack). Only tests import it, so that no binary links msgp
// (internal/msgpack says why).
package oracle

import (
	"time"

	"github.com/tinylib/msgp/msgp"
)

//go:generate go tool msgp -file=oracle.go -o=oracle_gen.go -io=false -tests=false

//msgp:limit arrays:1024 maps:32 marshal:true
//msgp:newtime
//msgp:timezone utc

// Record has the keys and types of codec.Record; its fields are left as
// the raw bytes of their map, for codec's own decoder.
type Record struct {
	Seq       uint64    `msg:"seq"`
	Stream    string    `msg:"stream"`
	Boot      Boot      `msg:"boot"`
	BootCount uint32    `msg:"bootn"`
	Wall      time.Time `msg:"wall"`
	Mono      int64     `msg:"mono"`
	Source    string    `msg:"src"`
	Level     uint8     `msg:"level"`
	Name      string    `msg:"name"`
	Fields    msgp.Raw  `msg:"fields"`
}

// Boot is a boot id.
type Boot [16]byte
