package rollup

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/decimal"
)

// sample is one simulated sample: a load record and an interface's
// counters.
type sample struct {
	wall  time.Time
	mono  int64
	boot  codec.BootID
	load1 float64
	rx    uint64
}

// simulate makes a year of samples every 10 s, from 2026-01-01: load
// wandering, the interface's counter growing, reset now and then (a
// driver reload) and at a reboot in May, which also restarts the
// monotonic clock; samples missing for an hour in March (the device
// off).
func simulate() []sample {
	rng := rand.New(rand.NewPCG(15, 5))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	boot := codec.BootID{1}
	var out []sample
	var rx uint64
	load := 1.0
	mono := int64(5e9)
	for t := start; t.Before(start.AddDate(1, 0, 0)); t = t.Add(10 * time.Second) {
		if t.Month() == time.March && t.Day() == 3 && t.Hour() == 4 {
			continue // off
		}
		if t.Equal(time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)) {
			boot, mono, rx = codec.BootID{2}, 3e9, 0
		}
		if rng.IntN(20000) == 0 {
			rx = 0
		}
		rx += uint64(rng.IntN(100000))
		load = math.Max(0, load+rng.NormFloat64()*0.05)
		out = append(out, sample{wall: t, mono: mono, boot: boot, load1: load, rx: rx})
		mono += 10e9
	}
	return out
}

func (s *sample) records() (load, net codec.Record) {
	load = codec.Record{Name: "load", Source: "load", Boot: s.boot, Wall: s.wall, Mono: s.mono, Fields: codec.Fields{
		{Key: "load1", Value: codec.Float(s.load1)}, {Key: "load5", Value: codec.Float(1)}, {Key: "load15", Value: codec.Float(1)},
		{Key: "running", Value: codec.Int(1)}, {Key: "tasks", Value: codec.Int(100)}}}
	net = codec.Record{Name: "net", Source: "netdev", Boot: s.boot, Wall: s.wall, Mono: s.mono, Fields: codec.Fields{
		{Key: "iface", Value: codec.String("eth0")}, {Key: "rx_bytes", Value: codec.Uint(s.rx)}}}
	return load, net
}

// want is an hour's figures computed directly from the samples.
type want struct {
	n                  int64
	mean, lo, hi, last float64
	rx, rate           float64
	haveRate           bool
}

func direct(samples []sample) map[int64]*want {
	hours := map[int64]*want{}
	var prev *sample
	inc, span := map[int64]float64{}, map[int64]int64{}
	for i := range samples {
		s := &samples[i]
		h := s.wall.Unix() / 3600
		w := hours[h]
		if w == nil {
			w = &want{lo: s.load1, hi: s.load1}
			hours[h] = w
		}
		w.n++
		w.mean += s.load1
		w.lo, w.hi, w.last, w.rx = math.Min(w.lo, s.load1), math.Max(w.hi, s.load1), s.load1, float64(s.rx)
		if prev != nil && prev.boot == s.boot {
			d := float64(s.rx) - float64(prev.rx)
			if s.rx < prev.rx {
				d = float64(s.rx)
			}
			inc[h] += d
			span[h] += s.mono - prev.mono
		}
		prev = s
	}
	for h, w := range hours {
		w.mean /= float64(w.n)
		if span[h] > 0 {
			w.rate, w.haveRate = inc[h]/(float64(span[h])/1e9), true
		}
	}
	return hours
}

