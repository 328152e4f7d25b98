package agent

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
)

// runAgent starts an agent with its ingest socket and returns it, the
// socket path and a stop function.
func runAgent(t *testing.T, extra string) (*Agent, string, func()) {
	t.Helper()
	cfg := testConfig(t, extra)
	cfg.Socket = "itiny.sock"
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	path := filepath.Join(cfg.Data, "itiny.sock")
	waitExists(t, path)
	// The socket exists a moment before Run publishes its server.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		a.mu.Lock()
		in := a.ingest
		a.mu.Unlock()
		if in != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no ingest server a minute after the socket appeared")
		}
	}
	return a, path, func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		a.Close()
	}
}

func TestIngest(t *testing.T) {
	a, path, stop := runAgent(t, "max_record = 1KiB\n")
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want 0660", st.Mode().Perm())
	}
	start := time.Now()
	good := codec.Record{Source: "appd", Name: "started", Level: codec.LevelNotice, Fields: codec.Fields{{Key: "nan", Value: codec.Float(math.NaN())}}}
	seq, err := c.Send(&good)
	if err != nil || seq == 0 {
		t.Fatalf("good record: seq %d, %v", seq, err)
	}
	msgp, _ := codec.Msgpack.Append(nil, &good)
	for _, tc := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"truncated msgpack", msgp[:len(msgp)-4], "bad msgpack record"},
		{"oversized", append([]byte(`{"name":"big","fields":{"x":"`), append([]byte(strings.Repeat("x", 2000)), `"}}`...)...), "larger than max_record"},
		{"invalid UTF-8", []byte("{\"name\":\"a\xff\"}"), "not valid UTF-8"},
		{"wrong type", []byte(`{"seq":"seven","name":"x"}`), `"seq": want an integer`},
		{"null value", []byte(`{"name":"x","fields":{"a":null}}`), "invalid value: null"},
		{"unknown stream", []byte(`{"stream":"nosuch","name":"x"}`), `unknown stream "nosuch"`},
		{"reserved stream", []byte(`{"stream":"itiny","name":"x"}`), `unknown stream "itiny"`},
		{"reserved key", []byte(`{"name":"x","fields":{"$k":1}}`), "reserved"},
		{"the ring's own src", []byte(`{"name":"ring.resume","src":"ringlog","fields":{"after":1,"loss":"none"}}`), "src ringlog is the ring's own"},
		{"garbage", []byte{0xc1, 0xc1, 0xc1}, "bad msgpack record"},
		{"invalid UTF-8 in msgpack", []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xa2, 'a', 0xff}, "not valid UTF-8"},
	} {
		if _, err := c.SendRaw(tc.msg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	// The agent still takes good records on the same connection.
	if _, err := c.SendRaw([]byte(`{"name":"after","src":"appd"}`)); err != nil {
		t.Fatalf("after bad records: %v", err)
	}
	stop()
	ev := readStream(t, a.cfg.Data, StreamEvents)
	got := strings.Join(names(ev), " ")
	if got != "device.boot started after" {
		t.Fatalf("events: %s", got)
	}
	// Records without a wall time are stamped: Go's zero time in
	// MessagePack, a missing key (1970) in JSON.
	for _, r := range ev[1:] {
		if r.Wall.Before(start) {
			t.Errorf("%s: wall %v, not stamped", r.Name, r.Wall)
		}
	}
	if !math.IsNaN(field(ev[1], "nan").Float()) {
		t.Errorf("NaN did not survive: %v", field(ev[1], "nan"))
	}
	var rejected uint64
	for _, st := range a.ingest.stats() {
		rejected += st.rejected
	}
	// The decoders drop every record that breaks a rule (FORMAT.md 4);
	// only the ring's own src reaches a stream to be counted there.
	if rejected != 11 || a.streams[StreamEvents].rejected.Load() != 1 {
		t.Errorf("counted %d rejections (%d invalid for events), want 11 (1)", rejected, a.streams[StreamEvents].rejected.Load())
	}
}

// TestIngestFlood: a source over its rate limit is dropped and told so,
// the drop is counted and written as an event once it is let through
// again, and other sources are not affected. The rate limit's clock
// stands still but where the test moves it.
func TestIngestFlood(t *testing.T) {
	a, path, stop := runAgent(t, "rate_limit = 20\n")
	var now atomic.Int64 // read by the agent's goroutines, set by the test
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	a.mu.Lock()
	in := a.ingest
	a.mu.Unlock()
	in.mu.Lock()
	in.now = func() time.Time { return time.Unix(0, now.Load()) }
	in.mu.Unlock()
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	var ok, limited int
	for i := 0; i < 200; i++ {
		_, err := c.SendRaw([]byte(`{"name":"spam","src":"noisy"}`))
		switch {
		case err == nil:
			ok++
		case strings.Contains(err.Error(), "rate limited"):
			limited++
		default:
			t.Fatal(err)
		}
	}
	if ok != 20 || limited != 180 {
		t.Fatalf("%d accepted, %d limited; want the burst of 20 accepted", ok, limited)
	}
	if _, err := c.SendRaw([]byte(`{"name":"calm","src":"quiet"}`)); err != nil {
		t.Fatalf("another source: %v", err)
	}
	now.Add(int64(40 * time.Millisecond)) // 0.8 of a token at 20/s
	if _, err := c.SendRaw([]byte(`{"name":"spam","src":"noisy"}`)); err == nil || !strings.Contains(err.Error(), "rate limited") {
		t.Fatalf("before a token refilled: %v", err)
	}
	limited++
	now.Add(int64(25 * time.Millisecond)) // 1.3 tokens
	if _, err := c.SendRaw([]byte(`{"name":"spam","src":"noisy"}`)); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	c.Close()
	stop()
	var dropped uint64
	for _, r := range readStream(t, a.cfg.Data, StreamEvents) {
		if r.Name == "ingest.dropped" && field(r, "source").Str() == "noisy" {
			dropped += field(r, "dropped").Uint()
		}
	}
	if dropped != uint64(limited) {
		t.Fatalf("ingest.dropped events count %d, %d were limited", dropped, limited)
	}
}

func TestNoAgent(t *testing.T) {
	_, err := Dial(filepath.Join(t.TempDir(), "itiny.sock"))
	if err == nil || !strings.Contains(err.Error(), "no agent is listening") {
		t.Fatalf("%v", err)
	}
}

func TestParseSyslog(t *testing.T) {
	for _, tc := range []struct {
		in, src, msg, fac string
		level             codec.Level
	}{
		{"<30>Nov 24 23:00:01 appd[123]: link up", "appd", "link up", "daemon", codec.LevelInfo},
		{"<11>appd: disk failed", "appd", "disk failed", "user", codec.LevelErr},
		{"<165>1 2026-11-24T23:00:00Z host app 42 ID47 - hello there", "app", "hello there", "local4", codec.LevelNotice},
		{"<13>just a message without tag", "syslog", "just a message without tag", "user", codec.LevelNotice},
		{"<14>bad \xff utf8: x", "syslog", "bad \uFFFD utf8: x", "user", codec.LevelInfo},
	} {
		var r codec.Record
		if err := parseSyslog([]byte(tc.in), &r); err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if r.Source != tc.src || field(r, "msg").Str() != tc.msg || field(r, "facility").Str() != tc.fac || r.Level != tc.level {
			t.Errorf("%q: got %s %q %s %v", tc.in, r.Source, field(r, "msg").Str(), field(r, "facility").Str(), r.Level)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%q: %v", tc.in, err)
		}
	}
	for _, bad := range []string{"", "no pri", "<999>x", "<x>y", "<1"} {
		var r codec.Record
		if err := parseSyslog([]byte(bad), &r); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzIngest feeds arbitrary messages to the ingest path: never a panic,
// and what is accepted is a valid record.
func FuzzIngest(f *testing.F) {
	good := codec.Record{Source: "appd", Name: "x", Fields: codec.Fields{{Key: "a", Value: codec.Int(1)}}}
	m, _ := codec.Msgpack.Append(nil, &good)
	j, _ := codec.JSON.Append(nil, &good)
	f.Add(m)
	f.Add(j)
	f.Add([]byte(`{"stream":"state","name":"s","fields":{"l":[1,2,{"k":"v"}]}}`))
	cfg, err := ParseConfig("fuzz", "socket =")
	if err != nil {
		f.Fatal(err)
	}
	for _, col := range cfg.Collectors {
		col.Enabled = false
	}
	cfg.Data = f.TempDir()
	a, err := New(cfg, Options{})
	if err != nil {
		f.Fatal(err)
	}
	in := &ingest{a: a, sources: map[string]*sourceStats{}}
	var rec codec.Record
	var buf []byte
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) == 0 {
			return
		}
		// handle may write to the message (JSON is unescaped in place), as
		// to serve's receive buffer, and the fuzzer's input is read-only.
		buf = append(buf[:0], msg...)
		if _, why := in.handle(buf, false, &rec, "pid:1"); why == "" {
			if err := rec.Validate(); err != nil {
				t.Fatalf("accepted an invalid record: %v", err)
			}
		}
	})
}

