// Package decimal converts between float64s and decimal numbers m·10^e of
// few digits, exactly.
//
// Metrics are mostly decimal numbers of few digits: a load of 0.42, a
// summary rounded to four significant digits. Their float64 bits look
// random, but m and e are small integers that pack well. A float64 f is
// m·10^e when the correctly rounded value of m·10^e is f, bit for bit;
// for |m| < 2^53 and |e| ≤ 22 both m and 10^e are exact float64s, so one
// multiplication or division computes it (the fast path of every
// correct decimal parser), and every reader can.
package decimal

import "math"

// MaxExp bounds |e|: 10^22 is the largest power of ten a float64 holds
// exactly.
const MaxExp = 22

// maxMant bounds |m|: larger integers are not all float64s.
const maxMant = 1 << 53

var pow = [MaxExp + 1]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// Join returns m·10^e rounded once to a float64. ok is false when |m| ≥
// 2^53 or |e| > MaxExp, where one rounding is not assured.
func Join(m int64, e int) (f float64, ok bool) {
	if m <= -maxMant || m >= maxMant || e < -MaxExp || e > MaxExp {
		return 0, false
	}
	if e < 0 {
		return float64(m) / pow[-e], true
	}
	return float64(m) * pow[e], true
}

// Split returns the m and e of fewest digits (the largest e) for which
// Join(m, e) is f bit for bit. ok is false when there are none: NaN, the
// infinities, −0, and numbers of more than about 15 digits.
func Split(f float64) (m int64, e int, ok bool) {
	if f == 0 {
		return 0, 0, !math.Signbit(f)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, 0, false
	}
	if f == math.Trunc(f) {
		if f <= -maxMant || f >= maxMant {
			return splitLarge(f)
		}
		m = int64(f)
		for e < MaxExp && m%10 == 0 {
			m, e = m/10, e+1
		}
		return m, e, true
	}
	for e = -1; e >= -MaxExp; e-- {
		x := math.Round(f * pow[-e])
		if x <= -maxMant || x >= maxMant {
			return 0, 0, false
		}
		if x/pow[-e] == f {
			return int64(x), e, true
		}
	}
	return 0, 0, false
}

// splitLarge splits an integral f of 2^53 or more: 1e20 is 1·10^20.
func splitLarge(f float64) (int64, int, bool) {
	for e := 1; e <= MaxExp; e++ {
		x := math.Round(f / pow[e])
		if x > -maxMant && x < maxMant && x*pow[e] == f {
			m := int64(x)
			for e < MaxExp && m%10 == 0 {
				m, e = m/10, e+1
			}
			return m, e, true
		}
	}
	return 0, 0, false
}

// Round returns f rounded to digits significant decimal digits (1 to 15),
// half away from zero, as Join gives it, so that Split takes it apart
// again in at most digits digits. Zero, NaN, the infinities and numbers
// whose exponent is out of Join's range come back as they are.
func Round(f float64, digits int) float64 {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	e := int(math.Floor(math.Log10(math.Abs(f)))) - (digits - 1)
	if e < -MaxExp || e > MaxExp {
		return f
	}
	var m float64
	if e < 0 {
		m = math.Round(f * pow[-e])
	} else {
		m = math.Round(f / pow[e])
	}
	r, ok := Join(int64(m), e)
	if !ok {
		return f
	}
	return r
}