// TestYear runs a year of samples through an hourly Roller and checks
// every summary against the figures computed directly from the samples:
// means, extremes, last values, counter rates across resets and a
// reboot, and an hour with no samples having no summary.
func TestYear(t *testing.T) {
	samples := simulate()
	hours := direct(samples)
	ro := New(time.Hour)
	got := map[string]int{}
	check := func(r *codec.Record) error {
		h := r.Wall.Unix() / 3600
		w := hours[h]
		if w == nil {
			t.Fatalf("a summary of %s for hour %v, which has no samples", r.Name, r.Wall)
		}
		got[r.Name]++
		f := map[string]codec.Value{}
		for _, x := range r.Fields {
			f[x.Key] = x.Value
		}
		if f["samples"].Int() != w.n {
			t.Fatalf("%s %v: %d samples, want %d", r.Name, r.Wall, f["samples"].Int(), w.n)
		}
		round := func(x float64) float64 { return decimal.Round(x, Digits(time.Hour)) }
		switch r.Name {
		case "load":
			if !near(f["load1"].Float(), w.mean, half) || f["load1_min"].Float() != round(w.lo) || f["load1_max"].Float() != round(w.hi) || f["load1_last"].Float() != round(w.last) {
				t.Fatalf("load %v: %v, want mean %v min %v max %v last %v", r.Wall, r.Fields, w.mean, w.lo, w.hi, w.last)
			}
		case "net":
			rate, ok := f["rx_bytes_rate"]
			if f["iface"].Str() != "eth0" || ok != w.haveRate || ok && !near(rate.Float(), w.rate, half) || ok && rate.Float() < 0 {
				t.Fatalf("net %v: %v, want rate %v (%v)", r.Wall, r.Fields, w.rate, w.haveRate)
			}
		}
		return nil
	}
	for i := range samples {
		load, net := samples[i].records()
		if err := ro.Add(&load, check); err != nil {
			t.Fatal(err)
		}
		if err := ro.Add(&net, check); err != nil {
			t.Fatal(err)
		}
	}
	// The last hour is in progress: not handed on.
	if want := len(hours) - 1; got["load"] != want || got["net"] != want {
		t.Errorf("%d load and %d net summaries, want %d of each", got["load"], got["net"], want)
	}
}

// TestCascade runs the year through a Roller of minutes and their
// summaries through a Roller of hours, as the agent's tiers do, and
// checks the hours against the figures computed directly from the
// samples: the same as a Roller of hours fed the samples, but for the
// rounding of the minutes' figures and the hours with a minute whose
// rate spans less than the minute (the reboot's, and the reset's).
func TestCascade(t *testing.T) {
	samples := simulate()
	hours := direct(samples)
	minutes, hourly := New(time.Minute), NewCascade(time.Hour, time.Minute)
	var n, off int
	check := func(r *codec.Record) error {
		w := hours[r.Wall.Unix()/3600]
		f := map[string]codec.Value{}
		for _, x := range r.Fields {
			f[x.Key] = x.Value
		}
		if f["samples"].Int() != w.n {
			t.Fatalf("%s %v: %d samples, want %d", r.Name, r.Wall, f["samples"].Int(), w.n)
		}
		n++
		switch r.Name {
		case "load":
			if !near(f["load1"].Float(), w.mean, 2*half) || !near(f["load1_min"].Float(), w.lo, 2*half) || !near(f["load1_max"].Float(), w.hi, 2*half) || !near(f["load1_last"].Float(), w.last, 2*half) {
				t.Fatalf("load %v: %v, want mean %v min %v max %v last %v", r.Wall, r.Fields, w.mean, w.lo, w.hi, w.last)
			}
		case "net":
			rate, ok := f["rx_bytes_rate"]
			if ok != w.haveRate || ok && rate.Float() < 0 {
				t.Fatalf("net %v: %v, want rate %v (%v)", r.Wall, r.Fields, w.rate, w.haveRate)
			}
			if ok && !near(rate.Float(), w.rate, 2*half) {
				off++
				t.Logf("net %v: rate %v, direct %v", r.Wall, rate.Float(), w.rate)
			}
		}
		return nil
	}
	fold := func(r *codec.Record) error { return hourly.Add(r, check) }
	for i := range samples {
		load, net := samples[i].records()
		minutes.Add(&load, fold)
		minutes.Add(&net, fold)
	}
	if want := 2 * (len(hours) - 2); n < want || off > 3 {
		t.Errorf("%d hourly summaries, want at least %d; %d rates off by more than the roundings", n, want, off)
	}
}

// TestNoAllocs: folding a sample allocates nothing once its group is
// made.
func TestNoAllocs(t *testing.T) {
	ro := New(time.Minute)
	s := sample{wall: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), mono: 1e9, boot: codec.BootID{1}, load1: 1, rx: 5}
	load, net := s.records()
	discard := func(*codec.Record) error { return nil }
	ro.Add(&load, discard)
	ro.Add(&net, discard)
	if n := testing.AllocsPerRun(100, func() {
		load.Mono += 1e6
		net.Mono += 1e6
		ro.Add(&load, discard)
		ro.Add(&net, discard)
	}); n != 0 {
		t.Errorf("%v allocations a sample", n)
	}
}

