package view

import (
	"strconv"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/jsonw"
)

// The JSON of verify --json and stats --json, written as encoding/json
// writes these types by their struct tags (TestHealthJSON compares the
// two), without linking encoding/json into itiny-read.

// AppendJSON appends h as a JSON object.
func (h *Health) AppendJSON(b []byte) []byte {
	b = append(b, `{"stream":`...)
	b = jsonw.AppendString(b, h.Stream)
	b = append(b, `,"where":`...)
	b = jsonw.AppendString(b, h.Where)
	b = append(b, `,"segments":`...)
	b = strconv.AppendInt(b, int64(h.Segments), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, h.Bytes, 10)
	b = append(b, `,"records":`...)
	b = strconv.AppendInt(b, int64(h.Records), 10)
	b = append(b, `,"first_seq":`...)
	b = strconv.AppendUint(b, h.FirstSeq, 10)
	b = append(b, `,"last_seq":`...)
	b = strconv.AppendUint(b, h.LastSeq, 10)
	b = append(b, `,"first_wall":"`...)
	b = codec.AppendWall(b, h.First.Time)
	b = append(b, `","last_wall":"`...)
	b = codec.AppendWall(b, h.Last.Time)
	b = append(b, `","span":`...)
	b = jsonw.AppendString(b, h.Span)
	b = append(b, `,"records_per_hour":`...)
	b = jsonw.AppendFloat(b, h.Rate)
	b = append(b, `,"boots":`...)
	b = jsonw.AppendArray(b, h.Boots, func(n *uint32, b []byte) []byte { return strconv.AppendUint(b, uint64(*n), 10) })
	b = append(b, `,"retired":`...)
	b = strconv.AppendUint(b, h.Retired, 10)
	b = h.Losses.appendFields(append(b, ','))
	b = append(b, `,"gaps":`...)
	b = jsonw.AppendArray(b, h.Gaps, (*Gap).AppendJSON)
	b = append(b, `,"damage":`...)
	b = jsonw.AppendArray(b, h.Damage, (*Problem).AppendJSON)
	b = append(b, `,"corrupt":`...)
	b = strconv.AppendInt(b, int64(h.Corrupt), 10)
	b = append(b, `,"unsupported":`...)
	b = strconv.AppendInt(b, int64(h.Unsupported), 10)
	if len(h.Writes) > 0 {
		b = append(b, `,"writes":`...)
		b = jsonw.AppendArray(b, h.Writes, (*Writes).AppendJSON)
	}
	return append(b, '}')
}

// AppendJSON appends w as a JSON object.
func (w *Writes) AppendJSON(b []byte) []byte {
	b = append(b, `{"stream":`...)
	b = jsonw.AppendString(b, w.Stream)
	b = append(b, `,"runs":`...)
	b = strconv.AppendInt(b, int64(w.Runs), 10)
	b = append(b, `,"seconds":`...)
	b = jsonw.AppendFloat(b, w.Seconds)
	b = append(b, `,"first_wall":"`...)
	b = codec.AppendWall(b, w.First.Time)
	b = append(b, `","last_wall":"`...)
	b = codec.AppendWall(b, w.Last.Time)
	for _, f := range [...]struct {
		key string
		n   int64
	}{{`","record_bytes":`, w.RecordBytes}, {`,"stored_bytes":`, w.StoredBytes}, {`,"framing_bytes":`, w.FramingBytes},
		{`,"handed_bytes":`, w.HandedBytes}, {`,"syncs":`, w.Syncs}, {`,"write_bytes":`, w.WriteBytes}} {
		b = strconv.AppendInt(append(b, f.key...), f.n, 10)
	}
	b = append(b, `,"write_known":`...)
	b = strconv.AppendBool(b, w.WriteKnown)
	b = append(b, `,"write_error":`...)
	b = jsonw.AppendString(b, w.WriteError)
	b = append(b, `,"bytes_per_day":`...)
	b = jsonw.AppendFloat(b, w.BytesPerDay)
	b = append(b, `,"amplification":`...)
	b = jsonw.AppendFloat(b, w.Amplification)
	b = append(b, `,"kernel_amplification":`...)
	b = jsonw.AppendFloat(b, w.KernelAmplification)
	return append(b, '}')
}

// appendFields appends r's members, without braces: Health embeds Losses,
// so its members are Health's.
func (r *Losses) appendFields(b []byte) []byte {
	b = append(b, `"skipped":`...)
	b = strconv.AppendUint(b, r.Skipped, 10)
	b = append(b, `,"lost":`...)
	b = strconv.AppendUint(b, r.Lost, 10)
	b = append(b, `,"possibly_lost":`...)
	b = strconv.AppendUint(b, r.PossiblyLost, 10)
	b = append(b, `,"unsure":`...)
	b = strconv.AppendUint(b, r.Unsure, 10)
	b = append(b, `,"unread":`...)
	return strconv.AppendUint(b, r.Unread, 10)
}

// AppendJSON appends g as a JSON object.
func (g *Gap) AppendJSON(b []byte) []byte {
	b = append(b, `{"From":`...)
	b = strconv.AppendUint(b, g.From, 10)
	b = append(b, `,"To":`...)
	b = strconv.AppendUint(b, g.To, 10)
	b = append(b, `,"loss":`...)
	b = jsonw.AppendString(b, string(g.Loss))
	b = append(b, `,"lost":`...)
	b = strconv.AppendUint(b, g.Lost, 10)
	b = append(b, `,"cause":`...)
	b = jsonw.AppendString(b, g.Cause)
	if g.Bound != "" {
		b = append(b, `,"bound":`...)
		b = jsonw.AppendString(b, g.Bound)
	}
	return append(b, '}')
}

// AppendJSON appends p as a JSON object.
func (p *Problem) AppendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = jsonw.AppendString(b, p.Kind)
	b = append(b, `,"segment":`...)
	b = jsonw.AppendString(b, p.Segment)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, p.Offset, 10)
	b = append(b, `,"length":`...)
	b = strconv.AppendInt(b, p.Length, 10)
	b = append(b, `,"detail":`...)
	b = jsonw.AppendString(b, p.Detail)
	return append(b, '}')
}
