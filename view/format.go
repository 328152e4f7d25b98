package view

import (
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// A Printer writes items in one output format. Records go to the output;
// in the machine formats (JSON, MessagePack, CSV), markers and damage go
// to Notes, so that the output stays pure.
type Printer interface {
	Print(it *Item) error
	Flush() error
}

// Options shared by the printers.
type PrintOptions struct {
	Color  bool     // ANSI colours (text)
	UTC    bool     // times in UTC rather than local time (text)
	Fields []string // only these fields, in this order (and the record's own keys)
	Notes  io.Writer
	// Reverse: the records are given newest first (CSV writes its rows
	// so; the other printers print in the order given).
	Reverse bool
	// Last: CSV writes only the last Last rows (samples), and holds no
	// more until then; 0: every row.
	Last int
	// StreamWidth is the text's stream column: at least 8, wider for
	// longer names (a tier's, metrics.1m), so that the columns after it
	// line up (StreamWidth sets it from the sources read).
	StreamWidth int
}

// StreamWidth returns the width of a column of stream names, the
// longest of xs's (stream names them), at least 8: the record listing's
// and itiny-read stats' tables.
func StreamWidth[T any](xs []T, stream func(T) string) int {
	w := 8
	for _, x := range xs {
		w = max(w, len(stream(x)))
	}
	return w
}

// levelColors are the ANSI colours of levels emerg..debug, as journalctl
// uses: red and bold for the worst, plain for info.
var levelColors = [8]string{"\x1b[1;31m", "\x1b[1;31m", "\x1b[1;31m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "", "\x1b[2m"}

const colorReset = "\x1b[0m"

// TextPrinter writes one aligned line per record and per marker:
//
//	2026-11-25 01:44:05.123 metrics info  cpu      cpu  user=280991 nice=0 ...
//	-- boot 3 (4f2a...) --
//
// Times are in local time, each followed by its offset from UTC
// ("2026-11-25 02:44:05.123 +0100") unless the local zone is UTC or with
// UTC: an offset on every line stays right across a change to or from
// summer time, where a zone named once in a header would not.
type TextPrinter struct {
	w    io.Writer
	o    PrintOptions
	loc  *time.Location
	zone bool // append each time's offset
	buf  []byte
	down downMarker // when the agent was not running (runs.go)
}

func NewTextPrinter(w io.Writer, o PrintOptions) *TextPrinter {
	p := &TextPrinter{w: w, o: o, loc: time.Local}
	if o.UTC {
		p.loc = time.UTC
	}
	name, off := time.Now().In(p.loc).Zone()
	p.zone = p.loc != time.UTC && (name != "UTC" || off != 0)
	return p
}

func (p *TextPrinter) Print(it *Item) error {
	b := p.buf[:0]
	switch it.Kind {
	case KindRecord:
		// The agent's downtimes, and its own records of a clock step or
		// an unclean shutdown, are also marker lines, as boots are.
		p.down.see(it.Rec, it.Time, p.o.UTC)
		for _, mark := range p.down.take() {
			b = appendMarkLine(b, mark, p.o.Color)
		}
		if mark := agentMarker(it.Rec); mark != "" {
			b = appendMarkLine(b, mark, p.o.Color)
		}
		b = p.record(b, it)
	default:
		b = appendMarker(b, it, p.o.Color)
		if it.Kind == KindBoot && (it.Time == TimeCorrected || it.Time.Untrusted()) {
			b = p.clockLegend(append(b, '\n'), it)
		}
	}
	b = append(b, '\n')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *TextPrinter) Flush() error { return nil }

// See notes a record that a filter keeps from being printed, so that the
// marker of the agent's downtime before the next record printed spans
// what the rings hold, not what was printed.
func (p *TextPrinter) See(it *Item) { p.down.see(it.Rec, it.Time, p.o.UTC) }

// appendTime writes t as records' times are shown, followed by mark's
// sign (a corrected time's ~) before the zone, if it has one.
func (p *TextPrinter) appendTime(b []byte, t time.Time, mark TimeMark) []byte {
	t = t.In(p.loc)
	b = t.AppendFormat(b, "2006-01-02 15:04:05.000")
	if c := mark.Sign(); c != 0 {
		b = append(b, c)
	}
	if p.zone {
		b = t.AppendFormat(b, " -0700")
	}
	return b
}

// clockLegend says, after a boot's marker, what its times' signs mean:
// the boot's first records were taken before its clock was synchronised,
// it never was, or the rings no longer tell.
func (p *TextPrinter) clockLegend(b []byte, it *Item) []byte {
	if p.o.Color {
		b = append(b, "\x1b[1;36m"...)
	}
	switch it.Time {
	case TimeCorrected:
		b = p.appendTime(append(b, "-- clock synchronised at "...), it.Sync.Wall, TimeAsIs)
		b = append(b, ", "...)
		b = append(b, ShortDuration(time.Duration(it.Sync.Mono))...)
		b = append(b, " after boot: earlier times, marked ~, are repaired: monotonic time plus the offset then, not the device's clock"...)
		if it.Sync.Slept > clockSlack {
			b = append(b, "; the device was suspended for "...)
			b = append(b, ShortDuration(it.Sync.Slept)...)
			b = append(b, " before, which the monotonic clock does not count: a time marked ~ taken before a suspend is up to that much late"...)
		}
		b = append(b, " --"...)
	case TimeUnknown:
		b = append(b, "-- clock not known in this boot: the rings do not hold the clock.sync records of its start (retention took them, or the itiny ring was closed): times marked ? are the device's clock, untrusted --"...)
	default:
		b = append(b, "-- clock never synchronised in this boot, as far as the rings tell: times marked ? are the device's clock, untrusted --"...)
	}
	if p.o.Color {
		b = append(b, colorReset...)
	}
	return b
}

func (p *TextPrinter) record(b []byte, it *Item) []byte {
	r := it.Rec
	b = append(p.appendTime(b, r.Wall, it.Time), ' ')
	b = pad(append(b, it.Source.Stream...), max(8, p.o.StreamWidth))
	lv := r.Level
	if p.o.Color && int(lv) < len(levelColors) {
		b = append(b, levelColors[lv]...)
	}
	b = pad(append(b, lv.String()...), 8)
	b = pad(append(b, r.Source...), 10)
	b = append(b, r.Name...)
	if p.o.Color && int(lv) < len(levelColors) && levelColors[lv] != "" {
		b = append(b, colorReset...)
	}
	n := len(r.Fields)
	if len(p.o.Fields) > 0 {
		n = len(p.o.Fields)
	}
	for i := range n {
		if f, ok := p.field(r, i); ok && !multiline(f.Value) {
			b = append(b, ' ')
			b = append(b, f.Key...)
			b = append(b, '=')
			b = appendText(b, f.Value)
		}
	}
	// Multi-line strings (a command's output) follow, indented, a line
	// for each of theirs.
	for i := range n {
		if f, ok := p.field(r, i); ok && multiline(f.Value) {
			b = append(append(append(b, "\n    "...), f.Key...), ':')
			s := strings.TrimSuffix(f.Value.Str(), "\n")
			for line := range strings.SplitSeq(s, "\n") {
				b = appendLine(append(b, "\n      "...), strings.TrimSuffix(line, "\r"))
			}
		}
	}
	return b
}

// field is the record's i-th field to show: of its own, or of those asked
// for, in the order asked (ok false when it has not that one).
func (p *TextPrinter) field(r *codec.Record, i int) (codec.Field, bool) {
	if len(p.o.Fields) == 0 {
		return r.Fields[i], true
	}
	for _, f := range r.Fields {
		if f.Key == p.o.Fields[i] {
			return f, true
		}
	}
	return codec.Field{}, false
}

// multiline reports whether v is a string of more than one line.
func multiline(v codec.Value) bool {
	return v.Kind() == codec.KindString && strings.Contains(strings.TrimSuffix(v.Str(), "\n"), "\n")
}

// appendLine writes a line of a multi-line value as it is, but for
// control characters other than tab, written \xHH, which could otherwise
// move the cursor or change colours.
func appendLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, s[i])
	}
	return b
}

