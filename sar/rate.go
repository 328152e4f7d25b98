package sar

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// GapFactor decides a gap in a series' samples: an interval longer than
// GapFactor times the series' pace (Pace) is not a sample interval but
// time the agent did not sample (stopped, stalled or suspended), and no
// rate is taken over it.
const GapFactor = 3

// A Pace is a series' sampling interval as the gap rule knows it: the
// shortest interval since the series started (in its boot and the
// agent's run) or since its last gap. An interval under 1/GapFactor of
// the pace does not lower it: it is a sample off the series' phase, as
// the agent takes when a reload restarts a collector, and taken for the
// pace it made every later interval a gap for the rest of the boot.
type Pace struct{ dt int64 }

// Gap reports whether an interval of dt (ns, > 0) is a gap. After a
// gap, the intervals that follow set the pace again: the agent's
// configuration may have changed it.
func (p *Pace) Gap(dt int64) bool {
	if p.dt > 0 && dt > GapFactor*p.dt {
		p.dt = 0
		return true
	}
	if p.dt == 0 || dt < p.dt && GapFactor*dt >= p.dt {
		p.dt = dt
	}
	return false
}

// Reset forgets the pace: a new boot or run of the agent sets its own.
func (p *Pace) Reset() { p.dt = 0 }

// A sample is what a report's figures are computed from: a record's
// values by the position of their fields in the catalogue (NaN where a
// field is missing or not a number), and those of the series' sample
// before it when the interval between them holds.
type sample struct {
	cur, prev []float64
	also      []float64 // Report.Also's latest values in this boot, or nil
	dt        float64   // seconds between prev and cur (monotonic); a summary's interval
	ok        bool      // prev and dt hold an interval; a summary always does
	// rates are a summary's counters' increase per second (F_rate), by
	// the catalogue's positions (NaN where absent); nil for a sample.
	rates []float64
	n     float64 // the samples the row stands for: a summary's, or 1
}

var nan = math.NaN()

// delta returns how much field i grew over the interval; NaN without one.
func (s *sample) delta(i int) float64 {
	switch {
	case !s.ok:
		return nan
	case s.rates != nil:
		return s.rates[i] * s.dt // a summary's: never negative across a reset
	}
	return s.cur[i] - s.prev[i]
}

// rate returns field i's growth per second times scale; NaN without an
// interval.
func (s *sample) rate(i int, scale float64) float64 { return s.delta(i) * scale / s.dt }

// pct returns 100 × a / b, and 0 when b is 0 (a device with no size, no
// swap): sar prints 0.00 there.
func pct(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * a / b
}

// A series is the samples of one instance of the report's record.
type series struct {
	inst   string
	labels []string
	vals   []float64
	any    bool // vals hold a sample
	boot   uint32
	id     codec.BootID
	mono   int64
	run    int           // the agent's run the sample was taken in
	every  time.Duration // the tier of the sample: 0 raw, else a summary's interval
	pace   Pace          // of this boot and run
	proc   string        // Report.restart's value in the sample
	brk    bool          // an interval was dropped since the series' last row
	avg    acc           // every row, for Average
	bucket acc           // the rows of the current span of Options.Every
}

// interval decides whether the record rec, of values v, makes an interval
// with the series' last sample: why not, when it does not and a mark is
// due ("" when there was no sample to make one with), and the detail of
// the mark. A dropped interval but the first and a copy sets s.brk.
func (s *series) interval(rep *Report, rec *codec.Record, v []float64, run int) (ok bool, why, note string) {
	switch {
	case !s.any:
		return false, "", ""
	case s.every > 0:
		s.pace.Reset()
		return false, "", "" // after a tier's summaries: no sample to pair with
	case s.boot != rec.BootCount || s.id != rec.Boot:
		s.brk = true
		s.pace.Reset()
		return false, "", "" // the reboot is marked once for every series
	case s.run != run:
		s.brk = true
		s.pace.Reset()
		return false, "", "" // as is the agent's restart
	case rec.Mono <= s.mono:
		return false, "", "" // a copy of the sample (two copies of a ring)
	}
	dt := rec.Mono - s.mono
	if !rep.unsampled && s.pace.Gap(dt) {
		s.brk = true
		return false, "gap", "no samples for " + time.Duration(dt).Round(time.Second).String()
	}
	if rep.restart != "" {
		if p := label(rec, rep.restart); p != s.proc {
			s.brk = true
			return false, "reset", s.name() + rep.restart + " " + s.proc + " to " + p
		}
	}
	for i, f := range rep.Record.Fields {
		if f.Kind == catalog.Counter && v[i] < s.vals[i] {
			s.brk = true
			return false, "reset", s.name() + f.Key + " went back"
		}
	}
	return true, "", ""
}

