package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/view"
)

// Hostile strings written into the rings; the report must show them as
// text.
const (
	evilName  = "<script>alert(1)</script>"
	evilSrc   = `"><img src=x onerror=alert(2)>`
	evilField = "</td></tr><script>alert(3)</script>"
	evilMount = "<script>alert(4)</script>"
)

// reportFixture writes a data directory: metrics of two boots (boot 2: 700
// samples a second apart, boot 3: 40) with the agent's counters and
// gauges, events and state at several levels, and a copy of the damaged
// golden ring.
func reportFixture(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	var ms []*codec.Record
	f := func(k string, v codec.Value) codec.Field { return codec.Field{Key: k, Value: v} }
	for _, b := range []struct {
		boot    uint32
		samples int
	}{{2, 700}, {3, 40}} {
		for k := 0; k < b.samples; k++ {
			n := int64(k)
			ms = append(ms,
				rec(b.boot, k, "cpu", f("user", codec.Int(1000+30*n)), f("nice", codec.Int(0)), f("system", codec.Int(500+10*n)),
					f("idle", codec.Int(9000+60*n)), f("iowait", codec.Int(0)), f("irq", codec.Int(0)), f("softirq", codec.Int(0)), f("steal", codec.Int(0))),
				// Used, as sar's kbmemused: total less free, buffers,
				// cached and slab, 3 GiB less k MiB.
				rec(b.boot, k, "memory", f("mem_total", codec.Int(4<<30)), f("mem_free", codec.Int(512<<20+n<<20)), f("mem_available", codec.Int(1<<30+n<<20)),
					f("buffers", codec.Int(256<<20)), f("cached", codec.Int(256<<20)), f("slab", codec.Int(0))),
				rec(b.boot, k, "load", f("load1", codec.Float(float64(k%10)/10)), f("load15", codec.Float(0.5))),
				rec(b.boot, k, "net", f("iface", codec.String("eth0")), f("rx_bytes", codec.Int(1e6+1000*n)), f("tx_bytes", codec.Int(500*n))),
				fsRec(b.boot, k, "/data", 50+0.01*float64(k)),
				rec(b.boot, k, "uptime", f("uptime_s", codec.Float(float64(k)))),
			)
			if b.boot == 3 {
				ms = append(ms,
					rec(b.boot, k, "thermal", f("zone", codec.String("cpu-thermal")), f("temp_c", codec.Float(40+float64(k%5)))),
					fsRec(b.boot, k, evilMount, 10+float64(k)),
					rec(b.boot, k, "app.queue", f("depth", codec.Int(n%7))),
				)
			}
		}
	}
	writeRingSized(t, data, "metrics", codec.Msgpack, ms...)

	lv := func(r *codec.Record, l codec.Level) *codec.Record { r.Level = l; return r }
	evil := lv(rec(2, 10, evilName, f("msg", codec.String(evilField))), codec.LevelErr)
	evil.Source = evilSrc
	writeRingSized(t, data, "events", codec.JSON,
		lv(rec(2, 5, "disk.full", f("used_pct", codec.Float(97.5))), codec.LevelWarning),
		evil,
		rec(2, 20, "job.done"),
		lv(rec(2, 30, "debug.thing"), codec.LevelDebug),
		lv(rec(3, 1, "device.boot"), codec.LevelNotice),
		lv(rec(3, 5, "oom.kill", f("pid", codec.Int(42))), codec.LevelCrit),
	)
	writeRingSized(t, data, "state", codec.JSON,
		lv(rec(3, 2, "link.state", f("iface", codec.String("eth0")), f("up", codec.Bool(false))), codec.LevelWarning))
	copyDir(t, filepath.Join("..", "testdata", "golden", "v1-msgpack-damaged"), filepath.Join(data, "damaged"))
	return data
}

