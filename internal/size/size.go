// Package size reads and writes byte counts as people give them: 512KiB,
// 256MiB, 1GiB, or a plain number of bytes.
package size

import (
	"github.com/itiny/itiny/internal/tinyfmt"
	"strconv"
	"strings"
)

var units = map[string]int64{"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MB": 1 << 20, "MiB": 1 << 20,
	"G": 1 << 30, "GB": 1 << 30, "GiB": 1 << 30, "T": 1 << 40, "TB": 1 << 40, "TiB": 1 << 40}

// Parse reads a positive size: a number and an optional unit (B, KiB,
// MiB, GiB, TiB; KB and K are KiB too).
func Parse(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGTiB")
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	mult := units[s[len(num):]]
	if err != nil || n <= 0 || mult == 0 || n > (1<<62)/mult {
		return 0, tinyfmt.Errorf("%q: want a positive size like 512KiB or 256MiB", s)
	}
	return n * mult, nil
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
