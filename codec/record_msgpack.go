package codec

import "github.com/itiny/itiny/internal/msgpack"

// MarshalMsg appends r as the MessagePack map of docs/FORMAT.md section 4:
// its ten keys, always all of them, in this order. Numbers take their
// smallest encoding and wall the smallest timestamp form.
func (r *Record) MarshalMsg(b []byte) ([]byte, error) {
	b = msgpack.AppendUint(append(b, 0x8a, 0xa3, 's', 'e', 'q'), r.Seq)
	b = msgpack.AppendString(append(b, 0xa6, 's', 't', 'r', 'e', 'a', 'm'), r.Stream)
	b = msgpack.AppendBytes(append(b, 0xa4, 'b', 'o', 'o', 't'), r.Boot[:])
	b = msgpack.AppendUint(append(b, 0xa5, 'b', 'o', 'o', 't', 'n'), uint64(r.BootCount))
	b = msgpack.AppendTime(append(b, 0xa4, 'w', 'a', 'l', 'l'), r.Wall)
	b = msgpack.AppendInt(append(b, 0xa4, 'm', 'o', 'n', 'o'), r.Mono)
	b = msgpack.AppendString(append(b, 0xa3, 's', 'r', 'c'), r.Source)
	b = msgpack.AppendUint(append(b, 0xa5, 'l', 'e', 'v', 'e', 'l'), uint64(r.Level))
	b = msgpack.AppendString(append(b, 0xa4, 'n', 'a', 'm', 'e'), r.Name)
	return r.Fields.MarshalMsg(append(b, 0xa6, 'f', 'i', 'e', 'l', 'd', 's'))
}