// fsRec returns a filesystem record as the agent writes it, used_pct
// used: the chart draws it by the rows of sar's filesystem report, which
// needs the sizes.
func fsRec(boot uint32, k int, mount string, used float64) *codec.Record {
	f := func(k string, v codec.Value) codec.Field { return codec.Field{Key: k, Value: v} }
	return rec(boot, k, "filesystem", f("mount", codec.String(mount)), f("fstype", codec.String("ext4")),
		f("size_bytes", codec.Uint(100<<30)), f("free_bytes", codec.Uint(uint64((100-used)*(1<<30)))),
		f("avail_bytes", codec.Uint(uint64((100-used)*(1<<30)))), f("used_pct", codec.Float(used)),
		f("files", codec.Uint(1000)), f("files_free", codec.Uint(500)), f("readonly", codec.Bool(false)))
}

// writeRingSized is writeRing with room for thousands of records.
func writeRingSized(t *testing.T, data, stream string, c codec.Codec, recs ...*codec.Record) {
	t.Helper()
	ringtest.Write(t, data, ringlog.Options{Stream: stream, Codec: c, Budget: 16 << 20, SegmentSize: 256 << 10}, recs...)
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o750); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// A node of the report parsed as XML: the report is well-formed XHTML,
// so encoding/xml in strict mode checks its whole structure.
type node struct {
	name string // "#text" for character data
	attr map[string]string
	kids []*node
	text string
}

func parseReport(t *testing.T, doc string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	root := &node{name: "#document"}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			ln, _ := d.InputPos()
			line := strings.Split(doc, "\n")[ln-1]
			t.Fatalf("the report does not parse: %v\nat: %.300s", err, line)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{name: tk.Name.Local, attr: map[string]string{}}
			for _, a := range tk.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top := stack[len(stack)-1]
			top.kids = append(top.kids, &node{name: "#text", text: string(tk)})
		}
	}
	if len(stack) != 1 {
		t.Fatalf("%d elements left open", len(stack)-1)
	}
	return root
}

// all returns the elements named name under n, depth first.
func (n *node) all(name string) []*node {
	var out []*node
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
		out = append(out, k.all(name)...)
	}
	return out
}

// find returns the element under n with attribute key=value.
func (n *node) find(key, value string) *node {
	for _, k := range n.kids {
		if k.attr[key] == value {
			return k
		}
		if f := k.find(key, value); f != nil {
			return f
		}
	}
	return nil
}

// content is the text of n and everything under it, in order.
func (n *node) content() string {
	s := n.text
	for _, k := range n.kids {
		s += k.content()
	}
	return s
}

// A figure of the report: its title, legend, the points of each line's
// path, and its markers.
type figure struct {
	title, legend string
	texts         []string // the SVG's labels
	paths         []pathInfo
	marks         []markInfo
}

type pathInfo struct {
	stroke string
	d      string
	points int // M and L commands
	runs   int // M commands
}

type markInfo struct {
	class, title string
	x            float64
}

func figures(t *testing.T, doc *node) map[string]*figure {
	t.Helper()
	figs := map[string]*figure{}
	for _, f := range doc.all("figure") {
		fg := &figure{title: f.all("h3")[0].content(), legend: f.find("class", "legend").content()}
		svgs := f.all("svg")
		if len(svgs) != 1 {
			t.Fatalf("figure %q: %d svg", fg.title, len(svgs))
		}
		for _, k := range svgs[0].kids {
			switch {
			case k.name == "text":
				fg.texts = append(fg.texts, k.content())
			case k.name == "path":
				d := k.attr["d"]
				fg.paths = append(fg.paths, pathInfo{stroke: k.attr["stroke"], d: d,
					points: strings.Count(d, "M") + strings.Count(d, "L"), runs: strings.Count(d, "M")})
			case k.name == "g" && strings.HasPrefix(k.attr["class"], "mk "):
				x, err := strconv.ParseFloat(k.all("line")[0].attr["x1"], 64)
				if err != nil {
					t.Fatal(err)
				}
				fg.marks = append(fg.marks, markInfo{class: k.attr["class"], title: k.all("title")[0].content(), x: x})
			}
		}
		figs[fg.title] = fg
	}
	return figs
}