// pad adds spaces after the last field for columns: to the width of the
// column, then one. The width is what shows: colour sequences take none,
// and a character of several bytes, one.
func pad(b []byte, width int) []byte {
	start := len(b)
	for i := len(b) - 1; i >= 0 && b[i] != ' '; i-- {
		start = i
	}
	n := 0
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case c == 0x1b: // ESC [ parameters final byte
			for i++; i < len(b) && (b[i] < 0x40 || b[i] > 0x7e || b[i] == '['); i++ {
			}
		case c&0xc0 != 0x80: // not a continuation byte of UTF-8
			n++
		}
	}
	for ; n < width; n++ {
		b = append(b, ' ')
	}
	return append(b, ' ')
}

// appendMarkLine writes "-- mark --" and a newline.
func appendMarkLine(b []byte, mark string, color bool) []byte {
	if color {
		b = append(b, "\x1b[1;36m"...)
	}
	b = append(append(append(b, "-- "...), mark...), " --"...)
	if color {
		b = append(b, colorReset...)
	}
	return append(b, '\n')
}

// agentMarker names the agent's records that mark a discontinuity.
func agentMarker(r *codec.Record) string {
	if r.Source != catalog.SelfSource {
		return ""
	}
	switch r.Name {
	case catalog.ClockStep.Name:
		return "wall clock step"
	case catalog.AgentUnclean.Name:
		return "unclean shutdown: the agent did not stop cleanly before this start"
	}
	return ""
}