// name returns the series' instance for a mark's note: "sda: ", or "".
func (s *series) name() string {
	if s.inst == "" {
		return ""
	}
	return s.inst + ": "
}

// values reads rec's numeric fields into v by the catalogue's positions
// in c. The agent writes them in that order, so each is looked for there
// first, then among the others (a record of another version).
func values(c *catalog.Record, rec *codec.Record, v []float64) {
	for i, f := range c.Fields {
		v[i] = nan
		if f.Kind != catalog.Gauge && f.Kind != catalog.Counter {
			continue
		}
		if i < len(rec.Fields) && rec.Fields[i].Key == f.Key {
			v[i] = number(rec.Fields[i].Value)
			continue
		}
		for _, rf := range rec.Fields {
			if rf.Key == f.Key {
				v[i] = number(rf.Value)
				break
			}
		}
	}
}

// label returns rec's field key as text: a label may be a string or a
// number; "" when it is missing.
func label(rec *codec.Record, key string) string {
	for _, f := range rec.Fields {
		if f.Key != key {
			continue
		}
		switch f.Value.Kind() {
		case codec.KindString:
			return f.Value.Str()
		case codec.KindInt:
			return strconv.FormatInt(f.Value.Int(), 10)
		case codec.KindUint:
			return strconv.FormatUint(f.Value.Uint(), 10)
		}
	}
	return ""
}

func number(v codec.Value) float64 {
	switch v.Kind() {
	case codec.KindInt:
		return float64(v.Int())
	case codec.KindUint:
		return float64(v.Uint())
	case codec.KindFloat:
		return v.Float()
	}
	return nan
}

// summary decides, for a summary rec of a tier of interval every, what
// interval would: a summary holds its own rates, so it always makes a
// row; a gap is marked where the tier has no summary for more than
// GapFactor intervals of one boot.
func (s *series) summary(rec *codec.Record, every time.Duration) (ok bool, why, note string) {
	if s.any && s.every == every && s.boot == rec.BootCount && s.id == rec.Boot && rec.Mono > s.mono {
		if dt := rec.Mono - s.mono; dt > GapFactor*int64(every) {
			s.brk = true
			return true, "gap", "no samples for " + time.Duration(dt-int64(every)).Round(time.Second).String()
		}
	}
	return true, "", ""
}

// summaryRates reads a summary's F_rate fields into v by the positions of
// their counters F in c (NaN where absent or not a counter), and returns
// the samples it folded (1 if it does not say).
func summaryRates(c *catalog.Record, rec *codec.Record, v []float64) float64 {
	for i := range v {
		v[i] = nan
	}
	n := 1.0
	for _, f := range rec.Fields {
		if f.Key == samplesKey {
			if x := number(f.Value); x > 0 {
				n = x
			}
			continue
		}
		k, ok := strings.CutSuffix(f.Key, rateSuffix)
		if !ok {
			continue
		}
		if _, i := c.Field(k); i >= 0 && c.Fields[i].Kind == catalog.Counter {
			v[i] = number(f.Value)
		}
	}
	return n
}

// The fields of a rollup summary (package rollup) the reports read
// beside the plain ones.
const (
	rateSuffix = "_rate"
	samplesKey = "samples"
)
