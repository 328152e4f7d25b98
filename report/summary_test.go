package report

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
)

// agentFixture writes what an agent leaves over two boots. Boot 1: a
// start at a device boot, a reload at 100 s, a pause of the samples from
// 100 to 130 s, a clean stop at 200 s and a start at 260 s, a crash (the
// samples end at 400 s; a start at 500 s says the stop was unclean) and a
// kernel panic at 450 s; rule alarms, repeated events, a watched process
// that restarts twice (pid 100 gone between two samples, 200 stopped
// cleanly) and dies (300), the agent's own figures, a collector off and the
// configuration. Boot 2: a start at its device boot and 60 samples.
// Samples are a second apart; the network's counter resets at 300 s.
func agentFixture(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	f := func(k string, v codec.Value) codec.Field { return codec.Field{Key: k, Value: v} }
	self := func(r *codec.Record, l codec.Level) *codec.Record {
		r.Source, r.Level = catalog.SelfSource, l
		return r
	}
	start := func(boot uint32, s int, deviceBoot, clean bool) *codec.Record {
		return self(rec(boot, s, catalog.AgentStart.Name, f("version", codec.String("test")), f("bootn", codec.Uint(uint64(boot))),
			f("device_boot", codec.Bool(deviceBoot)), f("clean", codec.Bool(clean)), f("pid", codec.Int(1))), codec.LevelNotice)
	}
	itiny := []*codec.Record{
		start(1, 0, true, true),
		self(rec(1, 0, agentConfigName, f(agentConfigKey, codec.String("streams:\n  metrics: 8MiB\n<evil>"))), codec.LevelInfo),
		self(rec(1, 0, collectorOffName, f(collectorOffKey, codec.String("thermal")), f(collectorOffWhy, codec.String("no /sys/class/thermal"))), codec.LevelWarning),
		self(rec(1, 100, catalog.AgentReload.Name), codec.LevelNotice),
		self(rec(1, 200, catalog.AgentStop.Name), codec.LevelNotice),
		start(1, 260, false, true),
		start(1, 500, false, false),
		start(2, 0, true, true),
	}
	var metrics []*codec.Record
	up := func(boot uint32, s int) bool {
		if boot == 2 {
			return s >= 1 && s <= 60
		}
		return s >= 1 && s < 100 || s > 130 && s < 200 || s > 260 && s < 400 || s > 500 && s < 600
	}
	for _, boot := range []uint32{1, 2} {
		for s := 0; s < 600; s++ {
			if !up(boot, s) {
				continue
			}
			rx := int64(1000 * s)
			if boot == 1 && s >= 300 {
				rx = int64(1000 * (s - 300)) // the counter reset: a new interface
			}
			metrics = append(metrics,
				rec(boot, s, catalog.Load.Name, f("load1", codec.Float(float64(s%10)/10)), f("load5", codec.Float(1)), f("load15", codec.Float(0.5))),
				rec(boot, s, catalog.Net.Name, f("iface", codec.String("eth0")), f("rx_bytes", codec.Int(rx)), f("rx_packets", codec.Int(0)),
					f("rx_errs", codec.Int(0)), f("rx_drop", codec.Int(0)), f("tx_bytes", codec.Int(int64(200*s)))))
			if s%20 == 0 {
				for _, st := range []string{"events", "metrics"} {
					metrics = append(metrics, self(rec(boot, s, catalog.StreamStats.Name, f("stream", codec.String(st)), f("available", codec.Bool(true)),
						f("written", codec.Uint(uint64(s))), f("rejected", codec.Uint(0)), f("errors", codec.Uint(0))), codec.LevelInfo))
				}
				metrics = append(metrics, self(rec(boot, s, catalog.IngestPeer.Name, f("peer", codec.String("uid:1000")), f("conns", codec.Int(1)),
					f("accepted", codec.Uint(uint64(s))), f("rejected", codec.Uint(0)), f("dropped", codec.Uint(0))), codec.LevelInfo))
				metrics = append(metrics, self(rec(boot, s, catalog.AgentIO.Name, f("record_bytes", codec.Int(int64(100*s))), f("stored_bytes", codec.Int(int64(100*s))),
					f("framing_bytes", codec.Int(int64(16*s))), f("handed_bytes", codec.Int(int64(232*s))), f("syncs", codec.Int(int64(s))),
					f("other_syncs", codec.Int(1)), f("write_bytes", codec.Int(int64(4096*s))), f("write_error", codec.String(""))), codec.LevelInfo))
			}
		}
	}
	alarm := func(s int, rule, inst string, cleared bool) *codec.Record {
		l := codec.LevelWarning
		if cleared {
			l = codec.LevelNotice
		}
		return self(rec(1, s, "rule."+rule, f("rule", codec.String(rule)), f("instance", codec.String(inst)),
			f("value", codec.Float(97)), f("limit", codec.Float(95)), f("cleared", codec.Bool(cleared))), l)
	}
	lv := func(r *codec.Record, l codec.Level) *codec.Record { r.Level = l; return r }
	events := []*codec.Record{
		alarm(10, "temp", "zone0", true), // fired before the window
		alarm(50, "disk_full", "/data", false),
		alarm(150, "disk_full", "/data", true),
		alarm(300, "load_high", "", false), // ended by the restart at 500
	}
	for s := 11; s <= 51; s += 10 {
		events = append(events, lv(rec(1, s, "app.error", f("n", codec.Int(int64(s)))), codec.LevelErr))
	}
	for s := 12; s <= 32; s += 10 {
		events = append(events, rec(1, s, "app.info"))
	}
	panic := lv(rec(1, 450, catalog.KernelPanic.Name, f("msg", codec.String("Kernel panic - not syncing"))), codec.LevelEmerg)
	panic.Source = catalog.KernelPanic.Source
	// The agent's verdict at boot 2's start: the panic ended boot 1.
	booted := self(rec(2, 0, catalog.DeviceBoot.Name, f("bootn", codec.Uint(2)), f("prev_ended", codec.String(catalog.EndedPanic)),
		f("prev_evidence", codec.String("pstore Panic#1 Part1: Kernel panic - not syncing: Fatal exception")),
		f("prev_last", codec.String("2026-11-25T11:07:30Z")), f("prev_uptime_s", codec.Float(450))), codec.LevelNotice)
	events = append(events, panic, booted, lv(rec(2, 5, "app.error", f("n", codec.Int(1))), codec.LevelErr))
	proc := func(s, restarts, pid, cpu int) *codec.Record {
		r := rec(1, s, catalog.Process.Name, f("process", codec.String("web")), f("running", codec.Bool(true)), f("pid", codec.Int(int64(pid))),
			f("restarts", codec.Uint(uint64(restarts))), f("rss_bytes", codec.Uint(10<<20)), f("cpu_ticks", codec.Uint(uint64(cpu))),
			f("fds", codec.Int(5)), f("state", codec.String("S")))
		r.Source = catalog.Process.Source
		return r
	}
	// Gone: died (warning) or stopped, its pidfile removed (notice), as
	// an agent said before issue 14; or as it says since, how.
	down := func(s, restarts, pid int, l codec.Level, how ...codec.Field) *codec.Record {
		r := lv(rec(1, s, catalog.Process.Name, append([]codec.Field{f("process", codec.String("web")), f("running", codec.Bool(false)), f("pid", codec.Int(int64(pid))),
			f("restarts", codec.Uint(uint64(restarts))), f("rss_bytes", codec.Uint(0)), f("cpu_ticks", codec.Uint(0)),
			f("fds", codec.Int(0)), f("state", codec.String(""))}, how...)...), l)
		r.Source = catalog.Process.Source
		return r
	}
	// pid 100 gone between two samples, 200 stopped (its restarts counted
	// from the agent's start at 260 s, as an agent did before issue 14),
	// 300 killed by SIGSEGV.
	state := []*codec.Record{proc(5, 0, 100, 0), proc(15, 0, 100, 50), proc(25, 1, 200, 10), proc(35, 1, 200, 30),
		proc(270, 0, 200, 40), down(275, 0, 200, codec.LevelNotice), proc(280, 1, 300, 0), proc(290, 1, 300, 100),
		down(295, 1, 300, codec.LevelWarning, f("runtime_s", codec.Float(15)), f("reason", codec.String("killed")),
			f("exit_code", codec.Int(-1)), f("signal", codec.String("SIGSEGV")), f("core", codec.Bool(true)))}
	writeRingSized(t, data, catalog.StreamSelf, codec.JSON, itiny...)
	writeRingSized(t, data, catalog.StreamMetrics, codec.Msgpack, metrics...)
	writeRingSized(t, data, catalog.StreamEvents, codec.JSON, events...)
	writeRingSized(t, data, catalog.StreamState, codec.JSON, state...)
	return data
}

