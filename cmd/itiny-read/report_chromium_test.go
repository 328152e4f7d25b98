package main

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
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
				if s%20 != 0 {
					continue
				}
				// The agent's own figures: a wide table of every field.
				for _, st := range []string{"events", "metrics", "state", "itiny"} {
					r := at(b.boot, s, catalog.StreamStats.Name, f("stream", codec.String(st)), f("available", codec.Bool(true)),
						f("written", codec.Uint(uint64(123456+k))), f("rejected", codec.Uint(0)), f("errors", codec.Uint(0)),
						f("bytes", codec.Uint(16<<20)), f("segments", codec.Uint(64)), f("oldest_seq", codec.Uint(1234567)), f("next_seq", codec.Uint(2345678)),
						f("oldest_wall", codec.String("2026-11-25T11:00:00.123456789Z")), f("deleted_segments", codec.Uint(12345)),
						f("syncs", codec.Uint(99999)), f("sync_avg_ms", codec.Float(12.345)), f("sync_max_ms", codec.Float(1234.5)),
						f("other_syncs", codec.Uint(99999)), f("record_bytes", codec.Uint(123456789)), f("stored_bytes", codec.Uint(12345678)),
						f("framing_bytes", codec.Uint(1234567)), f("handed_bytes", codec.Uint(234567890)))
					r.Source = catalog.SelfSource
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
	self := func(r *codec.Record, l codec.Level) *codec.Record {
		r.Source, r.Level = catalog.SelfSource, l
		return r
	}
	alarm := func(s int, cleared bool) *codec.Record {
		return self(at(1, s, "rule.disk_full", f("rule", codec.String("disk_full")), f("instance", codec.String("/data")),
			f("value", codec.Float(96)), f("limit", codec.Float(95)), f("cleared", codec.Bool(cleared))), codec.LevelWarning)
	}
	start := func(boot uint32, s int, deviceBoot, clean bool) *codec.Record {
		return self(at(boot, s, catalog.AgentStart.Name, f("version", codec.String("test")), f("bootn", codec.Uint(uint64(boot))),
			f("device_boot", codec.Bool(deviceBoot)), f("clean", codec.Bool(clean)), f("pid", codec.Int(1))), codec.LevelNotice)
	}
	// The agent's runs: a start at each boot, and in boot 1 a start at
	// 150 s after a crash.
	w := open(catalog.StreamSelf, codec.JSON)
	for _, r := range []*codec.Record{start(1, 0, true, true), start(1, 150, false, false), start(2, 0, true, true)} {
		if _, err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = open("events", codec.JSON)
	for i, l := range []codec.Level{codec.LevelWarning, codec.LevelErr, codec.LevelInfo, codec.LevelCrit} {
		r := at(uint32(1+i/2), 10*i, fmt.Sprintf("event.%d", i), f("n", codec.Int(int64(i))))
		r.Level = l
		if _, err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []*codec.Record{alarm(100, false), alarm(200, true)} {
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
// and checks the screenshots: the charts' lines are drawn, the crash's
// markers on them, the CORRUPT badge shows, the page is not blank; and
// the summary, as Chromium parsed it, tells the crash and the alarm. A
// report without metrics is the control: no pixel of the line colour nor
// of the crash marker, so the counts are the charts'.
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
		crashBands       int // 100-pixel bands with the crash marker's colour, #b00020: charts
	}{
		{"charts", true, true, 1500, 1 << 30, 4, 300, 1 << 30, 2},
		{"control", false, false, 0, 50, 0, 0, 100, 0},
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
			// The summary as Chromium parsed it.
			cmd = exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+page)
			dom, err := cmd.Output()
			if err != nil {
				t.Fatalf("chromium --dump-dom: %v", err)
			}
			for _, want := range []string{
				// The crash at the crashed run's last record, the restart
				// after it.
				`<dd id="sum-crashes">1 unclean end of the agent's runs`,
				`(it crashed or was killed; last record: `,
				`; started again 2026-11-25 11:02:30, down at most `,
				`<dd id="sum-levels">9 records of the event streams: <span class="lv lv2">crit</span> 1`,
				`<td>disk_full</td><td>/data</td>`,
			} {
				if !strings.Contains(string(dom), want) {
					t.Errorf("the summary as Chromium parsed it has no %q:\n%s", want, between(string(dom), `<section id="summary">`, `</dl>`))
				}
			}
			// Nothing runs past a 1400-pixel window: a wide table scrolls
			// in its box. The report has no script; a copy with one
			// measures the page as Chromium lays it out.
			html, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			measure := filepath.Join(dir, "measure.html")
			html = []byte(strings.Replace(string(html), "</body>", `<script>
var d = document.documentElement, wide = [];
for (const e of document.querySelectorAll("section")) { if (e.scrollWidth > e.clientWidth) wide.push(e.id) }
document.body.setAttribute("data-width", d.scrollWidth + " " + d.clientWidth + " " + wide.join(","));
</script></body>`, 1))
			if err := os.WriteFile(measure, html, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd = exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1400,2000", "--dump-dom", "file://"+measure)
			dom, err = cmd.Output()
			if err != nil {
				t.Fatalf("chromium --dump-dom: %v", err)
			}
			var scroll, client int
			var wide string
			if m := regexp.MustCompile(`data-width="(\d+) (\d+) ([^"]*)"`).FindSubmatch(dom); m == nil {
				t.Errorf("no measure of the page's width in %.300q", dom)
			} else {
				scroll, _ = strconv.Atoi(string(m[1]))
				client, _ = strconv.Atoi(string(m[2]))
				wide = string(m[3])
			}
			if client < 1300 || scroll > client || wide != "" {
				t.Errorf("the page is %d pixels wide in a window %d wide; sections wider than their box: %q", scroll, client, wide)
			}
			img := decodePNG(t, shot)
			b := img.Bounds()
			if b.Dx() != 1200 || b.Dy() != 2000 {
				t.Fatalf("screenshot %v, want 1200x2000", b)
			}
			line, red, ink := 0, 0, 0
			bands, crash := map[int]bool{}, map[int]bool{}
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
					case near(c, [3]int{0xb0, 0x00, 0x20}):
						crash[y/100] = true
					}
					if c[0]+c[1]+c[2] < 3*235 {
						ink++
					}
				}
			}
			t.Logf("%s: %d line pixels in %d bands, crash markers in %d, %d badge red, %d not white", tc.name, line, len(bands), len(crash), red, ink)
			if len(crash) < tc.crashBands || tc.crashBands == 0 && len(crash) > 0 {
				t.Errorf("the crash marker's colour in %d bands, want %d or more", len(crash), tc.crashBands)
			}
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

// between returns s from the first from to the to after it, for a
// failure's message.
func between(s, from, to string) string {
	_, s, _ = strings.Cut(s, from)
	s, _, _ = strings.Cut(s, to)
	return s
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
