package sar

import "time"

// An acc averages rows: a rate over the intervals' total length (the
// figure of one long interval, as sar computes its Average), a gauge over
// its samples.
type acc struct {
	sum, w []float64
	n      int
	last   time.Time // wall time of the last row added
}

// add adds a row's figures v, of an interval dt seconds long.
func (a *acc) add(rep *Report, v []float64, dt float64, wall time.Time) {
	if a.sum == nil {
		a.sum, a.w = make([]float64, len(v)), make([]float64, len(v))
	}
	for i, x := range v {
		if x != x {
			continue // NaN: not available in this row
		}
		w := 1.0
		if rep.Columns[i].Rate {
			w = dt
		}
		a.sum[i] += w * x
		a.w[i] += w
	}
	a.n++
	a.last = wall
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
	a.n = 0
}