// tableRows returns the text of a table's rows after its heading, cells
// apart by |.
func tableRows(tbl *node) []string {
	var rows []string
	for _, tr := range tbl.all("tr")[1:] {
		var cells []string
		for _, td := range tr.all("td") {
			cells = append(cells, td.content())
		}
		rows = append(rows, strings.Join(cells, "|"))
	}
	return rows
}

// dd returns the text of the summary's item id.
func dd(t *testing.T, doc *node, id string) string {
	t.Helper()
	n := doc.find("id", "sum-"+id)
	if n == nil {
		t.Fatalf("no summary item %q", id)
	}
	return n.content()
}

func TestSummary(t *testing.T) {
	_, doc := report(t, agentFixture(t), Options{})
	for _, tc := range []struct{ id, want string }{
		{"levels", "32 records of the event streams: emerg 1 err 6 warning 4 notice 10 info 11"},
		// At the last record of the run that crashed (the panic at
		// 450 s), not at the start that found it (500 s); the last run
		// wrote no stop, and no agent holds the rings.
		// The last run wrote no stop, and its rings are not of this
		// machine's boot: its end is not known, so it is not counted.
		{"crashes", "1 unclean end of the agent's runs (it crashed or was killed, or the device rebooted or lost power under it), at the last record each wrote: " +
			"2026-11-25 11:07:30 (it crashed or was killed; last record: events kernel.panic; started again 2026-11-25 11:08:20, down at most 50s); 1 kernel panic"},
		{"boots", "2 boots in the rings; 2 agent starts at a device boot in the window: 2026-11-25 11:00:00, 2026-11-25 12:00:00; how they ended: kernel panic 1"},
		// The run that ended at the reboot wrote no stop, but the start
		// at the boot found the rings closed: it stopped.
		{"restarts", "2 starts of the agent within a boot: 2026-11-25 11:04:20 (the run before: stopped; down 1m0s); " +
			"2026-11-25 11:08:20 (the run before: it crashed or was killed; down at most 50s); 2 clean stops; 1 configuration reload"},
		{"alarms", "3 alarms in the window"},
		{"procs", "web: 2 restarts (last 2026-11-25 11:04:40), not running since 2026-11-25 11:04:55 (killed by SIGSEGV, core dumped)"},
		{"kernel", "kernel.panic 1"},
		{"loss", "none: every stream is numbered without a gap"},
	} {
		if got := dd(t, doc, tc.id); got != tc.want {
			t.Errorf("summary %s:\n%q, want\n%q", tc.id, got, tc.want)
		}
	}
	// Boots: how each ended, and the evidence.
	if rows := tableRows(doc.find("id", "boots")); len(rows) != 2 || !strings.Contains(rows[0], "|kernel panic|pstore Panic#1 Part1: Kernel panic - not syncing: Fatal exception") {
		t.Errorf("boots table: %q, want boot 1 ended by the kernel panic, with the evidence", rows)
	}
	if got := dd(t, doc, "sources"); !strings.HasPrefix(got, "itiny ") || !strings.Contains(got, "test 9") || !strings.Contains(got, "kmsg 1") {
		t.Errorf("sources %q", got)
	}
	// Alarms: when each fired and cleared.
	rows := tableRows(doc.find("id", "alarms"))
	want := []string{
		"temp|zone0|notice|before the window|||2026-11-25 11:00:10",
		"disk_full|/data|warning|2026-11-25 11:00:50|97.0|95.0|2026-11-25 11:02:30",
		"load_high||warning|2026-11-25 11:05:00|97.0|95.0|2026-11-25 11:08:20 (the agent's restart)",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("alarms:\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	// Each restart of a watched process: how the one before ended, and
	// the new pid; and the end of the last, which did not come back.
	want = []string{
		"web|100|-|gone between two samples|2026-11-25 11:00:25|200",
		"web|200|2026-11-25 11:04:35|stopped|2026-11-25 11:04:40|300",
		"web|300|2026-11-25 11:04:55|killed by SIGSEGV, core dumped|not restarted|",
	}
	if got := tableRows(doc.find("id", "proc-restarts")); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("process restarts:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The summary's loss and verdicts are verify's words: exact counts, lost
// apart from possibly lost and skipped.
func TestSummaryLoss(t *testing.T) {
	data := reportFixture(t)
	_, doc := report(t, data, Options{})
	in, err := view.Open([]string{data})
	if err != nil {
		t.Fatal(err)
	}
	var wantLoss, wantVerdicts []string
	for _, s := range in.Sources {
		h, err := view.Check(s)
		if err != nil {
			t.Fatal(err)
		}
		wantVerdicts = append(wantVerdicts, h.Verdict()+" "+h.Stream+" "+h.Where)
		if h.LossText() != "none" {
			wantLoss = append(wantLoss, h.Stream+": "+h.LossText())
		}
	}
	if got := dd(t, doc, "loss"); got != strings.Join(wantLoss, "") || got != "metrics: 1 record lost" {
		t.Errorf("loss %q, want %q", got, wantLoss)
	}
	if got := dd(t, doc, "verify"); got != strings.Join(wantVerdicts, "") || !strings.Contains(got, "CORRUPT: 1 problem metrics") {
		t.Errorf("verify %q, want %q", got, wantVerdicts)
	}
}

// Repeats are one row with their count and first and last times; the
// agent's own figures are not events but have their table.
func TestEventGroups(t *testing.T) {
	_, doc := report(t, agentFixture(t), Options{})
	rows := eventRows(doc.find("id", "events"))
	got := map[string][]string{}
	var order []string
	for _, r := range rows {
		got[r[6]+" "+r[4]] = r
		order = append(order, r[4])
	}
	if r := got["app.error err"]; r == nil || r[0] != "6" || r[1] != "2026-11-25 11:00:11.000" || r[2] != "2026-11-25 12:00:05.000" || r[7] != "n=1" {
		t.Errorf("app.error: %q", r)
	}
	if r := got["app.info info"]; r == nil || r[0] != "3" {
		t.Errorf("app.info: %q", r)
	}
	for _, name := range []string{catalog.StreamStats.Name, catalog.IngestPeer.Name, catalog.AgentIO.Name} {
		for _, r := range rows {
			if r[6] == name {
				t.Errorf("%s in the events", name)
			}
		}
		tbl := doc.find("id", "self-"+name)
		if tbl == nil {
			t.Fatalf("no table of %s", name)
		}
		if n := len(tbl.all("tr")) - 1; n != map[string]int{catalog.StreamStats.Name: 2, catalog.IngestPeer.Name: 1, catalog.AgentIO.Name: 1}[name] {
			t.Errorf("%s: %d rows", name, n)
		}
		if td := tbl.all("td"); name == catalog.AgentIO.Name && (len(td) < 1 || td[0].content() != "all") {
			t.Errorf("%s: the agent's row is not named all", name)
		}
	}
	// Most severe first.
	rank := map[string]int{}
	for i, l := range []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"} {
		rank[l] = i
	}
	for i := 1; i < len(order); i++ {
		if rank[order[i]] < rank[order[i-1]] {
			t.Errorf("events out of order: %q", order)
		}
	}
	if order[0] != "emerg" || order[len(order)-1] != "info" {
		t.Errorf("levels %q", order)
	}
	// The collectors off and the configuration.
	if c := doc.find("id", "collectors-off").content(); !strings.Contains(c, "thermalno /sys/class/thermal1") {
		t.Errorf("collectors off: %q", c)
	}
	if c := doc.find("id", "config").content(); c != "streams:\n  metrics: 8MiB\n<evil>" {
		t.Errorf("config: %q", c)
	}
}

// The level filter works by CSS alone: each radio button precedes the
// level tables as their sibling, and its :checked rule hides exactly the
// tables of the less severe levels.
func TestLevelFilter(t *testing.T) {
	html, doc := report(t, agentFixture(t), Options{})
	if strings.Contains(strings.ToLower(html), "<script") {
		t.Fatal("a script in the report")
	}
	ev := doc.find("id", "events")
	var radios []string
	tables := map[int]bool{}
	for _, k := range ev.kids {
		switch {
		case k.name == "input":
			if len(tables) > 0 {
				t.Errorf("radio %s after a table: ~ cannot reach it", k.attr["id"])
			}
			if k.attr["type"] != "radio" || k.attr["name"] != "lvf" {
				t.Errorf("input %v", k.attr)
			}
			radios = append(radios, k.attr["id"])
		case k.name == "div" && strings.HasPrefix(k.attr["class"], "lvt "):
			l, err := strconv.Atoi(strings.TrimPrefix(k.attr["class"], "lvt lvt"))
			if err != nil {
				t.Fatal(err)
			}
			tables[l] = true
			for _, r := range eventRows(k) {
				if r[4] != codec.Level(l).String() {
					t.Errorf("a %s row in the table of %s", r[4], codec.Level(l))
				}
			}
		}
	}
	if len(tables) != 5 {
		t.Errorf("tables of levels %v", tables)
	}
	style := doc.all("style")[0].content()
	wants := map[string]codec.Level{"lv-all": codec.LevelDebug, "lv-5": codec.LevelNotice, "lv-4": codec.LevelWarning, "lv-3": codec.LevelErr, "lv-2": codec.LevelCrit}
	if len(radios) != len(wants) {
		t.Errorf("radios %q", radios)
	}
	for _, id := range radios {
		hidden := map[int]bool{}
		for _, m := range regexp.MustCompile(`#`+id+`:checked~\.lvt(\d)`).FindAllStringSubmatch(style, -1) {
			l, _ := strconv.Atoi(m[1])
			hidden[l] = true
		}
		for l := 0; l <= 7; l++ {
			if hidden[l] != (l > int(wants[id])) {
				t.Errorf("%s: level %d hidden %v", id, l, hidden[l])
			}
		}
		if doc.find("for", id) == nil {
			t.Errorf("no label for %s", id)
		}
	}
	if !regexp.MustCompile(`#lv-3:checked~\.lvt4,[^{]*\{display:none\}`).MatchString(style) {
		t.Error("no display:none rule")
	}
}

// Lines break at the agent's starts and across a pause of the samples;
// markers stand where the crash, the alarms and the events were.
func TestMarkersAndBreaks(t *testing.T) {
	_, doc := report(t, agentFixture(t), Options{})
	figs := figures(t, doc)
	load := figs["load average"]
	if load == nil {
		t.Fatal("no load chart")
	}
	// Boot 1: 1-99, 131-199 (the pause), 261-399 (the restart), 501-599
	// (the crash's start); boot 2.
	runs := subpaths(t, load.paths[0].d)
	if len(runs) != 5 {
		t.Fatalf("load1: %d runs, want 5", len(runs))
	}
	var crash *markInfo
	kinds := map[string]int{}
	for i, m := range load.marks {
		kinds[m.class]++
		if more := regexp.MustCompile(`\(and (\d+) more\)$`).FindStringSubmatch(m.title); more != nil {
			n, _ := strconv.Atoi(more[1])
			kinds[m.class] += n
		}
		if m.class == "mk mk-crash" && strings.Contains(m.title, "crashed or was killed") {
			crash = &load.marks[i]
		}
	}
	if crash == nil {
		t.Fatalf("no crash marker: %v", load.marks)
	}
	// The crash is at the crashed run's last record (the panic at 450
	// s): after the third line's end (399 s), before the fourth's start
	// (501 s), and the restart (500 s) is in its tooltip.
	end3, start4 := runs[2][len(runs[2])-1], runs[3][0]
	at450 := end3 + (start4-end3)*(450-399)/(501-399)
	if math.Abs(crash.x-at450) > 1 {
		t.Errorf("crash marker at x=%v, want %v (between %v and %v)", crash.x, at450, end3, start4)
	}
	if !strings.HasPrefix(crash.title, "2026-11-25 11:07:30.000 agent: it crashed or was killed; last record: events kernel.panic; started again 2026-11-25 11:08:20, down at most 50s") {
		t.Errorf("crash marker %q", crash.title)
	}
	// Markers of a kind within two pixels are one, with a count.
	for class, n := range map[string]int{"mk mk-crash": 2, "mk mk-alarm": 2, "mk mk-alarm-cleared": 2, "mk mk-agent-restart": 1, "mk mk-err-or-worse": 6} {
		if kinds[class] != n {
			t.Errorf("%d markers %q, want %d (%v)", kinds[class], class, n, kinds)
		}
	}
}

// subpaths returns the x coordinates of each subpath (an M and the Ls
// after it) of an SVG path.
func subpaths(t *testing.T, d string) [][]float64 {
	t.Helper()
	var runs [][]float64
	for _, m := range regexp.MustCompile(`([ML])([-0-9.]+) ([-0-9.]+)`).FindAllStringSubmatch(d, -1) {
		x, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		if m[1] == "M" {
			runs = append(runs, nil)
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], x)
	}
	return runs
}

// A counter that resets (a new interface, a restarted process) never
// shows as a negative or huge rate.
func TestCounterReset(t *testing.T) {
	_, doc := report(t, agentFixture(t), Options{})
	figs := figures(t, doc)
	for title, want := range map[string]string{
		"network eth0: bytes/s":              "rx: min 1000 B/s, max 1000 B/s, last 1000 B/s",
		"watched processes: resident memory": "web: min 10.0 MiB, max 10.0 MiB",
		// pid 100: 50 ticks in 10 s; pid 200: 20 in 10 s; pid 300: 100 in 10 s.
		"watched processes: CPU (100 % is one CPU)": "web: min 2.0 %, max 10.0 %, last 10.0 %",
	} {
		f := figs[title]
		if f == nil {
			t.Errorf("no chart %q", title)
			continue
		}
		if !strings.Contains(f.legend, want) {
			t.Errorf("%q: legend %q, want %q", title, f.legend, want)
		}
	}
	if l := figs["network eth0: bytes/s"].legend; !strings.Contains(l, "tx: min 200 B/s, max 200 B/s") {
		t.Errorf("tx: %q", l)
	}
}

func TestTimeTicks(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	for _, tc := range []struct {
		from, to string
		loc      *time.Location
		want     string
	}{
		{"2026-11-25 13:00:00", "2026-11-25 13:00:39", time.UTC, "13:00:00 13:00:10 13:00:20 13:00:30"},
		{"2026-11-25 13:00:07", "2026-11-25 13:59:00", time.UTC, "13:10 13:20 13:30 13:40 13:50"},
		// In the zone's wall time, half an hour ahead.
		{"2026-11-25 13:00:07", "2026-11-25 13:59:00", time.FixedZone("H", 1800), "13:40 13:50 14:00 14:10 14:20"},
		// Midnight has the date.
		{"2026-11-25 10:00:00", "2026-11-26 09:00:00", time.UTC, "12:00 18:00 11-26 06:00"},
		{"2026-11-01 00:00:00", "2026-11-25 00:00:00", time.UTC, "11-05 11-12 11-19"},
	} {
		ticks, layout := timeTicks(at(tc.from), at(tc.to), tc.loc)
		var got []string
		for _, x := range ticks {
			got = append(got, string(appendTick(nil, x, tc.loc, layout)))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s to %s: %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
}

// The summary's counts say one thing in the singular.
func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 boots"}, {1, "1 boot"}, {2, "2 boots"}, {-1, "-1 boots"}} {
		if got := plural(tc.n, "boot", "boots"); got != tc.want {
			t.Errorf("plural(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// The summary's runs are those of the window: a crash by its last
// record, a restart by its start.
func TestSummaryRunsWindow(t *testing.T) {
	_, doc := report(t, agentFixture(t), Options{Since: t0.Add(time.Hour + 480*time.Second), Until: t0.Add(2 * time.Hour)})
	for _, tc := range []struct{ id, want string }{
		{"crashes", "0 unclean ends of the agent's runs (it crashed or was killed, or the device rebooted or lost power under it), at the last record each wrote"},
		{"restarts", "1 start of the agent within a boot: 2026-11-25 11:08:20 (the run before: it crashed or was killed; down at most 50s); 1 clean stop; 0 configuration reloads"},
	} {
		if got := dd(t, doc, tc.id); got != tc.want {
			t.Errorf("summary %s:\n%q, want\n%q", tc.id, got, tc.want)
		}
	}
}
