package sar

import (
	"strings"
	"time"

	"github.com/itiny/itiny/view"
)

// An acc averages rows, each figure by its Weight.
type acc struct {
	sum, w    []float64
	n         int
	last      time.Time     // wall time of the last row added
	lastClock view.TimeMark // and how the view came to it
	brk       bool          // a row added follows a dropped interval
	tier      string        // the tiers of the rows added (Row.Tier)
}

// add adds a row's figures v, of an interval dt seconds long that saw
// reqs I/O requests and stands for n samples, at wall, so marked, from
// tier. A gauge's figures weigh by their samples, so that the mean of
// summaries' means is the mean of their samples.
func (a *acc) add(rep *Report, v []float64, dt, reqs, n float64, wall time.Time, clock view.TimeMark, tier string) {
	if a.sum == nil {
		a.sum, a.w = make([]float64, len(v)), make([]float64, len(v))
	}
	for i, x := range v {
		if x != x {
			continue // NaN: not available in this row
		}
		w := n
		switch rep.Columns[i].Avg {
		case PerSecond:
			w = dt
		case PerRequest:
			w = reqs
		}
		a.sum[i] += w * x
		a.w[i] += w
	}
	a.n++
	a.last, a.lastClock = wall, clock
	if a.tier == "" {
		a.tier = tier
	} else if a.tier != tier && !hasTier(a.tier, tier) {
		a.tier += "+" + tier // rare: a span where the tiers meet
	}
}

// hasTier reports whether tiers, joined by "+", has tier.
func hasTier(tiers, tier string) bool {
	for t := range strings.SplitSeq(tiers, "+") {
		if t == tier {
			return true
		}
	}
	return false
}

// mean writes the averages into v: NaN for a figure no row had.
func (a *acc) mean(v []float64) {
	for i := range v {
		v[i] = nan
		if a.w[i] > 0 {
			v[i] = a.sum[i] / a.w[i]
		}
	}
}

func (a *acc) reset() {
	clear(a.sum)
	clear(a.w)
	a.n, a.brk, a.tier = 0, false, ""
}