// TestSummaryFieldsOnce: the first summaries of every record the
// catalogue rolls up, gauges of several samples and counters with a
// rate, are handed on in one record whose fields were made once, as many
// as the largest has: a Roller's first intervals leave no garbage (the
// agent's collection would cost more than it frees).
func TestSummaryFieldsOnce(t *testing.T) {
	ro, ro1h := New(time.Minute), NewCascade(time.Hour, time.Minute)
	var recs []codec.Record
	for _, c := range catalog.All() {
		if !rolled(c) {
			continue
		}
		r := codec.Record{Name: c.Name, Source: c.Source, Boot: codec.BootID{1}}
		for _, f := range c.Fields {
			v := codec.Float(1)
			if f.Kind == catalog.Label {
				v = codec.String("x")
			}
			r.Fields = append(r.Fields, codec.Field{Key: f.Key, Value: v})
		}
		recs = append(recs, r)
	}
	var first *codec.Record
	var array *codec.Field
	n, hours := 0, 0
	check := func(r *codec.Record) {
		if first == nil {
			first, array = r, &r.Fields[:1][0]
		}
		if r != first || &r.Fields[:1][0] != array || cap(r.Fields) != maxFields {
			t.Fatalf("summary %d (%s) in record %p fields %p cap %d, want %p %p cap %d", n, r.Name, r, &r.Fields[:1][0], cap(r.Fields), first, array, maxFields)
		}
	}
	fold := func(r *codec.Record) error {
		check(r)
		n++
		return ro1h.Add(r, func(*codec.Record) error { hours++; return nil })
	}
	wall := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * 60 * 4 { // three samples a minute, over four hours
		for j := range recs {
			r := &recs[j]
			r.Wall, r.Mono = wall.Add(time.Duration(i)*20*time.Second), int64(i+1)*20e9
			for k := range r.Fields {
				if r.Fields[k].Value.Kind() != codec.KindString {
					r.Fields[k].Value = codec.Float(float64(i * (k + 1)))
				}
			}
			if err := ro.Add(r, fold); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := len(recs) * (4*60 - 1); n != want || hours != 3*len(recs) {
		t.Errorf("%d minute and %d hour summaries, want %d and %d", n, hours, want, 3*len(recs))
	}
}

// TestRestart: an agent killed mid-interval, restarted, tells the roller
// the last summary stored of each group and adds the raw samples again:
// the summaries are those of a run never stopped, none twice, none of
// part of an interval.
func TestRestart(t *testing.T) {
	samples := simulate()[:3*360+170] // three hours and part of a fourth
	all := func(ro *Roller, from int, out *[]string) {
		for i := from; i < len(samples); i++ {
			load, net := samples[i].records()
			keep := func(r *codec.Record) error {
				s := r.Name + " " + r.Wall.Format(time.RFC3339)
				for _, f := range r.Fields {
					v, _ := codec.AppendValueJSON(nil, f.Value)
					s += " " + f.Key + "=" + string(v)
				}
				*out = append(*out, s)
				return nil
			}
			ro.Add(&load, keep)
			ro.Add(&net, keep)
		}
	}
	var whole []string
	all(New(time.Minute), 0, &whole)

	// Killed at sample 1000, in the middle of a minute: what was stored
	// is the summaries handed on by then.
	var before []string
	ro := New(time.Minute)
	samples, rest := samples[:1000], samples
	all(ro, 0, &before)
	samples = rest
	ro = New(time.Minute)
	last := samples[999].wall.Truncate(time.Minute).Add(-time.Minute) // the last minute handed on
	ro.Written("load", "", last)
	ro.Written("net", "eth0", last)
	var after []string
	all(ro, 0, &after) // the raw ring holds every sample
	if got := append(before, after...); strings.Join(got, "\n") != strings.Join(whole, "\n") {
		t.Errorf("%d summaries before the kill and %d after, %d in a run never stopped; first difference at %d", len(before), len(after), len(whole), firstDiff(got, whole))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// near reports whether a is within rel of b, relatively: a figure
// rounded to d digits is within half a unit of its last, 5·10^-d.
func near(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Abs(b)+1e-12 }

// half is an hour's figure's rounding, relatively, at most.
var half = 5 * math.Pow(10, -float64(Digits(time.Hour)))

// netSample is a net record of iface with rx bytes at wall, at monotonic
// time mono (seconds) of boot 1.
func netSample(iface string, wall time.Time, mono float64, rx uint64) *codec.Record {
	return &codec.Record{Name: "net", Boot: codec.BootID{1}, Wall: wall, Mono: int64(mono * 1e9), Fields: codec.Fields{
		{Key: "iface", Value: codec.String(iface)}, {Key: "rx_bytes", Value: codec.Uint(rx)}}}
}

// collect returns an out function that keeps each summary as text.
func collect(got *[]string) func(*codec.Record) error {
	return func(r *codec.Record) error {
		s := r.Wall.Format("15:04")
		for _, f := range r.Fields {
			v, _ := codec.AppendValueJSON(nil, f.Value)
			s += " " + f.Key + "=" + string(v)
		}
		*got = append(*got, s)
		return nil
	}
}

// TestEdges: a clock stepped back, a counter back after hours away, an
// interface gone, and more instances than MaxGroups.
func TestEdges(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	// The clock steps back from 00:01:20 to 00:00:20: that sample is not
	// folded, and each minute is handed on once, whole.
	var got []string
	ro := New(time.Minute)
	for i, s := range []int{10, 70, 80, 20, 75, 130} {
		ro.Add(netSample("eth0", at(s), float64(i+1)*10, uint64(i+1)*100), collect(&got))
	}
	want := []string{
		"00:00 iface=\"eth0\" samples=1",
		"00:01 iface=\"eth0\" rx_bytes_rate=10.0 samples=3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("a clock stepped back:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// ppp0 at 100 B/s until 00:30, gone, back at 03:00 from 0 at 100 B/s:
	// the 03:00 rate is 100, not an average over the hours away.
	got = got[:0]
	ro = New(time.Hour)
	for s := 0; s <= 1800; s += 60 {
		ro.Add(netSample("ppp0", at(s), float64(s), uint64(s)*100), collect(&got))
	}
	for s := 3 * 3600; s <= 4*3600; s += 60 {
		ro.Add(netSample("ppp0", at(s), float64(s), uint64(s-3*3600)*100), collect(&got))
	}
	if len(got) != 2 || !strings.Contains(got[0], "rx_bytes_rate=100.0") || !strings.Contains(got[1], "03:00 ") || !strings.Contains(got[1], "rx_bytes_rate=100.0") {
		t.Errorf("a counter back after hours away:\n%s", strings.Join(got, "\n"))
	}

	// An interface gone: its last minute is handed on when the others'
	// next one starts, and its group is forgotten two hours later (a
	// counter sampled that rarely still pairs).
	got = got[:0]
	ro = New(time.Minute)
	for s := 0; s < 7500; s += 10 {
		ro.Add(netSample("eth0", at(s), float64(s), uint64(s)), collect(&got))
		if s < 60 {
			ro.Add(netSample("veth9", at(s), float64(s), uint64(s)), collect(&got))
		}
	}
	if n := strings.Count(strings.Join(got, "\n"), "veth9"); n != 1 || len(ro.groups) != 1 || len(ro.order) != 1 {
		t.Errorf("veth9 in %d summaries, %d groups left:\n%s", n, len(ro.groups), strings.Join(got, "\n"))
	}

	// More instances than MaxGroups: the rest are counted, not kept.
	ro = New(time.Minute)
	for i := range MaxGroups + 44 {
		ro.Add(netSample("veth"+strconv.Itoa(i), at(0), 1, 1), collect(&got))
	}
	if len(ro.groups) != MaxGroups || ro.Dropped != 44 {
		t.Errorf("%d groups, %d dropped; want %d and 44", len(ro.groups), ro.Dropped, MaxGroups)
	}
}
