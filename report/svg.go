// A chart of the report drawn as inline SVG: its geometry, axes, and the
// values and units of its labels.

package report

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/view"
)

// Chart geometry, in SVG pixels.
const (
	chartW, chartH         = 560, 190
	padL, padR             = 72, 12
	padT, padB             = 12, 30
	plotW, plotH   float64 = chartW - padL - padR, chartH - padT - padB
)

func (p *page) chart(c *chart, boots []view.BootInfo, marks []mark) {
	t0, t1, lo, hi, _ := c.bounds()
	if t1 == t0 {
		t0, t1 = t0-int64(time.Second), t1+int64(time.Second)
	}
	ylo, yhi := axis(lo, hi, c.unit, c.zero)
	xOf := func(t int64) float64 { return padL + float64(t-t0)/float64(t1-t0)*plotW }
	yOf := func(v float64) float64 { return padT + (yhi-v)/(yhi-ylo)*plotH }

	p.raw("<figure><h3>")
	p.text(c.title)
	p.raw("</h3><div class=\"legend\">")
	for _, l := range c.lines {
		if len(l.pts) == 0 {
			continue
		}
		llo, lhi := math.Inf(1), math.Inf(-1)
		for _, pt := range l.pts {
			llo, lhi = min(llo, pt.v), max(lhi, pt.v)
		}
		// Three significant digits of the largest, more if the range
		// needs them.
		ref := max(math.Abs(llo), math.Abs(lhi))
		rng := lhi - llo
		if rng == 0 || ref > 0 && ref/100 < rng {
			rng = ref / 100
		}
		p.raw("<span class=\"sw\" style=\"background:" + l.color + "\"></span>")
		p.text(l.label)
		p.raw(": min " + fmtValue(llo, c.unit, ref, rng) + ", max " + fmtValue(lhi, c.unit, ref, rng) + ", last " + fmtValue(l.pts[len(l.pts)-1].v, c.unit, ref, rng))
	}
	p.raw("</div>\n")
	b := p.buf[:0]
	// As wide as its card (CSS: width 100%, height auto): the viewBox
	// scales, text and all, in the aspect of width and height.
	b = appendSVG(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%" height="%" viewBox="0 0 % %" font-family="sans-serif" font-size="10" role="img">`, chartW, chartH, chartW, chartH)
	b = append(b, "\n"...)
	b = appendSVG(b, `<rect x="%" y="%" width="%" height="%" fill="none" stroke="#bbb"/>`, padL, padT, plotW, plotH)
	// y axis: bottom, middle and top, in one scale and precision: one
	// digit of the step, or up to two more where they make the labels
	// exact (0, 1.25, 2.5).
	ref := max(math.Abs(ylo), math.Abs(yhi))
	div, _ := scale(c.unit, ref)
	step := (yhi - ylo) / 2
	rng := step
	for d, extra := decimals(step/div), 0; extra <= 2; extra++ {
		mid := (ylo + step) / div
		if r, _ := strconv.ParseFloat(strconv.FormatFloat(mid, 'f', d+extra, 64), 64); math.Abs(r-mid) <= 1e-9*math.Abs(mid) {
			rng = math.Pow(10, -float64(d+extra)) * div
			break
		}
	}
	for i := 0; i <= 2; i++ {
		v := ylo + step*float64(i)
		y := yOf(v)
		if i == 1 {
			b = appendSVG(b, "\n<line x1=\"%\" y1=\"%\" x2=\"%\" y2=\"%\" stroke=\"#eee\"/>", padL, y, padL+plotW, y)
		}
		b = appendSVG(b, "\n<text x=\"%\" y=\"%\" text-anchor=\"end\" fill=\"#555\">", padL-4, y+3)
		b = append(b, fmtValue(v, c.unit, ref, rng)...)
		b = append(b, "</text>"...)
	}
	// x axis: a tick at each round time, the dates and zone below.
	ticks, layout := timeTicks(t0, t1, p.o.Location)
	for _, t := range ticks {
		x := xOf(t)
		b = appendSVG(b, "\n<line x1=\"%\" y1=\"%\" x2=\"%\" y2=\"%\" stroke=\"#bbb\"/>", x, padT+plotH, x, padT+plotH+4)
		b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#555\" text-anchor=\"middle\">", x, padT+plotH+15)
		b = appendTick(b, t, p.o.Location, layout)
		b = append(b, "</text>"...)
	}
	b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#888\" text-anchor=\"middle\">", padL+plotW/2, float64(chartH-2))
	b = append(b, p.span(t0, t1)...)
	b = append(b, "</text>"...)
	// Boots: dashed lines where a boot's first record is.
	for _, bt := range boots {
		t := bt.First.UnixNano()
		if bt.Records == 0 || t <= t0 || t > t1 {
			continue
		}
		x := xOf(t)
		b = appendSVG(b, "\n<line x1=\"%\" y1=\"%\" x2=\"%\" y2=\"%\" stroke=\"#999\" stroke-dasharray=\"4,3\"/>", x, padT, x, padT+plotH)
		if x > padL+plotW-40 { // keep the label inside
			b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#777\" text-anchor=\"end\">boot ", x-2, padT+9)
		} else {
			b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#777\">boot ", x+2, padT+9)
		}
		b = strconv.AppendUint(b, uint64(bt.N), 10)
		b = append(b, "</text>"...)
	}
	for _, l := range c.lines {
		if len(l.pts) == 0 {
			continue
		}
		b = append(b, "\n<path fill=\"none\" stroke=\""+l.color+"\" stroke-width=\"1.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\""...)
		for i, pt := range l.pts {
			if pt.brk || i == 0 {
				b = append(b, 'M')
			} else {
				b = append(b, 'L')
			}
			b = strconv.AppendFloat(b, xOf(pt.t), 'f', 1, 64)
			b = append(b, ' ')
			b = strconv.AppendFloat(b, yOf(pt.v), 'f', 1, 64)
		}
		b = append(b, "\"/>"...)
	}
	b = p.appendMarks(b, marks, t0, t1, xOf) // over the lines
	b = append(b, "\n</svg></figure>\n"...)
	p.buf = b
	p.bytes(b)
}

// Markers: a line across the plot and a triangle on the time axis, of a
// colour by kind; those of a kind within two pixels are one, their count
// and first text in its tooltip.
var markColors = [nMarkKinds]string{markCrash: "#b00020", markAlarm: "#ff8c00", markCleared: "#1b9e77", markEvent: "#e7298a", markStart: "#666666"}
var markNames = [nMarkKinds]string{markCrash: "crash", markAlarm: "alarm", markCleared: "alarm cleared", markEvent: "err or worse", markStart: "agent restart"}

func (p *page) appendMarks(b []byte, marks []mark, t0, t1 int64, xOf func(int64) float64) []byte {
	type slot struct {
		kind markKind
		x    int
	}
	type merged struct {
		first *mark
		n     int
	}
	var order []slot
	at := map[slot]*merged{}
	for i := range marks {
		mk := &marks[i]
		if mk.t < t0 || mk.t > t1 {
			continue
		}
		k := slot{mk.kind, int(xOf(mk.t)) / 2}
		if m := at[k]; m != nil {
			m.n++
			continue
		}
		at[k] = &merged{first: mk, n: 1}
		order = append(order, k)
	}
	// Crashes last: on top.
	sort.SliceStable(order, func(i, j int) bool { return order[i].kind > order[j].kind })
	for _, k := range order {
		m := at[k]
		x := xOf(m.first.t)
		col := markColors[k.kind]
		b = append(b, "\n<g class=\"mk mk-"...)
		b = append(b, strings.ReplaceAll(markNames[k.kind], " ", "-")...)
		b = append(b, "\"><title>"...)
		b = append(b, p.whenMarked(time.Unix(0, m.first.t), m.first.clock)...)
		b = append(b, ' ')
		b = appendEscaped(b, m.first.text)
		if m.n > 1 {
			b = append(b, " (and "...)
			b = strconv.AppendInt(b, int64(m.n-1), 10)
			b = append(b, " more)"...)
		}
		b = append(b, "</title>"...)
		b = appendSVG(b, "<line x1=\"%\" y1=\"%\" x2=\"%\" y2=\"%\" stroke-width=\"1\" stroke-opacity=\"0.6\" stroke=\""+col+"\"/>", x, padT, x, padT+plotH)
		b = appendSVG(b, "<path fill=\""+col+"\" d=\"M% %l-4 7h8z\"/></g>", x, padT+plotH-7)
	}
	return b
}

// timeTicks returns round times from t0 to t1 (ns) for the x axis, at
// most maxTicks, and the layout of their labels.
func timeTicks(t0, t1 int64, loc *time.Location) ([]int64, string) {
	const maxTicks = 7
	steps := [...]time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour}
	span := t1 - t0
	step := int64(steps[len(steps)-1])
	for _, s := range steps {
		if span/int64(s) < maxTicks {
			step = int64(s)
			break
		}
	}
	for span/step >= maxTicks { // beyond weeks: round weeks
		step *= 2
	}
	layout := "15:04"
	switch {
	case step < int64(time.Minute):
		layout = "15:04:05"
	case step >= int64(24*time.Hour):
		layout = "01-02"
	}
	// Round in the zone's wall time, at t0's offset.
	_, off := time.Unix(0, t0).In(loc).Zone()
	o := int64(off) * int64(time.Second)
	first := t0 + o
	first = (first/step)*step - o
	if first < t0 {
		first += step
	}
	var ticks []int64
	for t := first; t <= t1 && len(ticks) <= maxTicks; t += step {
		ticks = append(ticks, t)
	}
	return ticks, layout
}