// benchAgent runs an agent with its socket and no collectors or rate
// limit for the length of a benchmark, and returns a client of it.
func benchAgent(b *testing.B) *Client {
	cfg, _ := ParseConfig("b", "socket = itiny.sock\nrate_limit = 1000000000\n")
	for _, col := range cfg.Collectors {
		col.Enabled = false
	}
	cfg.Data = b.TempDir()
	a, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go a.Run(ctx)
	path := filepath.Join(cfg.Data, "itiny.sock")
	var c *Client
	for i := 0; i < 200 && c == nil; i++ {
		c, _ = Dial(path)
		time.Sleep(5 * time.Millisecond)
	}
	if c == nil {
		b.Fatal("the agent's socket did not answer")
	}
	b.Cleanup(func() { c.Close(); cancel(); a.Close() })
	return c
}

// BenchmarkIngestRoundTrip sends a record over the socket and waits for
// its acknowledgement: what one component pays per record.
func BenchmarkIngestRoundTrip(b *testing.B) {
	c := benchAgent(b)
	rec := codec.Record{Source: "appd", Name: "req", Level: codec.LevelInfo, Fields: codec.Fields{{Key: "ms", Value: codec.Float(1.5)}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Send(&rec); err != nil {
			b.Fatal(err)
		}
	}
}

// loadgenRecord is the 10-field record bench/footprint/loadgen sends.
func loadgenRecord() *codec.Record {
	return &codec.Record{Stream: StreamEvents, Source: "loadgen-3", Level: codec.LevelInfo, Name: "app.request",
		Fields: codec.Fields{
			{Key: "latency_ms", Value: codec.Float(12.5)}, {Key: "cpu_pct", Value: codec.Float(3.96)},
			{Key: "mem_mb", Value: codec.Float(140.5)}, {Key: "temp_c", Value: codec.Float(42.25)},
			{Key: "rx_bytes", Value: codec.Uint(1500000)}, {Key: "tx_bytes", Value: codec.Uint(420000)},
			{Key: "queue_delta", Value: codec.Int(-3)}, {Key: "retries", Value: codec.Int(1)},
			{Key: "route", Value: codec.String("/api/v1/status")}, {Key: "n", Value: codec.Uint(1000)},
		}}
}

// ingestMessages returns ingest messages to each stream, in both codecs.
func ingestMessages(t testing.TB) map[string][]byte {
	msgs := map[string][]byte{}
	for _, stream := range []string{StreamEvents, StreamState, StreamMetrics} {
		r := loadgenRecord()
		r.Stream = stream
		for _, c := range []codec.Codec{codec.Msgpack, codec.JSON} {
			b, err := c.Append(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			msgs[stream+"/"+c.String()] = b
		}
	}
	// Escaped JSON strings are unescaped in place, without allocating.
	msgs["events/json-escapes"] = []byte(`{"src":"app\/d","name":"a \"quoted\"\nline","fields":{"k\u00e9y":"\ud83d\ude00","n":1}}`)
	return msgs
}

// handleBench returns an agent's ingest with collectors off, no socket
// and no rate limit in effect, for calling handle directly.
func handleBench(t testing.TB) *ingest {
	cfg, err := ParseConfig("b", "socket =\nrate_limit = 1000000000\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range cfg.Collectors {
		col.Enabled = false
	}
	cfg.Data = t.TempDir()
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &ingest{a: a, sources: map[string]*sourceStats{}}
}

// TestIngestZeroAllocs: decoding, validating and storing a record from
// the socket allocates nothing, in either codec and to any stream.
func TestIngestZeroAllocs(t *testing.T) {
	in := handleBench(t)
	for name, msg := range ingestMessages(t) {
		buf := make([]byte, len(msg))
		var rec codec.Record
		run := func() {
			copy(buf, msg) // as serve's Read does
			if _, why := in.handle(buf, false, &rec, "pid:1"); why != "" {
				t.Fatalf("%s: %s", name, why)
			}
		}
		run()
		if n := testing.AllocsPerRun(500, run); n != 0 {
			t.Errorf("%s: %v allocations per record", name, n)
		}
	}
	// The strings the agent keeps are copies: a source's rate accounting
	// survives the receive buffer being overwritten.
	buf := []byte(`{"src":"keepme","name":"x"}`)
	var rec codec.Record
	if _, why := in.handle(buf, false, &rec, "pid:1"); why != "" {
		t.Fatal(why)
	}
	copy(buf, `{"src":"XXXXXX","name":"y"}`)
	if st := in.stats()["keepme"]; st.accepted != 1 {
		t.Errorf("source keepme: %+v after its buffer was reused; sources %v", st, in.stats())
	}
}

// TestIngestRuleInstanceCopied: a rule's instance, taken from an ingested
// record, is a copy, not a view of the receive buffer.
func TestIngestRuleInstanceCopied(t *testing.T) {
	in := handleBench(t)
	in.a.rules.Store(newRuleSet([]RuleConfig{{Name: "full", Record: "disk", Field: "used", Limit: 90, Clear: 85, Above: true, For: 3, Level: codec.LevelWarning}}))
	buf := []byte(`{"name":"disk","fields":{"mount":"/data","used":95}}`)
	var rec codec.Record
	if _, why := in.handle(buf, false, &rec, "pid:1"); why != "" {
		t.Fatal(why)
	}
	copy(buf, `{"name":"disk","fields":{"mount":"/XXXX","used":95}}`)
	r := in.a.rules.Load().rules[0]
	if st := r.inst["/data"]; st == nil || st.count != 1 {
		t.Errorf("instance /data: %+v after its buffer was reused; instances %v", st, r.inst)
	}
}

// BenchmarkIngestHandle is the server's side of a record: decode (views
// of the receive buffer, no copies), validate, rate-limit and append to
// the ring. 0 allocs/op.
func BenchmarkIngestHandle(b *testing.B) {
	msgs := ingestMessages(b)
	for _, name := range []string{"events/msgpack", "events/json", "metrics/msgpack"} {
		b.Run(strings.ReplaceAll(name, "/", "-"), func(b *testing.B) {
			in := handleBench(b)
			msg := msgs[name]
			buf := make([]byte, len(msg))
			var rec codec.Record
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, msg)
				if _, why := in.handle(buf, false, &rec, "pid:1"); why != "" {
					b.Fatal(why)
				}
			}
		})
	}
}

