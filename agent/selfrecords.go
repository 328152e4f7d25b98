package agent

import (
	"errors"

	"github.com/itiny/itiny/codec"
)

// The agent's own records (stream.stats, agent.start, rollup.gap...):
// one shared record, its fields added a call each.

// note writes one of the agent's own records; a failure goes to the
// diagnostic log, since there is nowhere better, and is returned.
func (a *Agent) note(stream, name string, level codec.Level, fields ...codec.Field) error {
	f := a.selfFields()
	*f = append(*f, fields...)
	return a.noteFields(stream, name, level)
}

// selfFields starts one of the agent's own records, whose fields its
// caller adds with the add functions, a call each, and noteFields writes.
// It holds selfMu until then. A codec.Field literal passed to note costs
// some 250 bytes of code and tables (a call returning seven words, nine
// stored); a call to an add function a fifth of that (docs/DESIGN.md
// section 14).
func (a *Agent) selfFields() *codec.Fields {
	a.selfMu.Lock()
	a.self.Fields = a.self.Fields[:0]
	return &a.self.Fields
}

// noteFields writes the record selfFields started, as note does.
func (a *Agent) noteFields(stream, name string, level codec.Level) error {
	defer a.selfMu.Unlock()
	r := &a.self
	*r = codec.Record{Source: selfSource, Name: name, Level: level, Fields: r.Fields}
	err := a.Emit(stream, r)
	if err != nil && !errors.Is(err, ErrUnavailable) { // said once, by markDown
		a.log.Printf("writing %s to %s: %v", name, stream, err)
	}
	return err
}

func addInt(f *codec.Fields, key string, v int64) { add(f, key, codec.Int(v)) }

func addUint(f *codec.Fields, key string, v uint64) { add(f, key, codec.Uint(v)) }

func addFloat(f *codec.Fields, key string, v float64) { add(f, key, codec.Float(v)) }

func addString(f *codec.Fields, key, v string) { add(f, key, codec.String(v)) }

func addBool(f *codec.Fields, key string, v bool) { add(f, key, codec.Bool(v)) }

// add appends a field to f: the one append of the add functions, kept
// out of line (its growth and write barriers were code at 100 sites).
//
//go:noinline
func add(f *codec.Fields, key string, v codec.Value) {
	*f = append(*f, codec.Field{Key: key, Value: v})
}
