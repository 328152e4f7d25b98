package view

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// Writes is what the agent's own records in a ring (stream.stats, and
// agent.io for the agent in all) say a stream's ring, or the agent,
// wrote: the change of their counters over the time they were measured,
// and from it a day's worth. The counters count from an agent's start,
// so each run of the agent is measured from its first record to its
// last; a counter going down, or another boot, starts a run.
type Writes struct {
	Stream  string     `json:"stream"` // "" for the agent in all (agent.io)
	Runs    int        `json:"runs"`   // runs of the agent measured: with two records or more
	Seconds float64    `json:"seconds"`
	First   codec.Time `json:"first_wall"` // wall times of the first and last records read
	Last    codec.Time `json:"last_wall"`
	// The counters' changes over Seconds (docs/DESIGN.md section 30).
	RecordBytes  int64 `json:"record_bytes"`
	StoredBytes  int64 `json:"stored_bytes"`
	FramingBytes int64 `json:"framing_bytes"`
	HandedBytes  int64 `json:"handed_bytes"`
	Syncs        int64 `json:"syncs"` // of segments, stages and directories
	// WriteBytes is the agent's write_bytes of /proc/self/io: known for
	// the agent in all when every agent.io record had it, and else
	// WriteError says why not.
	WriteBytes int64  `json:"write_bytes"`
	WriteKnown bool   `json:"write_known"`
	WriteError string `json:"write_error"`
	// BytesPerDay is WriteBytes a day where known, else HandedBytes: what
	// storage is asked to take. Amplification is HandedBytes per record
	// byte, KernelAmplification WriteBytes per record byte (0 unknown).
	BytesPerDay         float64 `json:"bytes_per_day"`
	Amplification       float64 `json:"amplification"`
	KernelAmplification float64 `json:"kernel_amplification"`
}

// PerDay is n over w.Seconds, a day's worth; 0 when nothing was measured.
func (w *Writes) PerDay(n int64) float64 {
	if w.Seconds <= 0 {
		return 0
	}
	return float64(n) * 86400 / w.Seconds
}

// Window says what the figures were measured over: "2h0m0s in 2 runs".
func (w *Writes) Window() string {
	return (time.Duration(w.Seconds * 1e9)).Round(time.Second).String() + " in " + Count(w.Runs, "run", "runs")
}

// The counters measured, in order; write_bytes is agent.io's alone.
var writeKeys = [...]string{
	catalog.StreamStats.Key("record_bytes"), catalog.StreamStats.Key("stored_bytes"),
	catalog.StreamStats.Key("framing_bytes"), catalog.StreamStats.Key("handed_bytes"),
	catalog.StreamStats.Key("syncs"), catalog.StreamStats.Key("other_syncs"),
	catalog.AgentIO.Key("write_bytes"),
}

var (
	writesStream = catalog.StreamStats.Key("stream")
	writesError  = catalog.AgentIO.Key("write_error")
)

// writeCounts are a record's counters, as writeKeys orders them.
type writeCounts [len(writeKeys)]int64

// writesTracker measures the agent's write figures in the records of a
// ring, in the order it holds them.
type writesTracker struct {
	by    map[string]*writeRun
	order []string
}

// writeRun is one stream's (or the agent's) figures so far and its
// current run.
type writeRun struct {
	w           Writes
	boot        codec.BootID
	first, last writeCounts
	firstMono   int64
	lastMono    int64
	n           int // records of the current run
}

func (t *writesTracker) see(r *codec.Record) {
	if r.Source != catalog.SelfSource || r.Name != catalog.StreamStats.Name && r.Name != catalog.AgentIO.Name {
		return
	}
	key := ""
	if r.Name == catalog.StreamStats.Name {
		if key = strField(r, writesStream); key == "" {
			return
		}
	}
	var c writeCounts
	keys := writeKeys[:len(writeKeys)-1]
	if key == "" {
		keys = writeKeys[:]
	}
	for i, k := range keys {
		v, ok := field(r, k)
		x, num := v.Number()
		if !ok || !num {
			return // an agent before these figures
		}
		c[i] = int64(x)
	}
	if t.by == nil {
		t.by = map[string]*writeRun{}
	}
	s := t.by[key]
	if s == nil {
		if len(t.by) >= maxWriteStreams {
			return
		}
		key = strings.Clone(key) // the record's strings may alias its decoding buffer
		s = &writeRun{w: Writes{Stream: key, WriteKnown: key == ""}}
		t.by[key] = s
		t.order = append(t.order, key)
	}
	if key == "" {
		if why := strField(r, writesError); why != "" {
			if why != s.w.WriteError {
				s.w.WriteError = strings.Clone(why)
			}
			s.w.WriteKnown = false
			c[len(c)-1] = s.last[len(c)-1] // no figure: not a reset
		}
	}
	if s.w.First.IsZero() {
		s.w.First.Time = r.Wall
	}
	s.w.Last.Time = r.Wall
	restart := s.n == 0 || r.Boot != s.boot || r.Mono < s.lastMono
	for i := range c {
		restart = restart || c[i] < s.last[i]
	}
	if restart {
		s.end()
		s.boot, s.first, s.firstMono = r.Boot, c, r.Mono
	}
	s.last, s.lastMono = c, r.Mono
	s.n++
}

// maxWriteStreams bounds the streams tracked: a ring of hostile records
// costs no more memory.
const maxWriteStreams = 256

// end adds the current run's changes to the figures.
func (s *writeRun) end() {
	if s.n >= 2 {
		s.w.Runs++
		s.w.Seconds += float64(s.lastMono-s.firstMono) / 1e9
		d := func(i int) int64 { return s.last[i] - s.first[i] }
		s.w.RecordBytes += d(0)
		s.w.StoredBytes += d(1)
		s.w.FramingBytes += d(2)
		s.w.HandedBytes += d(3)
		s.w.Syncs += d(4) + d(5)
		s.w.WriteBytes += d(6)
	}
	s.n = 0
}

// result returns the figures of every stream, in the order their first
// records came, the agent's last.
func (t *writesTracker) result() []Writes {
	var out []Writes
	var agent *Writes
	for _, k := range t.order {
		s := t.by[k]
		s.end()
		w := &s.w
		if !w.WriteKnown {
			w.WriteBytes = 0
		}
		w.BytesPerDay = w.PerDay(w.HandedBytes)
		if w.WriteKnown {
			w.BytesPerDay = w.PerDay(w.WriteBytes)
		}
		w.Amplification = ratio(w.HandedBytes, w.RecordBytes)
		if w.WriteKnown {
			w.KernelAmplification = ratio(w.WriteBytes, w.RecordBytes)
		}
		if k == "" {
			agent = w
			continue
		}
		out = append(out, *w)
	}
	if agent != nil {
		out = append(out, *agent)
	}
	return out
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*1000) / 1000
}

// SizeText says a number of bytes in binary units: "512 B", "1.5 MiB".
func SizeText(n float64) string {
	units := [...]string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for ; math.Abs(n) >= 1024 && i < len(units)-1; i++ {
		n /= 1024
	}
	prec := 1
	if i == 0 {
		prec = 0
	}
	return strconv.FormatFloat(n, 'f', prec, 64) + " " + units[i]
}