// eventRows returns the cells of the events tables' rows: count, first,
// last, stream, level, source, name, fields.
func eventRows(ev *node) [][]string {
	var rows [][]string
	for _, tr := range ev.all("tr") {
		var cells []string
		for _, td := range tr.all("td") {
			cells = append(cells, td.content())
		}
		if cells != nil {
			rows = append(rows, cells)
		}
	}
	return rows
}

func report(t *testing.T, data string, o Options) (string, *node) {
	t.Helper()
	in, err := view.Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, in.Sources, o); err != nil {
		t.Fatal(err)
	}
	return buf.String(), parseReport(t, buf.String())
}

func TestReport(t *testing.T) {
	data := reportFixture(t)
	html, doc := report(t, data, Options{Title: "device " + evilName, Generated: t0, Generator: "test"})

	// Charts: one per series worth it, the catalogue's first.
	figs := figures(t, doc)
	if n := len(doc.all("svg")); n != len(figs) || n != 10 {
		var titles []string
		for k := range figs {
			titles = append(titles, k)
		}
		t.Fatalf("%d svg, %d figures: %q", n, len(figs), titles)
	}
	for _, tc := range []struct {
		title          string
		legend         []string
		points         int // of the first path; 0: downsampled, checked below
		runs, paths    int
		minPts, maxPts int
	}{
		// 699 + 39 rates, downsampled: a run per boot.
		{"CPU busy and iowait", []string{"busy: min 40.0 %, max 40.0 %, last 40.0 %", "iowait: min 0 %"}, 0, 2, 2, 50, 600},
		{"load average", []string{"load1: min 0.000, max 0.900", "load15: min 0.500"}, 0, 2, 2, 50, 600},
		{"memory", []string{"used: min 2.32 GiB, max 3.00 GiB", "cached: min 256 MiB, max 256 MiB"}, 0, 2, 2, 50, 600},
		{"network eth0: bytes/s", []string{"rx: min 1000 B/s, max 1000 B/s", "tx: min 500 B/s"}, 0, 2, 2, 50, 600},
		{"filesystem /data: used", []string{"used: min 50.0 %, max 57.0 %"}, 0, 2, 1, 50, 600},
		{"thermal zone cpu-thermal", []string{"temperature: min 40.0 °C, max 44.0 °C, last 44.0 °C"}, 40, 1, 1, 40, 40},
		{"filesystem " + evilMount + ": used", []string{"used: min 10.0 %, max 49.0 %"}, 40, 1, 1, 40, 40},
		{"app.queue.depth", []string{"depth: min 0.00, max 6.00"}, 40, 1, 1, 40, 40},
		// The damaged golden ring's "cpu" records are not the agent's:
		// their varying fields are charted as they are.
		{"cpu.i", nil, 0, 0, 1, 30, 40},
	} {
		fg := figs[tc.title]
		if fg == nil {
			t.Errorf("no chart %q", tc.title)
			continue
		}
		for _, l := range tc.legend {
			if !strings.Contains(fg.legend, l) {
				t.Errorf("%q: legend %q, want %q in it", tc.title, fg.legend, l)
			}
		}
		if len(fg.paths) != tc.paths {
			t.Errorf("%q: %d paths, want %d", tc.title, len(fg.paths), tc.paths)
			continue
		}
		p := fg.paths[0]
		if p.stroke != "#1f77b4" || p.points < tc.minPts || p.points > tc.maxPts ||
			tc.points > 0 && p.points != tc.points || tc.runs > 0 && p.runs != tc.runs {
			t.Errorf("%q: first path %+v; want %d points (%d-%d), %d runs", tc.title, p, tc.points, tc.minPts, tc.maxPts, tc.runs)
		}
		// Axes: three values, round times, the span and zone.
		ticks, caption := 0, false
		for _, x := range fg.texts {
			if regexp.MustCompile(`^\d\d:\d\d(:\d\d)?$`).MatchString(x) {
				ticks++
			}
			caption = caption || regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d to .* UTC$`).MatchString(x)
		}
		if ticks < 4 || ticks > 8 || !caption {
			t.Errorf("%q: labels %q", tc.title, fg.texts)
		}
	}
	if figs["thermal zone cpu-thermal"] != nil {
		if l := figs["thermal zone cpu-thermal"].texts; strings.Join(l[3:], "|") != "13:00:00|13:00:10|13:00:20|13:00:30|2026-11-25 13:00:00 to 13:00:39 UTC" {
			t.Errorf("thermal: x labels %q", l[3:])
		}
	}
	for _, dull := range []string{"uptime.uptime_s", "cpu.user", "memory.mem_total"} {
		if figs[dull] != nil {
			t.Errorf("chart %q: not worth one", dull)
		}
	}

	// The events: a row per name, source and level, the most severe
	// first, the first seen first within a level.
	ev := doc.find("id", "events")
	rows := eventRows(ev)
	var names []string
	for _, r := range rows {
		names = append(names, r[6])
	}
	want := []string{"oom.kill", evilName, "disk.full", "link.state", "device.boot", "job.done", "debug.thing"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("events %q\nwant   %q", names, want)
	}
	for _, r := range rows {
		if r[6] == evilName && (r[4] != "err" || r[5] != evilSrc || r[7] != "msg="+evilField || r[0] != "1") {
			t.Errorf("hostile row %q", r)
		}
	}
	for lvl, class := range map[string]string{"err": "lv lv3", "crit": "lv lv2", "warning": "lv lv4", "debug": "lv lv7"} {
		if s := ev.find("class", class); s == nil || s.content() != lvl {
			t.Errorf("level %s: no span of class %q", lvl, class)
		}
	}

	// Verify: the damaged ring is CORRUPT, the others OK.
	vr := doc.find("id", "verify").all("table")[0].all("tr")[1:]
	if len(vr) != 4 {
		t.Fatalf("verify: %d rows", len(vr))
	}
	for _, tr := range vr {
		tds := tr.all("td")
		badge, where := tds[0].all("span")[0], tds[2].content()
		want := "OK"
		if strings.HasSuffix(where, "damaged") {
			want = "CORRUPT"
			if !strings.Contains(tds[11].content(), "corruption 1") || tds[12].content() != "1" || tds[3].content() != "38" {
				t.Errorf("verify row of the damaged ring: %q", tr.content())
			}
		}
		if badge.content() != want || badge.attr["class"] != map[string]string{"OK": "badge ok", "CORRUPT": "badge bad"}[want] {
			t.Errorf("verify %s: badge %q (%s), want %s", where, badge.content(), badge.attr["class"], want)
		}
	}
	if !strings.Contains(doc.all("header")[0].content(), "CORRUPT 1 problem in 1 of 4 rings") {
		t.Errorf("header: %q", doc.all("header")[0].content())
	}

	// Boots and gaps: three boots, the damaged ring's gap with its cause.
	bs := doc.find("id", "boots")
	if n := len(bs.all("table")[0].all("tr")) - 1; n != 3 {
		t.Errorf("%d boots, want 3", n)
	}
	if g := bs.all("table")[1].content(); !strings.Contains(g, "13-131 record lost (13): damage") {
		t.Errorf("gaps: %q", g)
	}

	// Self-contained and safe: no URL but the SVG namespace, no script,
	// no external reference, hostile strings escaped.
	for _, u := range regexp.MustCompile(`(?i)[a-z]+://[^\s"'<>]*`).FindAllString(html, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("URL in the report: %s", u)
		}
	}
	for _, tag := range []string{"script", "img", "link", "iframe", "object", "embed"} {
		if n := len(doc.all(tag)); n > 0 {
			t.Errorf("%d <%s> elements", n, tag)
		}
	}
	for _, a := range []string{"src", "onerror"} {
		if doc.find(a, "x") != nil {
			t.Errorf("an element with %s", a)
		}
	}
	for _, e := range doc.all("a") {
		if !strings.HasPrefix(e.attr["href"], "#") {
			t.Errorf("link %q", e.attr["href"])
		}
	}
	if strings.Contains(strings.ToLower(html), "<script") || !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") ||
		!strings.Contains(html, "<title>device &lt;script&gt;alert(1)&lt;/script&gt;</title>") {
		t.Error("hostile strings not escaped")
	}
}

