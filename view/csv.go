package view

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/codec"
)

// CSVPrinter writes metrics as a table: one row per sample (the records
// of one boot taken at one monotonic time), one column per field. A
// record whose first field is a string (a device, an interface, a mount)
// names its columns after it: disk[vda].reads. Columns appear in the order
// first seen, those of the rows written; the table is written by Flush.
//
// The table is held until Flush: every row, or with Last the last Last
// rows (Held says how much it holds). wall is the view's time: with
// Merger.Clocks, a column clock after mono says how each came to be
// (TimeMark's name), where any row held has a boot with clock.sync
// records; and a column tier after it, where any row is of a rollup
// tier's summaries (metrics.1h: 1h; raw for samples).
type CSVPrinter struct {
	w     io.Writer
	o     PrintOptions
	cols  []string
	col   map[string]int
	rows  []csvRow
	first int               // the number of rows dropped from the front (Last)
	last  map[sampleKey]int // a sample's row: rows[last[k]-first]
	held  int
	sel   []codec.Field // the fields of --fields, in its order
}

type sampleKey struct {
	boot uint32
	mono int64
}

type csvRow struct {
	wall  string
	boot  uint32
	mono  int64
	clock TimeMark
	every int64 // the rollup tier's interval (ParseTier), 0 for samples
	cells map[int]string
}

func NewCSVPrinter(w io.Writer, o PrintOptions) *CSVPrinter {
	return &CSVPrinter{w: w, o: o, col: map[string]int{}, last: map[sampleKey]int{}}
}

func (p *CSVPrinter) Print(it *Item) error {
	if it.Kind != KindRecord {
		return note(p.o.Notes, it)
	}
	r := it.Rec
	k := sampleKey{r.BootCount, r.Mono}
	i, ok := p.last[k]
	if !ok {
		if p.o.Last > 0 && len(p.rows) == p.o.Last {
			p.drop()
		}
		i = p.first + len(p.rows)
		p.last[k] = i
		_, every := ParseTier(it.Source.Stream)
		p.rows = append(p.rows, csvRow{wall: string(codec.AppendWall(nil, r.Wall)), boot: r.BootCount, mono: r.Mono, clock: it.Time, every: int64(every), cells: map[int]string{}})
		p.held += rowCost
	}
	row := &p.rows[i-p.first]
	prefix := r.Name
	fs := r.Fields
	if len(fs) > 0 && fs[0].Value.Kind() == codec.KindString {
		prefix += "[" + fs[0].Value.Str() + "]"
		fs = fs[1:]
	}
	if len(p.o.Fields) > 0 {
		fs = selectFields(p.sel[:0], fs, p.o.Fields)
		p.sel = fs
	}
	for _, f := range fs {
		name := prefix + "." + f.Key
		c, ok := p.col[name]
		if !ok {
			c = len(p.cols)
			p.col[name] = c
			p.cols = append(p.cols, name)
		}
		v := valueString(f.Value)
		if f.Value.Kind() == codec.KindString {
			v = strings.Clone(v) // a view of the record's bytes, read over by the next
		}
		p.held += len(v) - len(row.cells[c])
		if _, ok := row.cells[c]; !ok {
			p.held += cellCost
		}
		row.cells[c] = v
	}
	return nil
}

// What a row and a cell cost beside their strings, roughly: their
// headers, and the maps' share.
const rowCost, cellCost = 96, 48

// drop drops the first row.
func (p *CSVPrinter) drop() {
	r := &p.rows[0]
	delete(p.last, sampleKey{r.boot, r.mono})
	p.held -= rowCost
	for _, v := range r.cells {
		p.held -= cellCost + len(v)
	}
	*r = csvRow{}
	p.rows = p.rows[1:]
	p.first++
}

// Held returns roughly how many bytes of memory the rows held until Flush
// take.
func (p *CSVPrinter) Held() int { return p.held }

func (p *CSVPrinter) Flush() error {
	// The columns of the rows held: with Last, those of the rows dropped
	// may have none.
	var used []int
	for c := range p.cols {
		if slices.ContainsFunc(p.rows, func(r csvRow) bool { _, ok := r.cells[c]; return ok }) {
			used = append(used, c)
		}
	}
	cw := csv.NewWriter(p.w)
	rec := []string{"wall", "boot", "mono"}
	clock := slices.ContainsFunc(p.rows, func(r csvRow) bool { return r.clock != TimeAsIs })
	if clock {
		rec = append(rec, "clock")
	}
	tier := slices.ContainsFunc(p.rows, func(r csvRow) bool { return r.every != 0 })
	if tier {
		rec = append(rec, "tier")
	}
	for _, c := range used {
		rec = append(rec, p.cols[c])
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	if p.o.Reverse {
		slices.Reverse(p.rows)
	}
	for _, r := range p.rows {
		rec = rec[:0]
		rec = append(rec, r.wall, strconv.FormatUint(uint64(r.boot), 10), strconv.FormatInt(r.mono, 10))
		if clock {
			rec = append(rec, r.clock.String())
		}
		if tier {
			rec = append(rec, TierName(time.Duration(r.every)))
		}
		for _, c := range used {
			rec = append(rec, r.cells[c])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	p.rows, p.first, p.held, p.last = nil, 0, 0, map[sampleKey]int{}
	cw.Flush()
	return cw.Error()
}
