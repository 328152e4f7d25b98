package view

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"

	"github.com/itiny/itiny/codec"
)

// CSVPrinter writes metrics as a table: one row per sample (the records
// of one boot taken at one monotonic time), one column per field. A
// record whose first field is a string (a device, an interface, a mount)
// names its columns after it: disk[vda].reads. Columns appear in the order
// first seen; the table is written by Flush.
type CSVPrinter struct {
	w    io.Writer
	o    PrintOptions
	cols []string
	col  map[string]int
	rows []csvRow
	last map[sampleKey]int
	sel  []codec.Field // the fields of --fields, in its order
}

type sampleKey struct {
	boot uint32
	mono int64
}

type csvRow struct {
	wall  string
	boot  uint32
	mono  int64
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
		i = len(p.rows)
		p.last[k] = i
		p.rows = append(p.rows, csvRow{wall: string(codec.AppendWall(nil, r.Wall)), boot: r.BootCount, mono: r.Mono, cells: map[int]string{}})
	}
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
		p.rows[i].cells[c] = valueString(f.Value)
	}
	return nil
}

func (p *CSVPrinter) Flush() error {
	cw := csv.NewWriter(p.w)
	rec := append([]string{"wall", "boot", "mono"}, p.cols...)
	if err := cw.Write(rec); err != nil {
		return err
	}
	if p.o.Reverse {
		slices.Reverse(p.rows)
	}
	for _, r := range p.rows {
		rec = rec[:0]
		rec = append(rec, r.wall, strconv.FormatUint(uint64(r.boot), 10), strconv.FormatInt(r.mono, 10))
		for c := range p.cols {
			rec = append(rec, r.cells[c])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	p.rows, p.last = nil, map[sampleKey]int{}
	cw.Flush()
	return cw.Error()
}
