package report

import "github.com/itiny/itiny/internal/ringtest"

// Records of the tests: rec(n, mono, name, fields...) is of boot n at
// monotonic second mono, written n hours and mono seconds after t0.
var (
	t0  = ringtest.Wall
	rec = ringtest.At
)