// BenchmarkIngestServer sends the loadgen record over the socket with a
// client that allocates nothing itself (raw read and write on its
// descriptor), so allocs/op, counted over the whole process, is the
// agent's: its serve loop, handle and the ring.
func BenchmarkIngestServer(b *testing.B) {
	c := benchAgent(b)
	fd := int(c.f.Fd())
	msg, _ := codec.Msgpack.Append(nil, loadgenRecord())
	ack := make([]byte, 64)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := syscall.Write(fd, msg); err != nil {
			b.Fatal(err)
		}
		n, err := syscall.Read(fd, ack)
		if err != nil || n < 3 || string(ack[:3]) != "ok " {
			b.Fatalf("ack %q, %v", ack[:max(n, 0)], err)
		}
	}
}

func TestLookupGroup(t *testing.T) {
	if gid, err := lookupGroup("root"); err != nil || gid != 0 {
		t.Errorf("root: %d, %v", gid, err)
	}
	if gid, err := lookupGroup("1234"); err != nil || gid != 1234 {
		t.Errorf("1234: %d, %v", gid, err)
	}
	if _, err := lookupGroup("no-such-group-here"); err == nil || !strings.Contains(err.Error(), `no group "no-such-group-here"`) {
		t.Errorf("missing group: %v", err)
	}
}

