package main

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/ringlog"
)

// reportData writes a data directory as the agent leaves it: metrics of
// two boots (counters and gauges, a sample a second), events, and, with
// damaged, a copy of the damaged golden ring.
func reportData(t *testing.T, metrics, damaged bool) string {
	t.Helper()
	data := t.TempDir()
	open := func(stream string, c codec.Codec) *ringlog.Writer {
		w, err := ringlog.Open(filepath.Join(data, stream), ringlog.Options{Stream: stream, Codec: c, Budget: 16 << 20, SegmentSize: 256 << 10})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	f := func(k string, v codec.Value) codec.Field { return codec.Field{Key: k, Value: v} }
	at := func(boot uint32, s int, name string, fs ...codec.Field) *codec.Record {
		return &codec.Record{Boot: codec.BootID{0xb0, byte(boot)}, BootCount: boot, Wall: t0.Add(time.Duration(boot)*time.Hour + time.Duration(s)*time.Second),
			Mono: int64(s) * 1e9, Source: "test", Level: codec.LevelInfo, Name: name, Fields: fs}
	}
	if metrics {
		w := open("metrics", codec.Msgpack)
		for _, b := range []struct {
			boot uint32
			n    int
		}{{1, 300}, {2, 100}} {
			for s := 0; s < b.n; s++ {
				k := int64(s)
				busy := 20 + k%40 // a saw: 20-59 ticks of 100 a second
				for _, r := range []*codec.Record{
					at(b.boot, s, "cpu", f("user", codec.Int(k*busy)), f("nice", codec.Int(0)), f("system", codec.Int(0)), f("idle", codec.Int(k*100-k*busy)),
						f("iowait", codec.Int(0)), f("irq", codec.Int(0)), f("softirq", codec.Int(0)), f("steal", codec.Int(0))),
					at(b.boot, s, "memory", f("mem_available", codec.Int(1<<30+(k%50)<<22))),
					at(b.boot, s, "load", f("load1", codec.Float(float64(k%30)/10)), f("load15", codec.Float(1))),
					at(b.boot, s, "net", f("iface", codec.String("eth0")), f("rx_bytes", codec.Int(k*k*100)), f("tx_bytes", codec.Int(k*5000))),
					at(b.boot, s, "filesystem", f("mount", codec.String("/data")), f("used_pct", codec.Float(40+float64(s)/10))),
				} {
					if _, err := w.Append(r); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	w := open("events", codec.JSON)
	for i, l := range []codec.Level{codec.LevelWarning, codec.LevelErr, codec.LevelInfo, codec.LevelCrit} {
		r := at(uint32(1+i/2), 10*i, fmt.Sprintf("event.%d", i), f("n", codec.Int(int64(i))))
		r.Level = l
		if _, err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if damaged {
		golden := filepath.Join("..", "..", "testdata", "golden", "v1-msgpack-damaged")
		ents, _ := os.ReadDir(golden)
		os.MkdirAll(filepath.Join(data, "damaged"), 0o750)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(golden, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(data, "damaged", e.Name()), b, 0o640)
		}
	}
	return data
}

// TestReportChromium renders reports in headless Chromium (Debian's
// chromium package, which scripts/deps.sh installs and make test runs)
// and checks the screenshots: the charts' lines are drawn, the CORRUPT
// badge shows, the page is not blank. A report without metrics is the
// control: no pixel of the line colour, so the count is the charts'.
func TestReportChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run scripts/deps.sh as root (make test runs it) to install Debian's chromium")
	}
	for _, tc := range []struct {
		name             string
		metrics, damaged bool
		minLine, maxLine int // pixels of the first line colour, #1f77b4
		bands            int // 100-pixel bands of the page with some: charts
		minRed, maxRed   int // pixels of the CORRUPT badge, #c62828
	}{
		{"charts", true, true, 1500, 1 << 30, 4, 300, 1 << 30},
		{"control", false, false, 0, 50, 0, 0, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testdir.TempDir(t) // Chromium syncs its profile
			page := filepath.Join(dir, "report.html")
			data := reportData(t, tc.metrics, tc.damaged)
			if _, errOut, code := run(t, "report", "-o", page, data); code != 0 || !strings.Contains(errOut, "report.html: ") {
				t.Fatalf("report: exit %d: %s", code, errOut)
			}
			if _, errOut, code := run(t, "report", "-o", page, data); code != 0 {
				t.Fatalf("report again, replacing the first: exit %d: %s", code, errOut) // TestReportReplaces
			}
			shot := filepath.Join(dir, "shot.png")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			// The flags keep Chromium off the network (none here) and out
			// of the user's profile.
			cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--hide-scrollbars", "--user-data-dir="+filepath.Join(dir, "profile"),
				"--screenshot="+shot, "--window-size=1200,2000", "file://"+page)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("chromium: %v\n%s", err, out)
			}
			img := decodePNG(t, shot)
			b := img.Bounds()
			if b.Dx() != 1200 || b.Dy() != 2000 {
				t.Fatalf("screenshot %v, want 1200x2000", b)
			}
			line, red, ink := 0, 0, 0
			bands := map[int]bool{}
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					r, g, bl, _ := img.At(x, y).RGBA()
					c := [3]int{int(r >> 8), int(g >> 8), int(bl >> 8)}
					switch {
					case near(c, [3]int{0x1f, 0x77, 0xb4}):
						line++
						bands[y/100] = true
					case near(c, [3]int{0xc6, 0x28, 0x28}):
						red++
					}
					if c[0]+c[1]+c[2] < 3*235 {
						ink++
					}
				}
			}
			t.Logf("%s: %d line pixels in %d bands, %d badge red, %d not white", tc.name, line, len(bands), red, ink)
			if line < tc.minLine || line > tc.maxLine || len(bands) < tc.bands || red < tc.minRed || red > tc.maxRed {
				t.Errorf("%d pixels of the line colour in %d bands (want %d-%d in %d or more), %d of the CORRUPT badge (want %d-%d)",
					line, len(bands), tc.minLine, tc.maxLine, tc.bands, red, tc.minRed, tc.maxRed)
			}
			if ink < b.Dx()*b.Dy()/100 {
				t.Errorf("the page is blank: %d pixels not white", ink)
			}
		})
	}
}

// near reports whether two colours are within antialiasing of each other.
func near(a, b [3]int) bool {
	d := 0
	for i := range a {
		d += max(a[i]-b[i], b[i]-a[i])
	}
	return d <= 48
}

func decodePNG(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
