// Package catalog is the one definition of the records the itiny agent
// writes itself: each record's name, the stream it goes to, the source
// that stamps it, and its fields with their kind and unit.
//
// The agent builds its collectors' records from it and names its own
// events with it; itiny-read's views (sar, the report, runs) read records
// through it. A reader therefore never restates a field name, and a test
// checks the agent's golden collector output against it, so the two
// cannot drift apart.
//
// Kinds follow the Prometheus convention: a Gauge is a value at the time
// of the sample (memory available, a temperature); a Counter only grows,
// from the boot or from the start of what it counts, until it resets (a
// reboot, an agent restart for the agent's own counters, a wrap), so a
// reader takes the difference of two samples over their interval and
// never reads a reset as a negative or huge rate. A Label names the
// instance the record is about (a disk, an interface, a mount) or a
// state.
package catalog

import "slices"

// Kind says how a field's values are to be read.
type Kind uint8

const (
	Label   Kind = iota + 1 // a string: the instance, a type, a state
	Gauge                   // a value at sample time
	Counter                 // cumulative: rates come from differences
	Flag                    // a boolean
	Text                    // free text: a message, a command's output
	Blob                    // binary data: a part of a minidump
)

var kindNames = [...]string{"", "label", "gauge", "counter", "flag", "text", "blob"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// A Unit is the unit of a numeric field. A small number rather than a
// string: the agent links the catalogue, and every byte of it is in the
// firmware.
type Unit uint8

// Units of numeric fields.
const (
	None    Unit = iota // a plain number (a load average, an exit code)
	Ticks               // USER_HZ clock ticks (TicksPerSecond)
	Bytes               //
	Sectors             // SectorBytes, whatever the device's sector size
	Ms                  // milliseconds
	Micros              // microseconds
	Seconds             //
	Percent             //
	Celsius             //
	Count               // events, packets, operations, processes
)

var unitNames = [...]string{"", "ticks", "bytes", "sectors", "ms", "us", "s", "%", "°C", "count"}

// String returns the unit's symbol: "bytes", "ms", "%"; "" for None.
func (u Unit) String() string {
	if int(u) < len(unitNames) {
		return unitNames[u]
	}
	return "unit?"
}

// TicksPerSecond is USER_HZ, the unit of /proc/stat and of a process's
// CPU time: 100 on every Linux architecture the agent is built for.
const TicksPerSecond = 100

// SectorBytes is the size of /proc/diskstats' sectors.
const SectorBytes = 512

// A Field is one field of a record.
type Field struct {
	Key  string
	Kind Kind
	Unit Unit // for Gauge and Counter
}

// A Record describes one kind of record. Instance is the key of the field
// that names what the record is about when a device has several (a disk,
// an interface); it is always the first field.
type Record struct {
	Name     string
	Stream   string
	Source   string
	Instance string
	Fields   []Field
}

// Keys returns the record's field keys, in order.
func (r *Record) Keys() []string {
	k := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		k[i] = f.Key
	}
	return k
}

// Field returns the field of that key and its index, or -1.
func (r *Record) Field(key string) (Field, int) {
	for i, f := range r.Fields {
		if f.Key == key {
			return f, i
		}
	}
	return Field{}, -1
}

// Key returns key if r has a field of that key, and panics if not: for
// readers to name the fields they read in package variables, so that a
// key the catalogue lacks fails every test at once rather than reading
// as a field that is never there.
func (r *Record) Key(key string) string {
	if _, i := r.Field(key); i < 0 {
		panic("catalog: record " + r.Name + " has no field " + key)
	}
	return key
}

// Lookup returns the catalogue's record of that name, or nil. Every
// collector's record has a distinct name, and so has every event.
func Lookup(name string) *Record {
	for _, r := range all {
		if r.Name == name && name != "" { // Alarm's name is the rule's
			return r
		}
	}
	return nil
}

// All returns every record of the catalogue: the collectors' samples
// first, then the agent's events.
func All() []*Record { return slices.Clone(all) }

// The streams of the default configuration the agent writes to.
const (
	StreamMetrics = "metrics" // periodic system samples
	StreamState   = "state"   // component and process states
	StreamEvents  = "events"  // notifications: events and alarms
	StreamSelf    = "itiny"   // the agent's own health
	StreamCores   = "cores"   // crashed processes' minidumps
)

// SelfSource is the source of the agent's own records, which no sender
// on the socket may use.
const SelfSource = "itiny"
