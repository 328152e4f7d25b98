package migrate

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"
)

// A Progress draws a one-line progress bar (messages, messages/s, ETA) on
// a terminal, redrawn at most every Every. The caller decides whether
// there is a terminal: a log file gets no bar.
type Progress struct {
	w     io.Writer
	total uint64
	done  uint64
	start time.Time
	last  time.Time
	Every time.Duration
	now   func() time.Time
}

// NewProgress returns a bar for total messages, drawn on w.
func NewProgress(w io.Writer, total uint64) *Progress {
	now := time.Now()
	return &Progress{w: w, total: total, start: now, Every: 200 * time.Millisecond, now: time.Now}
}

func (p *Progress) add(stream string, n uint64) {
	p.done += n
	t := p.now()
	if t.Sub(p.last) < p.Every && p.done < p.total {
		return
	}
	p.last = t
	fmt.Fprintf(p.w, "\r\x1b[K%s", p.line(stream, t))
}

// Done ends the bar's line.
func (p *Progress) Done() { fmt.Fprintln(p.w) }

func (p *Progress) line(stream string, t time.Time) string {
	el := t.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	const width = 24
	fill := width
	if p.total > 0 {
		fill = int(min(p.done, p.total) * width / p.total)
	}
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < fill {
			bar[i] = '#'
		}
	}
	eta := "-"
	if rate > 0 && p.done < p.total {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	} else if p.done >= p.total {
		eta = "0s"
	}
	return fmt.Sprintf("[%s] %s/%s messages  %s/s  ETA %s  (%s)", bar, group(p.done), group(p.total), group(uint64(rate)), eta, stream)
}

// group writes n with thousands separators: 1,234,567.
func group(n uint64) string {
	s := strconv.FormatUint(n, 10)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

func hexID(b [16]byte) string { return hex.EncodeToString(b[:]) }
