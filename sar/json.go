package sar

import (
	"io"
	"strconv"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// jsonWriter writes a JSON object per row, a line each:
//
//	{"time":"2026-11-25T10:00:10.000Z","boot":1,"tier":"raw","instance":"eth0","rxpck/s":12.5,...}
//	{"average":true,"tier":"raw","instance":"eth0","rxpck/s":11.75,...}
//	{"time":"2026-11-25T10:05:00.000Z","boot":2,"mark":"reboot","note":"boot 2"}
//
// A figure that is not available is null. Where the view judged a row's
// time, "clock" after "boot" says how (view.TimeMark's name: corrected,
// synced, unsynced, unknown), as itiny-read -o json does. "tier" says
// what a row's figures come from (Row.Tier): raw samples, or a rollup
// tier's summaries (1m, 1h).
type jsonWriter struct {
	w   io.Writer
	rep *Report
	loc *time.Location
	b   []byte
}

// NewJSONWriter returns a Writer of JSON lines, times in the zone loc.
func NewJSONWriter(w io.Writer, rep *Report, loc *time.Location) Writer {
	return &jsonWriter{w: w, rep: rep, loc: loc}
}

// timeLayout is RFC 3339 with milliseconds: the time of JSON and CSV rows.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func (j *jsonWriter) Write(r *Row) error {
	b := append(j.b[:0], '{')
	if r.Kind == Average {
		b = append(b, `"average":true`...)
	} else {
		b = append(b, `"time":"`...)
		b = r.Time.In(j.loc).AppendFormat(b, timeLayout)
		b = append(b, `","boot":`...)
		b = strconv.AppendUint(b, uint64(r.Boot), 10)
		if r.Clock != view.TimeAsIs {
			b = append(b, `,"clock":"`...)
			b = append(append(b, r.Clock.String()...), '"')
		}
	}
	if r.Kind != Mark && r.Tier != "" {
		b = append(b, `,"tier":`...)
		b = codec.AppendString(b, r.Tier)
	}
	if r.Kind == Mark {
		b = append(b, `,"mark":`...)
		b = codec.AppendString(b, r.Why)
		b = append(b, `,"note":`...)
		b = codec.AppendString(b, r.Note)
		return j.end(b)
	}
	if j.rep.Instance != "" {
		b = append(b, `,"instance":`...)
		b = codec.AppendString(b, r.Instance)
	}
	for i, l := range j.rep.Labels {
		b = append(b, ',')
		b = codec.AppendString(b, j.rep.Record.Fields[l].Key)
		b = append(b, ':')
		b = codec.AppendString(b, r.Labels[i])
	}
	for i, c := range j.rep.Columns {
		b = append(b, ',')
		b = codec.AppendString(b, c.Name)
		b = append(b, ':')
		if v := r.Values[i]; v == v {
			b = strconv.AppendFloat(b, v, 'f', max(c.Prec, 2), 64)
		} else {
			b = append(b, "null"...)
		}
	}
	return j.end(b)
}

// end closes the object and writes it.
func (j *jsonWriter) end(b []byte) error {
	j.b = append(b, "}\n"...)
	_, err := j.w.Write(j.b)
	return err
}

func (j *jsonWriter) Flush() error { return nil }