// The options bound and select what the report shows.
func TestReportOptions(t *testing.T) {
	data := reportFixture(t)
	for _, tc := range []struct {
		name  string
		o     Options
		check func(t *testing.T, html string, doc *node, figs map[string]*figure, rows int)
	}{
		{"MaxCharts", Options{MaxCharts: 3}, func(t *testing.T, html string, doc *node, figs map[string]*figure, rows int) {
			if len(figs) != 3 || figs["CPU busy and iowait"] == nil || figs["load average"] == nil {
				t.Errorf("%d charts", len(figs))
			}
			if !strings.Contains(doc.find("id", "metrics").content(), "Not charted (at most 3 charts): network eth0: bytes/s, filesystem /data: used") {
				t.Error("no note of the charts left out")
			}
		}},
		{"MaxPoints", Options{MaxPoints: 50}, func(t *testing.T, html string, doc *node, figs map[string]*figure, rows int) {
			for _, f := range figs {
				for _, p := range f.paths {
					if p.points > 50 || p.points < 2 {
						t.Errorf("%q: %d points", f.title, p.points)
					}
				}
			}
			// Min and max survive downsampling.
			if l := figs["thermal zone cpu-thermal"].legend; !strings.Contains(l, "min 40.0 °C, max 44.0 °C") {
				t.Errorf("thermal legend %q", l)
			}
		}},
		{"MaxEvents", Options{MaxEvents: 3}, func(t *testing.T, html string, doc *node, figs map[string]*figure, rows int) {
			if rows != 3 || !strings.Contains(doc.find("id", "events").content(), "4 records of further names are left out (at most 3 rows") {
				t.Errorf("%d rows: %q", rows, doc.find("id", "events").content())
			}
		}},
		{"Since", Options{Since: t0.Add(3 * time.Hour), Location: time.FixedZone("X", 3600)}, func(t *testing.T, html string, doc *node, figs map[string]*figure, rows int) {
			if p := figs["load average"].paths[0]; p.points != 40 || p.runs != 1 {
				t.Errorf("load1 since boot 3: %+v", p)
			}
			if l := figs["load average"].texts; l[3] != "14:00:00" || !strings.HasSuffix(l[len(l)-1], "X (UTC+01:00)") {
				t.Errorf("x label %q, want the time in the zone asked", l)
			}
			if rows != 3 {
				t.Errorf("%d rows since boot 3", rows)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			html, doc := report(t, data, tc.o)
			tc.check(t, html, doc, figures(t, doc), len(eventRows(doc.find("id", "events"))))
		})
	}
}

// Every golden ring reports, with the verdict verify gives; extreme
// values chart without NaN.
func TestReportGolden(t *testing.T) {
	extreme := t.TempDir()
	f := func(v float64) codec.Field { return codec.Field{Key: "x", Value: codec.Float(v)} }
	writeRingSized(t, extreme, "metrics", codec.Msgpack, rec(1, 1, "x", f(-1e300)), rec(1, 2, "x", f(1e300)), rec(1, 3, "x", f(math.MaxFloat64)),
		rec(1, 3, "x", f(math.Inf(1))), rec(1, 4, "x", f(math.NaN())), rec(1, 5, "x", f(5e-324)),
		rec(1, 1, "tiny", f(1e-300)), rec(1, 2, "tiny", f(1.0000000001e-300)))
	for _, tc := range []struct {
		path, badge string
		charts      int
	}{
		{filepath.Join("..", "testdata", "golden", "v1-msgpack"), "OK", 2},
		{filepath.Join("..", "testdata", "golden", "v1-json"), "OK", 2},
		{filepath.Join("..", "testdata", "golden", "v1-msgpack-damaged"), "CORRUPT", 2},
		{filepath.Join("..", "testdata", "golden", "v1-msgpack-packed"), "CORRUPT", 2},
		{extreme, "OK", 2},
	} {
		html, doc := report(t, tc.path, Options{})
		if b := doc.all("header")[0].find("class", "badge "+map[string]string{"OK": "ok", "CORRUPT": "bad"}[tc.badge]); b == nil || b.content() != tc.badge {
			t.Errorf("%s: no %s badge", tc.path, tc.badge)
		}
		if n := len(figures(t, doc)); n != tc.charts {
			t.Errorf("%s: %d charts, want %d", tc.path, n, tc.charts)
		}
		if strings.Contains(html, "NaN") || strings.Contains(html, "Inf") {
			t.Errorf("%s: NaN or Inf in the report", tc.path)
		}
	}
}

func TestDownsample(t *testing.T) {
	// A sine of 10,000 points in three runs, one spike.
	var pts []point
	for i := 0; i < 10000; i++ {
		p := point{t: int64(i) * 1e9, v: math.Sin(float64(i) / 300)}
		p.brk = i == 0 || i == 4000 || i == 7000
		if i == 5555 {
			p.v = 9
		}
		pts = append(pts, p)
	}
	for _, limit := range []int{4, 10, 50, 600, 20000} {
		out := downsample(pts, limit)
		runs, hi, lo := 0, math.Inf(-1), math.Inf(1)
		for i, p := range out {
			if p.brk {
				runs++
			}
			if i > 0 && p.t <= out[i-1].t {
				t.Fatalf("limit %d: out of order at %d", limit, i)
			}
			hi, lo = max(hi, p.v), min(lo, p.v)
		}
		if len(out) > limit || len(out) < min(limit, len(pts))/4 {
			t.Errorf("limit %d: %d points", limit, len(out))
		}
		if limit >= 10 && runs != 3 || limit >= 50 && (hi != 9 || lo > -0.999) {
			t.Errorf("limit %d: %d runs, max %v, min %v", limit, runs, hi, lo)
		}
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<a href="x">&'`, "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"},
		{"tab\tnl\nnul\x00esc\x1bdel\x7f", "tab\tnl\nnul\uFFFDesc\uFFFDdel\uFFFD"},
		{"bad\xff\xfeutf8 é \u0085 \uffff", "bad\uFFFD\uFFFDutf8 é \uFFFD \uFFFD"},
	} {
		if got := string(appendEscaped(nil, tc.in)); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFmtValue(t *testing.T) {
	for _, tc := range []struct {
		v, ref, rng float64
		u           unit
		want        string
	}{
		{40, 40, 40, unitPct, "40 %"},
		{15.2413, 15.2413, 0.0021, unitPct, "15.241 %"},
		{1 << 30, 1 << 30, 1 << 30, unitBytes, "1 GiB"},
		{1.5 * (1 << 20), 2 << 20, 1 << 19, unitBytesPerSec, "1.5 MiB/s"},
		{1000, 1000, 1000, unitBytesPerSec, "1000 B/s"},
		{123456, 123456, 100000, unitNone, "123k"},
		{2.5e9, 2.5e9, 1e8, unitNone, "2.5G"},
		{0.78, 0.82, 0.04, unitNone, "0.78"},
		{0, 0, 0, unitNone, "0"},
	} {
		if got := fmtValue(tc.v, tc.u, tc.ref, tc.rng); got != tc.want {
			t.Errorf("%v (%v): %q, want %q", tc.v, tc.u, got, tc.want)
		}
	}
}

// Every table is in a box that scrolls sideways, so that a wide one (the
// agent's figures) does not run past the page (TestReportChromium
// measures the page in Chromium).
func TestTablesScroll(t *testing.T) {
	_, doc := report(t, agentFixture(t), Options{})
	boxed := 0
	for _, d := range doc.all("div") {
		if d.attr["class"] != "tw" {
			continue
		}
		if len(d.kids) != 1 || d.kids[0].name != "table" {
			t.Errorf("a scrolling box holds %d nodes, not one table", len(d.kids))
		}
		boxed++
	}
	if n := len(doc.all("table")); n != boxed || n < 5 {
		t.Errorf("%d tables, %d in a scrolling box", n, boxed)
	}
	if style := doc.all("style")[0].content(); !strings.Contains(style, ".tw{overflow-x:auto;") {
		t.Error("no overflow-x:auto rule for the tables' box")
	}
}
