package agent

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/ringlog"
)

// TestBudgetStretch: a periodic stream over its write budget doubles
// its flush interval at each look up to maxStretch times its flush, then
// says it is over, once; back within its budget it says so, once, and
// far under it halves the stretch back.
func TestBudgetStretch(t *testing.T) {
	cfg := testConfig(t, "[stream metrics]\nbudget = 2MiB\nsegment = 64KiB\nmode = periodic\nflush = 1s\nwrite_budget = 1MiB\n")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := a.streams[StreamMetrics]
	w := s.w.Load()
	var handed, now int64
	look := func(grow int64) { // a look's span, stats round by stats round
		for range budgetRounds {
			handed, now = handed+grow, now+int64(cfg.StatsEvery)
			a.checkBudget(s, w, ringlog.Stats{HandedBytes: handed}, now)
		}
	}
	a.checkBudget(s, w, ringlog.Stats{}, now) // the first look's start
	var stretches []int64
	for range 6 {
		look(1 << 30) // a GiB a round: far over, whatever the time taken
		stretches = append(stretches, s.budget.stretch)
	}
	for range 3 {
		look(0)
		stretches = append(stretches, s.budget.stretch)
	}
	if got, want := stretches, []int64{2, 4, 8, 16, 16, 16, 16, 8, 4}; !slices.Equal(got, want) {
		t.Errorf("stretch at each look %v, want %v", got, want)
	}
	a.Close()
	var said []string
	for _, r := range readStream(t, cfg.Data, StreamSelf) {
		if r.Name == catalog.StreamWriteBudget.Name {
			said = append(said, r.Level.String()+":"+strconv.FormatFloat(field(r, "flush_s").Float(), 'f', -1, 64))
		}
	}
	if strings.Join(said, " ") != "warning:16 notice:16" {
		t.Errorf("stream.write_budget records: %v", said)
	}
}