// appendTick appends the label of a tick at t: the date at midnight, so
// that a chart over two days says which.
func appendTick(b []byte, t int64, loc *time.Location, layout string) []byte {
	tm := time.Unix(0, t).In(loc)
	if h, m, s := tm.Clock(); h == 0 && m == 0 && s == 0 && layout[0] == '1' {
		layout = "01-02"
	}
	return tm.AppendFormat(b, layout)
}

// appendSVG appends format with each % replaced by the next number, to
// one decimal.
func appendSVG(b []byte, format string, nums ...float64) []byte {
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && len(nums) > 0 {
			b = strconv.AppendFloat(b, nums[0], 'f', 1, 64)
			nums = nums[1:]
			continue
		}
		b = append(b, format[i])
	}
	return b
}

// axis returns the y axis's range for values from lo to hi: two steps
// of a round size (1, 2, 2.5 or 5 times a power of ten, in the unit's
// scale) from a multiple of the step, with some room above. A zero-based
// axis starts at 0; a percentage that stays under 100 ends there at most.
func axis(lo, hi float64, u unit, zero bool) (float64, float64) {
	if zero {
		lo, hi = min(lo, 0), max(hi, 0)
	}
	div, _ := scale(u, max(math.Abs(lo), math.Abs(hi)))
	lo, hi = lo/div, hi/div
	rng := (hi - lo) * 1.05
	if rng == 0 {
		rng = max(math.Abs(hi)*0.1, 1e-9)
		lo, hi = lo-rng/2, hi+rng/2
	}
	step := niceCeil(rng / 2)
	base := math.Floor(lo/step) * step
	for i := 0; i < 8 && base+2*step < hi*(1+1e-12); i++ {
		step = niceCeil(step * 1.01)
		base = math.Floor(lo/step) * step
	}
	top := base + 2*step
	if u == unitPct && zero && hi <= 100 {
		top = min(top, 100)
	}
	if b, t := base*div, top*div; t > b && !math.IsInf(t-b, 0) {
		return b, t
	}
	// Values near the float64 limits: no room to round.
	return lo * div, max(hi*div, math.Nextafter(lo*div, math.Inf(1)))
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return v
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*e >= v*(1-1e-12) {
			return m * e
		}
	}
	return 10 * e
}

