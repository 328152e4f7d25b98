package decimal

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		f  float64
		m  int64
		e  int
		ok bool
	}{
		{0, 0, 0, true},
		{math.Copysign(0, -1), 0, 0, false},
		{1, 1, 0, true},
		{-7, -7, 0, true},
		{512000000, 512, 6, true},
		{0.42, 42, -2, true},
		{-1.5, -15, -1, true},
		{512.3, 5123, -1, true},
		{1e20, 1, 20, true},
		{1e22, 1, 22, true},
		{1e-22, 1, -22, true},
		{1.0 / 3, 3333333333333333, -16, true}, // exact, if long
		{math.Pi, 3141592653589793, -15, true},
		{1e-17 / 3, 0, 0, false},
		{math.NaN(), 0, 0, false},
		{math.Inf(1), 0, 0, false},
		{math.MaxFloat64, 0, 0, false},
		{5e-324, 0, 0, false},
	} {
		m, e, ok := Split(c.f)
		if ok != c.ok || ok && (m != c.m || e != c.e) {
			t.Errorf("Split(%v) = %d, %d, %v; want %d, %d, %v", c.f, m, e, ok, c.m, c.e, c.ok)
		}
	}
}

// TestRoundTrip checks that every split joins back to the same bits, and
// that numbers printed with few digits always split.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var f float64
		switch r.IntN(3) {
		case 0:
			f = math.Float64frombits(r.Uint64())
		case 1:
			f = (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(30)-10))
		default:
			s := strconv.FormatFloat((r.Float64()-0.5)*math.Pow(10, float64(r.IntN(20)-8)), 'g', 1+r.IntN(12), 64)
			f, _ = strconv.ParseFloat(s, 64)
			if _, _, ok := Split(f); !ok && math.Abs(f) > 1e-9 {
				t.Fatalf("Split(%s) not ok", s)
			}
		}
		m, e, ok := Split(f)
		if !ok {
			continue
		}
		g, ok := Join(m, e)
		if !ok || math.Float64bits(g) != math.Float64bits(f) {
			t.Fatalf("Split(%v) = %d·10^%d, joined %v", f, m, e, g)
		}
	}
}

func TestRound(t *testing.T) {
	for _, c := range []struct {
		f      float64
		digits int
		want   float64
	}{
		{512345678, 4, 512300000},
		{0.123456, 4, 0.1235},
		{-2.5, 1, -3},
		{9999.6, 4, 10000},
		{0, 4, 0},
		{1e-30, 4, 1e-30},
	} {
		if got := Round(c.f, c.digits); got != c.want {
			t.Errorf("Round(%v, %d) = %v, want %v", c.f, c.digits, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		f := (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(30)-12))
		g := Round(f, 4)
		m, _, ok := Split(g)
		if !ok || m <= -10000 || m >= 10000 {
			t.Fatalf("Round(%v, 4) = %v splits to %d, %v", f, g, m, ok)
		}
		if math.Abs(g-f) > math.Abs(f)*5.0001e-4 {
			t.Fatalf("Round(%v, 4) = %v: off by more than half a unit", f, g)
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	fs := []float64{0.42, 512.3, 123456789, 1.0 / 3, 98.76}
	for i := 0; b.Loop(); i++ {
		Split(fs[i%len(fs)])
	}
}
