// Package size reads and writes byte counts as people give them: 512KiB,
// 256MiB, 1GiB, or a plain number of bytes. It is the one size grammar of
// every command's flags and of the agent's configuration.
//
// A size is a positive whole number, optionally followed (after spaces)
// by a unit, in any case: B for bytes; K, KB, KiB; M, MB, MiB; G, GB,
// GiB; T, TB, TiB. Every unit is binary: 1K and 1KB are 1,024 bytes, as
// in the sizes of files and memory these tools bound. Any other unit,
// a fraction, zero or a sign is an error naming the text.
package size

import (
	"strconv"
	"strings"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// shifts maps a unit, in lower case, to its power of two.
var shifts = map[string]uint{"": 0, "b": 0, "k": 10, "kb": 10, "kib": 10, "m": 20, "mb": 20, "mib": 20,
	"g": 30, "gb": 30, "gib": 30, "t": 40, "tb": 40, "tib": 40}

// Parse reads a positive size.
func Parse(s string) (int64, error) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	shift, known := shifts[lower(strings.TrimSpace(s[i:]))]
	n, err := strconv.ParseInt(s[:i], 10, 64)
	switch {
	case i == 0 || err != nil && !isRange(err):
		return 0, tinyfmt.Errorf("size %q: want a whole number of bytes and a unit, like 512KiB, 256MiB or 1GiB", s)
	case !known:
		return 0, tinyfmt.Errorf("size %q: unknown unit %q: B, KiB, MiB, GiB or TiB (K, KB, M, MB, G, GB, T, TB mean the same)", s, strings.TrimSpace(s[i:]))
	case n <= 0:
		return 0, tinyfmt.Errorf("size %q: must be more than 0", s)
	case err != nil || n > (1<<62)>>shift:
		return 0, tinyfmt.Errorf("size %q: too large (at most 4EiB)", s)
	}
	return n << shift, nil
}

// lower lowers ASCII letters: strings.ToLower's Unicode tables cost the
// agent 12 KB.
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// Format writes n in the largest unit that divides it.
func Format(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// A Flag is a size as a command-line flag (flag.Value).
type Flag int64

func (f *Flag) String() string { return Format(int64(*f)) }

func (f *Flag) Set(s string) error {
	n, err := Parse(s)
	*f = Flag(n)
	return err
}