// TestSyslogListener sends datagrams as syslog(3) does and finds them in
// the events stream.
func TestSyslogListener(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	a, _, stop := runAgent(t, "syslog = "+sock+"\n")
	waitExists(t, sock)
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	for _, m := range []string{"<11>appd[42]: disk failed", "<14>Nov 24 23:00:01 cron[7]: job done", "garbage without pri"} {
		if err := syscall.Sendto(fd, []byte(m), 0, &syscall.SockaddrUnix{Name: sock}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for len(got) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = got[:0]
		for _, r := range readStream(t, a.cfg.Data, StreamEvents) {
			if r.Name == "syslog" {
				got = append(got, r.Source+"/"+r.Level.String()+"/"+field(r, "msg").Str())
			}
		}
	}
	stop()
	if strings.Join(got, "|") != "appd/err/disk failed|cron/info/job done" {
		t.Fatalf("syslog records: %q", got)
	}
}

// waitExists waits for the agent to create the socket p.
func waitExists(t *testing.T, p string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not created in 10 s", p)
		}
	}
}

// TestClockStep: the wall clock moving away from the monotonic clock by
// more than clock_step is an event; small drift is not.
func TestClockStep(t *testing.T) {
	cfg := testConfig(t, "clock_step = 2s\n")
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a.checkClock(now) // baseline
	a.checkClock(now.Add(500 * time.Millisecond))
	a.checkClock(time.Now().Add(-3 * time.Hour)) // stepped back
	a.Close()
	var steps []float64
	for _, r := range readStream(t, cfg.Data, StreamEvents) {
		if r.Name == "clock.step" {
			steps = append(steps, field(r, "step_s").Float())
		}
	}
	if len(steps) != 1 || steps[0] > -3*3600+10 || steps[0] < -3*3600-10 {
		t.Fatalf("clock.step events: %v, want one of about -10800 s", steps)
	}
}
