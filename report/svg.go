// A chart of the report drawn as inline SVG: its geometry, axes, and the
// values and units of its labels.

package report

import (
	"math"
	"strconv"
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

func (p *page) chart(c *chart, boots []view.BootInfo) {
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
	// x axis: start, middle and end times.
	layout, first := "15:04:05", "2006-01-02 15:04:05"
	if t1-t0 >= int64(24*time.Hour) {
		layout = "01-02 15:04"
	}
	for i, anchor := range []string{"start", "middle", "end"} {
		t := t0 + (t1-t0)/2*int64(i)
		if i == 2 {
			t = t1
		}
		x := xOf(t)
		b = appendSVG(b, "\n<line x1=\"%\" y1=\"%\" x2=\"%\" y2=\"%\" stroke=\"#bbb\"/>", x, padT+plotH, x, padT+plotH+4)
		b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#555\" text-anchor=\""+anchor+"\">", x, padT+plotH+15)
		lay := layout
		if i == 0 {
			lay = first
		}
		b = time.Unix(0, t).In(p.o.Location).AppendFormat(b, lay)
		b = append(b, "</text>"...)
	}
	b = appendSVG(b, "\n<text x=\"%\" y=\"%\" fill=\"#888\" text-anchor=\"middle\">time</text>", padL+plotW/2, float64(chartH-2))
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
	b = append(b, "\n</svg></figure>\n"...)
	p.buf = b
	p.bytes(b)
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
