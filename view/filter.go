package view

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/codec"
)

// A Filter selects records. The zero Filter selects every record.
type Filter struct {
	Streams      []string // any of them; none: all
	Since, Until time.Time
	MinLevel     codec.Level // with LevelSet: records from MinLevel (most severe)
	MaxLevel     codec.Level // to MaxLevel, both included (ParseLevels)
	LevelSet     bool
	Sources      []string // any of them, as the record's src; none: all
	Fields       []string // records with any of these fields; none: all
	Boots        []uint32 // boot counters; none: all
	Matches      []Match  // all of them
	Grep         *regexp.Regexp
	// Tiers, if set, keeps each record of a stream with rollup tiers
	// only from the tier it picks for its time (PlanTiers).
	Tiers *Tiers
}

// ParseLevels parses a level as journalctl's -p takes it, in any case: a
// name (emerg, alert, crit, err, warning, notice, info, debug; also warn,
// error, emergency, critical) or a number 0-7, for that level and the more
// severe ones; or a range FROM..TO, either way round, for the levels
// between them, both included (warning..err: warning and err).
func ParseLevels(s string) (min, max codec.Level, err error) {
	from, to, isRange := strings.Cut(strings.ToLower(s), "..")
	if max, err = codec.ParseLevel(from); err != nil {
		return 0, 0, fmt.Errorf("level %q: want a level (emerg, alert, crit, err, warning, notice, info, debug, or 0-7) or a range FROM..TO such as warning..err", s)
	}
	if !isRange {
		return codec.LevelEmerg, max, nil
	}
	if min, err = codec.ParseLevel(to); err != nil {
		return 0, 0, fmt.Errorf("level %q: %q is not a level (want emerg, alert, crit, err, warning, notice, info, debug, or 0-7)", s, to)
	}
	if min > max {
		min, max = max, min
	}
	return min, max, nil
}

// A Match tests one field: key=value, key!=value, key>number, key<number,
// key>=number, key<=number or key~regex.
type Match struct {
	Key string
	Op  string
	Str string
	Num float64
	Re  *regexp.Regexp
}

// ParseMatch parses a field match such as used_pct>90 or iface~^eth.
func ParseMatch(s string) (Match, error) {
	i := strings.IndexAny(s, "=!<>~")
	if i <= 0 {
		return Match{}, fmt.Errorf("field match %q: want key=value, key!=value, key>number, key<number, key>=number, key<=number or key~regex", s)
	}
	m := Match{Key: s[:i]}
	rest := s[i:]
	for _, op := range []string{">=", "<=", "!=", "=", ">", "<", "~"} {
		if strings.HasPrefix(rest, op) {
			m.Op, m.Str = op, rest[len(op):]
			break
		}
	}
	switch m.Op {
	case ">", "<", ">=", "<=":
		n, err := strconv.ParseFloat(m.Str, 64)
		if err != nil {
			return Match{}, fmt.Errorf("field match %q: %q is not a number", s, m.Str)
		}
		m.Num = n
	case "~":
		re, err := regexp.Compile(m.Str)
		if err != nil {
			return Match{}, fmt.Errorf("field match %q: %v", s, err)
		}
		m.Re = re
	case "":
		return Match{}, fmt.Errorf("field match %q: no operator", s)
	}
	return m, nil
}

// Keep reports whether the filter selects the record r of stream.
func (f *Filter) Keep(stream string, r *codec.Record) bool {
	if len(f.Streams) > 0 && !slices.Contains(f.Streams, stream) {
		return false
	}
	if !f.Tiers.Keep(stream, r) {
		return false
	}
	if f.LevelSet && (r.Level > f.MaxLevel || r.Level < f.MinLevel) {
		return false
	}
	if len(f.Sources) > 0 && !slices.Contains(f.Sources, r.Source) {
		return false
	}
	if !f.Since.IsZero() && r.Wall.Before(f.Since) || !f.Until.IsZero() && !r.Wall.Before(f.Until) {
		return false
	}
	if len(f.Boots) > 0 {
		ok := false
		for _, b := range f.Boots {
			ok = ok || b == r.BootCount
		}
		if !ok {
			return false
		}
	}
	if len(f.Fields) > 0 && !slices.ContainsFunc(r.Fields, func(fl codec.Field) bool { return slices.Contains(f.Fields, fl.Key) }) {
		return false
	}
	if f.Grep != nil && !f.Grep.MatchString(r.Name) && !f.grepFields(r) {
		return false
	}
	for i := range f.Matches {
		if !f.Matches[i].keep(r) {
			return false
		}
	}
	return true
}

// grepFields matches the message-like fields: string values.
func (f *Filter) grepFields(r *codec.Record) bool {
	for _, fl := range r.Fields {
		if fl.Value.Kind() == codec.KindString && f.Grep.MatchString(fl.Value.Str()) {
			return true
		}
	}
	return false
}

func (m *Match) keep(r *codec.Record) bool {
	var v codec.Value
	found := false
	switch m.Key {
	case "name":
		v, found = codec.String(r.Name), true
	case "src", "source":
		v, found = codec.String(r.Source), true
	default:
		for _, f := range r.Fields {
			if f.Key == m.Key {
				v, found = f.Value, true
				break
			}
		}
	}
	if !found {
		return m.Op == "!="
	}
	switch m.Op {
	case "=", "!=":
		return (valueString(v) == m.Str) == (m.Op == "=")
	case "~":
		return m.Re.MatchString(valueString(v))
	}
	n, ok := v.Number()
	if !ok {
		return false
	}
	switch m.Op {
	case ">":
		return n > m.Num
	case "<":
		return n < m.Num
	case ">=":
		return n >= m.Num
	}
	return n <= m.Num
}

// valueString is a value as text for matching: strings as they are,
// numbers and bools as they are written.
func valueString(v codec.Value) string {
	switch v.Kind() {
	case codec.KindString:
		return v.Str()
	case codec.KindInt:
		return strconv.FormatInt(v.Int(), 10)
	case codec.KindUint:
		return strconv.FormatUint(v.Uint(), 10)
	case codec.KindFloat:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case codec.KindBool:
		return strconv.FormatBool(v.Bool())
	}
	b, _ := codec.AppendValueJSON(nil, v)
	return string(b)
}
