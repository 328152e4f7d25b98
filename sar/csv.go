package sar

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvWriter writes a header row, then a row per row, as sadf -d does:
//
//	time,boot,row,IFACE,rxpck/s,...,note,tier
//	2026-11-25T10:00:10.000Z,1,sample,eth0,12.50,...,,raw
//	,,average,eth0,11.75,...,,raw
//	2026-11-25T10:05:00.000Z,2,reboot,,,...,boot 2,
//
// row says what the row is: sample, average, or a mark's reason; a
// figure that is not available is empty; tier, last, what a row's
// figures come from (Row.Tier: raw, 1m, 1h), empty for a mark.
type csvWriter struct {
	w    *csv.Writer
	rep  *Report
	loc  *time.Location
	rec  []string
	head bool
}

// NewCSVWriter returns a Writer of CSV, times in the zone loc.
func NewCSVWriter(w io.Writer, rep *Report, loc *time.Location) Writer {
	return &csvWriter{w: csv.NewWriter(w), rep: rep, loc: loc}
}

func (c *csvWriter) Write(r *Row) error {
	rep := c.rep
	if !c.head {
		c.head = true
		c.rec = append(c.rec[:0], "time", "boot", "row")
		if rep.Instance != "" {
			c.rec = append(c.rec, rep.Instance)
		}
		for _, l := range rep.Labels {
			c.rec = append(c.rec, strings.ToUpper(rep.Record.Fields[l].Key))
		}
		for _, col := range rep.Columns {
			c.rec = append(c.rec, col.Name)
		}
		if err := c.w.Write(append(c.rec, "note", "tier")); err != nil {
			return err
		}
	}
	c.rec = c.rec[:0]
	switch r.Kind {
	case Average:
		c.rec = append(c.rec, "", "", "average")
	default:
		kind := "sample"
		if r.Kind == Mark {
			kind = r.Why
		}
		c.rec = append(c.rec, r.Time.In(c.loc).Format(timeLayout), strconv.FormatUint(uint64(r.Boot), 10), kind)
	}
	if rep.Instance != "" {
		c.rec = append(c.rec, r.Instance)
	}
	for i := range rep.Labels {
		l := ""
		if r.Kind != Mark {
			l = r.Labels[i]
		}
		c.rec = append(c.rec, l)
	}
	for i, col := range rep.Columns {
		v := ""
		if r.Kind != Mark && r.Values[i] == r.Values[i] {
			v = strconv.FormatFloat(r.Values[i], 'f', max(col.Prec, 2), 64)
		}
		c.rec = append(c.rec, v)
	}
	return c.w.Write(append(c.rec, r.Note, r.Tier))
}

func (c *csvWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}
