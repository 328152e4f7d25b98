//go:build !nopressure

package agent

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

func init() { registerCollector("pressure", true, newPressureCollector) }

// pressureCollector samples pressure stall information (PSI, Linux 4.20+)
// in /proc/pressure: the share of time tasks waited for CPU, memory or
// I/O. A kernel without PSI has no such files: then it emits nothing.
type pressureCollector struct {
	res  []pressureResource
	cols [][]byte
}

type pressureResource struct {
	f   *procFile
	rec codec.Record
}

var pressureResources = []string{"cpu", "memory", "io"}

func newPressureCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("pressure", c.Options); err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	p := &pressureCollector{}
	for _, r := range pressureResources {
		f, err := openProcFile(filepath.Join(c.Proc, "pressure", r), 256)
		if errors.Is(err, os.ErrNotExist) {
			continue // no PSI in this kernel, or not this resource
		}
		if err != nil {
			p.Close()
			return nil, err
		}
		rec := catalogRecord(&catalog.Pressure)
		rec.Fields.SetString(0, r)
		p.res = append(p.res, pressureResource{f, rec})
	}
	return p, nil
}

// Close releases the descriptors; the agent calls it when the
// configuration is reloaded.
func (p *pressureCollector) Close() error {
	for _, r := range p.res {
		r.f.close()
	}
	p.res = nil
	return nil
}

func (p *pressureCollector) Update(e Emitter) error {
	for i := range p.res {
		r := &p.res[i]
		b, err := r.f.read()
		if err != nil {
			return err
		}
		var s psi
		if p.cols, s, err = parsePressure(r.f.path, p.cols, b); err != nil {
			return err
		}
		f := r.rec.Fields
		f.SetFloat(1, s.some.avg10)
		f.SetFloat(2, s.some.avg60)
		f.SetUint(3, s.some.total)
		f.SetFloat(4, s.full.avg10)
		f.SetFloat(5, s.full.avg60)
		f.SetUint(6, s.full.total)
		if err := e.Emit(StreamMetrics, &r.rec); err != nil {
			return err
		}
	}
	return nil
}

// psiLine holds one line of a pressure file: averages in percent over 10
// and 60 seconds, and the total stall time in microseconds.
type psiLine struct {
	avg10, avg60 float64
	total        uint64
}

type psi struct{ some, full psiLine }

// parsePressure parses a pressure file (read from path, named in errors):
//
//	some avg10=0.22 avg60=1.74 avg300=6.51 total=1090678455
//	full avg10=0.00 avg60=0.00 avg300=0.00 total=0
//
// The some line is required; full is absent for cpu before Linux 5.13 and
// then reads as zeros.
func parsePressure(path string, cols [][]byte, b []byte) ([][]byte, psi, error) {
	var s psi
	haveSome := false
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		cols = fields(cols, line)
		if len(cols) == 0 {
			continue
		}
		var l *psiLine
		switch string(cols[0]) {
		case "some":
			l, haveSome = &s.some, true
		case "full":
			l = &s.full
		default:
			return cols, s, malformed(path, "want a some or full line: %s", quoteLine(line))
		}
		const (
			have10 = 1 << iota
			have60
			haveTotal
		)
		have := 0
		for _, kv := range cols[1:] {
			eq := -1
			for i, ch := range kv {
				if ch == '=' {
					eq = i
					break
				}
			}
			if eq < 0 {
				return cols, s, malformed(path, "want key=value, got %s in %s", quoteLine(kv), quoteLine(line))
			}
			var err error
			switch v := kv[eq+1:]; string(kv[:eq]) {
			case "avg10":
				l.avg10, err = parseFloat(v)
				have |= have10
			case "avg60":
				l.avg60, err = parseFloat(v)
				have |= have60
			case "total":
				l.total, err = parseUint(v)
				have |= haveTotal
			}
			if err != nil {
				return cols, s, malformed(path, "bad number in %s", quoteLine(line))
			}
		}
		if have != have10|have60|haveTotal {
			return cols, s, malformed(path, "want avg10, avg60 and total: %s", quoteLine(line))
		}
	}
	if !haveSome {
		return cols, s, malformed(path, "no some line")
	}
	return cols, s, nil
}