// scale returns the divisor and suffix that show values up to ref of
// unit u: KiB, MiB... for bytes; k, M, G... for plain numbers.
func scale(u unit, ref float64) (div float64, suffix string) {
	div = 1
	switch u {
	case unitPct:
		return 1, " %"
	case unitCelsius:
		return 1, " °C"
	case unitBytes, unitBytesPerSec:
		names := []string{" B", " KiB", " MiB", " GiB", " TiB", " PiB"}
		i := 0
		for ; i < len(names)-1 && ref >= 1024*div; i++ {
			div *= 1024
		}
		if u == unitBytesPerSec {
			return div, names[i] + "/s"
		}
		return div, names[i]
	}
	for _, s := range []struct {
		min, div float64
		suffix   string
	}{{1e12, 1e12, "T"}, {1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e4, 1e3, "k"}} {
		if ref >= s.min {
			return s.div, s.suffix
		}
	}
	return 1, ""
}

// fmtValue formats v of unit u for a label: scaled (KiB, M...) by ref,
// the largest magnitude shown beside it, with the decimals that tell
// apart values rng apart.
func fmtValue(v float64, u unit, ref, rng float64) string {
	div, suffix := scale(u, ref)
	return strconv.FormatFloat(v/div, 'f', decimals(rng/div), 64) + suffix
}

// decimals returns the decimals that show a difference of rng: one
// significant digit of it.
func decimals(rng float64) int {
	if !(rng > 0) || math.IsInf(rng, 0) {
		return 0
	}
	return min(max(-int(math.Floor(math.Log10(rng))), 0), 6)
}
