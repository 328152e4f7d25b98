//go:build !nothermal

package agent

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

func init() { registerCollector("thermal", true, newThermalCollector) }

// thermalCollector samples the temperature of each thermal zone in
// /sys/class/thermal. Zones are found when the collector starts: drivers
// register them at boot. A machine without zones (most VMs) gets no
// records and no error.
type thermalCollector struct {
	zones []thermalZone
}

type thermalZone struct {
	temp *procFile
	rec  codec.Record
}

func newThermalCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("thermal", c.Options); err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	dir := filepath.Join(c.Sys, "class", "thermal")
	nums, err := numberedEntries(dir, "thermal_zone")
	if err != nil {
		return nil, err
	}
	t := &thermalCollector{}
	for _, i := range nums {
		name := "thermal_zone" + strconv.Itoa(i)
		typ, err := os.ReadFile(filepath.Join(dir, name, "type"))
		if err != nil {
			t.Close()
			return nil, err
		}
		f, err := openProcFile(filepath.Join(dir, name, "temp"), 32)
		if err != nil {
			t.Close()
			return nil, err
		}
		// A sensor read may wait on a bus (I2C) for milliseconds: a
		// plain system call, which lets the scheduler run the rest.
		f.raw = false
		z := thermalZone{temp: f, rec: catalogRecord(&catalog.Thermal)}
		z.rec.Fields.SetString(0, name)
		z.rec.Fields.SetString(1, string(trimSpace(typ)))
		t.zones = append(t.zones, z)
	}
	return t, nil
}

// Close releases the descriptors; the agent calls it when the
// configuration is reloaded.
func (t *thermalCollector) Close() error {
	for _, z := range t.zones {
		z.temp.close()
	}
	t.zones = nil
	return nil
}

func (t *thermalCollector) Update(e Emitter) error {
	var first error
	for i := range t.zones {
		z := &t.zones[i]
		b, err := z.temp.read()
		var c float64
		if err == nil {
			c, err = parseMillidegrees(z.temp.path, b)
		}
		if err != nil {
			// Some sensors fail while powered down (EAGAIN, ENODATA):
			// the other zones are still reported.
			if first == nil {
				first = err
			}
			continue
		}
		z.rec.Fields.SetFloat(2, c)
		if err := e.Emit(StreamMetrics, &z.rec); err != nil {
			return err
		}
	}
	return first
}

// parseMillidegrees parses a zone's temp (read from path, named in
// errors): millidegrees Celsius, possibly negative, e.g. "45000\n".
func parseMillidegrees(path string, b []byte) (float64, error) {
	v, err := parseInt(trimSpace(b))
	if err != nil {
		return 0, malformed(path, "want millidegrees Celsius, got %s", quoteLine(b))
	}
	return float64(v) / 1000, nil
}
