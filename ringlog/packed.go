package ringlog

import (
	"io"

	"github.com/itiny/itiny/pack"
)

// lastRecord returns the sequence number and payload of the last record
// in frame f, the payload valid until f's bytes change; for a block that
// does not unpack, the number of the last record before the bad entry,
// no payload (unpacking may have moved it), and the error.
func lastRecord(f frame) (uint64, []byte, error) {
	if !f.Packed {
		return f.Seq, f.Payload, nil
	}
	var u pack.Unpacker
	u.Reset(f.Payload, f.Seq)
	last := f.Seq
	var p []byte
	for {
		seq, rec, err := u.Next()
		if err == io.EOF {
			return last, p, nil
		}
		if err != nil {
			return last, nil, err
		}
		last, p = seq, rec
	}
}
