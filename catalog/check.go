package catalog

import (
	"github.com/itiny/itiny/internal/tinyfmt"

	"github.com/itiny/itiny/codec"
)

// Check reports how rec departs from r: another name, stream or source
// (stream is not checked when empty), a field missing or out of order,
// one the catalogue does not know, or a value whose type does not fit its
// field's kind. The catalogue's fields may be followed by others only for
// records that copy their cause's fields (state.change).
func (r *Record) Check(stream string, rec *codec.Record) error {
	if r.Name != "" && rec.Name != r.Name {
		return tinyfmt.Errorf("record %q: catalogue entry is %q", rec.Name, r.Name)
	}
	if stream != "" && stream != r.Stream {
		return tinyfmt.Errorf("record %q in stream %q: the catalogue puts it in %q", rec.Name, stream, r.Stream)
	}
	if rec.Source != r.Source {
		return tinyfmt.Errorf("record %q: source %q, the catalogue says %q", rec.Name, rec.Source, r.Source)
	}
	i := 0
	for _, f := range r.Fields {
		if i == len(rec.Fields) {
			return tinyfmt.Errorf("record %q: field %q missing", rec.Name, f.Key)
		}
		if got := rec.Fields[i].Key; got != f.Key {
			if r == &Snapshot && f.Key == "exit_code" {
				continue // a file's snapshot has none
			}
			return tinyfmt.Errorf("record %q: field %d is %q, the catalogue says %q", rec.Name, i, got, f.Key)
		}
		if !fits(f.Kind, rec.Fields[i].Value.Kind()) {
			return tinyfmt.Errorf("record %q: field %q holds a %v, not a %v", rec.Name, f.Key, rec.Fields[i].Value.Kind(), f.Kind)
		}
		i++
	}
	if i < len(rec.Fields) && r != &StateChange {
		return tinyfmt.Errorf("record %q: field %q is not in the catalogue", rec.Name, rec.Fields[i].Key)
	}
	return nil
}

// fits reports whether a value of kind v may stand for a field of kind k.
func fits(k Kind, v codec.Kind) bool {
	switch k {
	case Label:
		return v == codec.KindString || v == codec.KindInt || v == codec.KindUint
	case Gauge, Counter:
		return v == codec.KindInt || v == codec.KindUint || v == codec.KindFloat
	case Flag:
		return v == codec.KindBool
	case Text:
		return v == codec.KindString
	case Blob:
		return v == codec.KindBytes
	}
	return false
}
