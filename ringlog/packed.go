package ringlog

import (
	"io"

	"github.com/itiny/itiny/pack"
)

// lastSeq returns the sequence number of the last record in frame f; for
// a block that does not unpack, that of the last record before the bad
// entry, with the error.
func lastSeq(f frame) (uint64, error) {
	if !f.Packed {
		return f.Seq, nil
	}
	var u pack.Unpacker
	u.Reset(f.Payload, f.Seq)
	last := f.Seq
	for {
		seq, _, err := u.Next()
		if err == io.EOF {
			return last, nil
		}
		if err != nil {
			return last, err
		}
		last = seq
	}
}