// appendText writes a value for people: strings bare unless they hold a
// space, a quote, '=' or a control character.
func appendText(b []byte, v codec.Value) []byte {
	if v.Kind() == codec.KindString {
		s := v.Str()
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c == '"' || c == '=' || c == 0x7f {
				return codec.AppendString(b, s)
			}
		}
		if s == "" {
			return append(b, `""`...)
		}
		return append(b, s...)
	}
	if v.Kind() == codec.KindBytes && len(v.Str()) > maxTextBlob {
		// A part of a minidump: its bytes are for --extract or -o json,
		// not a terminal, as journalctl shows "[N blob data]".
		return append(strconv.AppendInt(append(b, '['), int64(len(v.Str())), 10), " bytes]"...)
	}
	b, _ = codec.AppendValueJSON(b, v)
	return b
}

// maxTextBlob is the most binary data text shows of a value, as JSON's
// {"$base64":...}: longer, only its size.
const maxTextBlob = 64

// appendMarker writes a marker line.
func appendMarker(b []byte, it *Item, color bool) []byte {
	if color {
		b = append(b, "\x1b[1;36m"...)
	}
	switch it.Kind {
	case KindBoot:
		b = append(b, "-- boot "...)
		b = strconv.AppendUint(b, uint64(it.Boot.N), 10)
		b = append(b, " ("...)
		b = appendHex(b, it.Boot.ID[:])
		b = append(b, ") --"...)
	case KindGap:
		b = append(b, "-- "...)
		b = append(b, it.Source.Stream...)
		b = append(b, ": "...)
		b = it.Gap.AppendText(b)
		b = append(b, " --"...)
	case KindDamage:
		b = append(b, "-- "...)
		b = append(b, it.Source.Stream...)
		b = append(b, ": damage: "...)
		b = append(b, it.Damage.Error()...)
		b = append(b, " ("...)
		b = append(b, it.Damage.Cause()...)
		b = append(b, ") --"...)
	case KindBadRecord:
		b = append(b, "-- "...)
		b = append(b, it.Source.Stream...)
		b = append(b, ": record "...)
		b = strconv.AppendUint(b, it.Entry.Seq, 10)
		b = append(b, " does not decode: "...)
		b = append(b, it.Err.Error()...)
		b = append(b, " --"...)
	}
	if color {
		b = append(b, colorReset...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, p []byte) []byte {
	for _, c := range p {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// JSONPrinter writes each record as one line of JSON, as JSON rings hold
// them; markers go to Notes as text. With Merger.Clocks, each record of a
// boot the rings have clock.sync records of is followed by "clock"
// (TimeMark's name) and, for a repaired time, "wall_corrected"; "wall" is
// the record's own.
type JSONPrinter struct {
	w   io.Writer
	o   PrintOptions
	buf []byte
	rec codec.Record
}

// asStored returns the record of it as it was stored: with its own wall
// time where the view repaired it, in a copy held by rec.
func asStored(r *codec.Record, it *Item, rec *codec.Record) *codec.Record {
	if it.Time != TimeCorrected {
		return r
	}
	if r != rec {
		*rec = *r
	}
	rec.Wall = it.Raw
	return rec
}

func NewJSONPrinter(w io.Writer, o PrintOptions) *JSONPrinter { return &JSONPrinter{w: w, o: o} }

func (p *JSONPrinter) Print(it *Item) error {
	if it.Kind != KindRecord {
		return note(p.o.Notes, it)
	}
	r := it.Rec
	if len(p.o.Fields) > 0 {
		p.rec = *r
		p.rec.Fields = selectFields(p.rec.Fields[:0:0], r.Fields, p.o.Fields)
		r = &p.rec
	}
	r = asStored(r, it, &p.rec)
	b, err := codec.AppendJSON(p.buf[:0], r)
	if err != nil {
		return err
	}
	if it.Time != TimeAsIs {
		// The view's time after the record's keys: "clock", and the
		// repaired time; the record's own wall stays as it was written.
		b = append(b[:len(b)-1], `,"clock":"`...)
		b = append(b, it.Time.String()...)
		if it.Time == TimeCorrected {
			b = append(b, `","wall_corrected":"`...)
			b = codec.AppendWall(b, it.Rec.Wall)
		}
		b = append(b, `"}`...)
	}
	b = append(b, '\n')
	p.buf = b
	_, err = p.w.Write(b)
	return err
}

func (p *JSONPrinter) Flush() error { return nil }

// MsgpackPrinter writes each record as MessagePack, back to back, as it
// was stored: its own wall time, where the view repaired it.
type MsgpackPrinter struct {
	w   io.Writer
	o   PrintOptions
	buf []byte
	rec codec.Record
}

func NewMsgpackPrinter(w io.Writer, o PrintOptions) *MsgpackPrinter {
	return &MsgpackPrinter{w: w, o: o}
}

func (p *MsgpackPrinter) Print(it *Item) error {
	if it.Kind != KindRecord {
		return note(p.o.Notes, it)
	}
	b, err := asStored(it.Rec, it, &p.rec).MarshalMsg(p.buf[:0])
	if err != nil {
		return err
	}
	p.buf = b
	_, err = p.w.Write(b)
	return err
}

func (p *MsgpackPrinter) Flush() error { return nil }

// note reports damage and gaps on the side; boots are in the records.
func note(w io.Writer, it *Item) error {
	if w == nil || it.Kind == KindBoot {
		return nil
	}
	_, err := w.Write(append(appendMarker(nil, it, false), '\n'))
	return err
}

// selectFields appends to dst the fields of fs named in keep, in keep's
// order.
func selectFields(dst, fs []codec.Field, keep []string) []codec.Field {
	for _, k := range keep {
		if i := slices.IndexFunc(fs, func(f codec.Field) bool { return f.Key == k }); i >= 0 {
			dst = append(dst, fs[i])
		}
	}
	return dst
}
