package sar

import (
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// textWriter writes rows as sar prints them: the time of day at the left,
// aligned columns, a header at the start, after each mark and, for a
// report of several instances, before each round of samples, and the
// Average rows at the end. Where the view judged the rows' times
// (view.TimeMark, rings with clock.sync records), each is followed by
// its sign, as itiny-read's records are: ' ', '~' repaired, '?'
// untrusted; the time column is then 9 wide. A line says where the rows
// start to come from another tier (Row.Tier), as a mark does; none for
// rows of raw samples only.
type textWriter struct {
	w      io.Writer
	rep    *Report
	loc    *time.Location
	b      []byte
	day    string          // local date of the last row shown
	head   bool            // a header is due before the next row
	round  map[string]bool // instances shown since the last header
	avg    bool            // the Average rows have begun
	when   []byte          // the row's time of day
	signed bool            // a row's time had a sign: Average: is as wide
	dayBuf []byte
	tier   string // of the last Sample row: raw until a tier's row
}

// NewTextWriter returns a Writer of text in the zone loc.
func NewTextWriter(w io.Writer, rep *Report, loc *time.Location) Writer {
	return &textWriter{w: w, rep: rep, loc: loc, head: true, round: map[string]bool{}}
}

// The time column: 15:04:05, or this; both are 8 wide, 9 with a sign.
var averageLabel = []byte("Average: ")

func (t *textWriter) Write(r *Row) error {
	t.b = t.b[:0]
	when := averageLabel[:8]
	if t.signed {
		when = averageLabel
	}
	if r.Kind != Average {
		lt := r.Time.In(t.loc)
		t.when = lt.AppendFormat(t.when[:0], "15:04:05")
		if c := r.Clock.Sign(); c != 0 {
			t.when, t.signed = append(t.when, c), true
		}
		when = t.when
		if t.dayBuf = lt.AppendFormat(t.dayBuf[:0], "2006-01-02"); string(t.dayBuf) != t.day {
			day := string(t.dayBuf)
			if t.day == "" {
				t.b = append(t.b, t.rep.Title...)
				t.b = append(t.b, "  "...)
				t.b = append(t.b, lt.Format("2006-01-02 MST")...)
				t.b = append(t.b, '\n')
			} else {
				t.b = append(t.b, "\n-- "...)
				t.b = append(t.b, day...)
				t.b = append(t.b, " --\n"...)
			}
			t.day, t.head = day, true
		}
	}
	switch {
	case r.Kind == Mark:
		t.b = append(t.b, '\n')
		t.b = append(t.b, when...)
		t.b = append(t.b, "  -- "...)
		t.b = append(t.b, r.Why...)
		if r.Note != "" {
			t.b = append(t.b, ": "...)
			t.b = append(t.b, r.Note...)
		}
		t.b = append(t.b, " --\n"...)
		t.head = true
		_, err := t.w.Write(t.b)
		return err
	case r.Kind == Sample && r.Tier != t.tier && (t.tier != "" || r.Tier != "raw"):
		// Rows from another tier: a line says so, as a mark's does.
		t.tier = r.Tier
		t.b = append(t.b, '\n')
		t.b = append(t.b, when...)
		t.b = append(t.b, "  -- tier "...)
		t.b = append(t.b, r.Tier...)
		t.b = append(t.b, tierNote(r.Tier)...)
		t.b = append(t.b, " --\n"...)
		t.head = true
	case r.Kind == Average && !t.avg:
		t.avg = true
		t.head = t.rep.Instance != ""
	case r.Kind == Sample && t.rep.Instance != "" && t.round[r.Instance]:
		t.head = true
	}
	if t.head {
		t.b = append(t.b, '\n')
		t.header(when)
		t.head = false
		clear(t.round)
	}
	t.round[r.Instance] = true
	t.b = append(t.b, when...)
	first := t.rep.Instance != "" && !t.rep.InstanceLast
	if first {
		t.b = append(t.b, ' ')
		t.b = pad(t.b, r.Instance, max(9, len(t.rep.Instance)))
	}
	for i, c := range t.rep.Columns {
		t.b = append(t.b, ' ')
		v := r.Values[i]
		if v != v {
			t.b = pad(t.b, "-", colWidth(c))
			continue
		}
		t.b = pad(t.b, strconv.FormatFloat(v, 'f', c.Prec, 64), colWidth(c))
	}
	if !first && t.rep.Instance != "" {
		t.b = append(t.b, "  "...)
		t.b = append(t.b, r.Instance...)
		for _, l := range r.Labels {
			t.b = append(t.b, "  "...)
			t.b = append(t.b, l...)
		}
	}
	t.b = append(t.b, '\n')
	_, err := t.w.Write(t.b)
	return err
}

// header appends the column headers, with when in the time column.
func (t *textWriter) header(when []byte) {
	t.b = append(t.b, when...)
	first := t.rep.Instance != "" && !t.rep.InstanceLast
	if first {
		t.b = append(t.b, ' ')
		t.b = pad(t.b, t.rep.Instance, max(9, len(t.rep.Instance)))
	}
	for _, c := range t.rep.Columns {
		t.b = append(t.b, ' ')
		t.b = pad(t.b, c.Name, colWidth(c))
	}
	if !first && t.rep.Instance != "" {
		t.b = append(t.b, "  "...)
		t.b = append(t.b, t.rep.Instance...)
		for _, l := range t.rep.Labels {
			t.b = append(t.b, "  "...)
			t.b = append(t.b, strings.ToUpper(t.rep.Record.Fields[l].Key)...)
		}
	}
	t.b = append(t.b, '\n')
}

func (t *textWriter) Flush() error { return nil }

// tierNote says what a tier's rows are.
func tierNote(tier string) string {
	switch {
	case tier == "raw":
		return ": samples"
	case strings.Contains(tier, "+"):
		return ": where tiers meet"
	}
	return ": summaries, means and rates"
}

func colWidth(c Column) int { return max(9, len(c.Name)) }

// pad appends s right-aligned in width runes.
func pad(b []byte, s string, width int) []byte {
	for n := utf8.RuneCountInString(s); n < width; n++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}
