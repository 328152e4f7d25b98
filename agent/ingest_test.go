package agent

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/hostile"
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
	bad := []struct {
		name string
		msg  []byte
		want string
	}{
		{"empty", []byte{}, "empty message"},
		{"truncated msgpack", msgp[:len(msgp)-4], "bad msgpack record"},
		{"oversized", append([]byte(`{"name":"big","fields":{"x":"`), append([]byte(strings.Repeat("x", 2000)), `"}}`...)...), "larger than max_record"},
		{"invalid UTF-8", []byte("{\"name\":\"a\xff\"}"), "not valid UTF-8"},
		{"wrong type", []byte(`{"seq":"seven","name":"x"}`), `"seq": want an integer`},
		{"null value", []byte(`{"name":"x","fields":{"a":null}}`), "invalid value: null"},
		{"unknown stream", []byte(`{"stream":"nosuch","name":"x"}`), `unknown stream "nosuch"`},
		{"reserved stream", []byte(`{"stream":"itiny","name":"x"}`), `unknown stream "itiny"`},
		{"reserved key", []byte(`{"name":"x","fields":{"$k":1}}`), "reserved"},
		{"the ring's own src", []byte(`{"name":"ring.resume","src":"ringlog","fields":{"after":1,"loss":"none"}}`), "src ringlog is reserved"},
		{"the agent's own src", []byte(`{"name":"agent.start","src":"itiny"}`), "src itiny is reserved"},
		{"long src", []byte(`{"name":"x","src":"` + strings.Repeat("s", maxSrcLen+1) + `"}`), "src longer than 256 bytes"},
		{"garbage", []byte{0xc1, 0xc1, 0xc1}, "bad msgpack record"},
		{"invalid UTF-8 in msgpack", []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xa2, 'a', 0xff}, "not valid UTF-8"},
	}
	for _, tc := range bad {
		if _, err := c.SendRaw(tc.msg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	// The agent still takes good records on the same connection. A
	// sender's times are not the record's: the agent stamps its own at
	// receipt (a mono of 2^63-1 once sorted a stream after agent.stop).
	if _, err := c.SendRaw([]byte(`{"name":"after","src":"appd","wall":"2999-01-01T00:00:00.000000000Z","mono":9223372036854775807,"boot":"00000000000000000000000000000001"}`)); err != nil {
		t.Fatalf("after bad records: %v", err)
	}
	// A record that names no src is its sender's user's; one that names
	// no level is info, in either codec, not emerg (level 0) as in a
	// ring; one that says emerg is.
	for _, msg := range [][]byte{[]byte(`{"name":"anonymous"}`), {0x81, 0xa4, 'n', 'a', 'm', 'e', 0xa3, 'r', 'a', 'w'}, []byte(`{"name":"urgent","level":"emerg"}`)} {
		if _, err := c.SendRaw(msg); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now()
	stop()
	ev := readStream(t, a.cfg.Data, StreamEvents)
	if got := strings.Join(names(ev), " "); got != "device.boot started after anonymous raw urgent" {
		t.Fatalf("events: %s", got)
	}
	if ev[3].Level != codec.LevelInfo || ev[4].Level != codec.LevelInfo || ev[5].Level != codec.LevelEmerg {
		t.Errorf("levels %v %v %v; want info for the records without one, emerg for the one that said so", ev[3].Level, ev[4].Level, ev[5].Level)
	}
	for _, r := range ev[1:] {
		if r.Wall.Before(start) || r.Wall.After(end) || r.Mono <= ev[0].Mono || r.Mono > ev[len(ev)-1].Mono || r.Boot != a.boot {
			t.Errorf("%s: wall %v mono %d boot %x: not the agent's at receipt", r.Name, r.Wall, r.Mono, r.Boot)
		}
	}
	if src, want := ev[3].Source, fmt.Sprintf("uid:%d", os.Getuid()); src != want {
		t.Errorf("a record without src has src %q, want %q", src, want)
	}
	if !math.IsNaN(field(ev[1], "nan").Float()) {
		t.Errorf("NaN did not survive: %v", field(ev[1], "nan"))
	}
	peers, _ := a.peers.sweep(false)
	if len(peers) != 1 || peers[0].rejected != uint64(len(bad)) || peers[0].accepted != 5 {
		t.Errorf("peers %+v, want one with %d rejected and 5 accepted", peers, len(bad))
	}
}

// setClock makes the rate limit use a clock that stands still but where
// the test moves it, and returns the function that moves it.
func setClock(a *Agent) func(time.Duration) {
	var now atomic.Int64 // read by the agent's goroutines, set by the test
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	a.peers.mu.Lock()
	a.peers.now = func() time.Time { return time.Unix(0, now.Load()) }
	a.peers.mu.Unlock()
	return func(d time.Duration) { now.Add(int64(d)) }
}

// TestIngestFlood: the rate limit is the sending user's, whatever src
// names it writes; a message over it is dropped and told so; the drops
// are counted and reported in at most one ingest.dropped event a minute,
// with their number and span; the stats name users, never a src.
func TestIngestFlood(t *testing.T) {
	a, path, stop := runAgent(t, "rate_limit = 20\n")
	advance := setClock(a)
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	send := func(src string) bool {
		_, err := c.SendRaw([]byte(`{"name":"spam","src":"` + src + `"}`))
		if err != nil && !strings.Contains(err.Error(), "rate limited") {
			t.Fatal(err)
		}
		if err == nil {
			accepted++
		}
		return err == nil
	}
	var ok, limited int
	for i := 0; i < 200; i++ {
		// A new name each time: names get no bucket of their own.
		if send(fmt.Sprintf("junk-%d-%s", i, strings.Repeat("x", 200))) {
			ok++
		} else {
			limited++
		}
	}
	if ok != 20 || limited != 180 {
		t.Fatalf("%d accepted, %d limited; want the burst of 20 accepted", ok, limited)
	}
	advance(40 * time.Millisecond) // 0.8 of a token at 20/s
	if send("quiet") {
		t.Fatal("taken before a token refilled")
	}
	limited++
	advance(25 * time.Millisecond) // 1.3 tokens
	if !send("quiet") {
		t.Fatal("not taken after the refill")
	}
	// A minute on, the next message reports the drops since the first.
	advance(dropReportEvery)
	for send("noisy") {
	}
	limited++
	a.writeStats()
	c.Close()
	stop()
	var reports []codec.Record
	var dropped uint64
	for _, r := range readStream(t, a.cfg.Data, StreamEvents) {
		if r.Name == "ingest.dropped" {
			reports = append(reports, r)
			dropped += field(r, "dropped").Uint()
		}
	}
	// The first drop at once, the next 181 a minute on, the last at close.
	if len(reports) != 3 || dropped != uint64(limited) {
		t.Fatalf("%d ingest.dropped events counting %d; %d were limited", len(reports), dropped, limited)
	}
	user := fmt.Sprintf("uid:%d", os.Getuid())
	if r := reports[1]; field(r, "peer").Str() != user || field(r, "dropped").Uint() != 180 || field(r, "span_s").Float() != 0.04 {
		t.Errorf("second report %v, want %s: 180 dropped over 0.04 s", r.Fields, user)
	}
	var stats []string
	for _, r := range readStream(t, a.cfg.Data, StreamMetrics) {
		if r.Name == "ingest.peer" {
			stats = append(stats, fmt.Sprintf("%s %d/%d/%d", field(r, "peer").Str(), field(r, "accepted").Int(), field(r, "rejected").Int(), field(r, "dropped").Int()))
		}
	}
	if want := fmt.Sprintf("%s %d/0/%d", user, accepted, limited); len(stats) != 1 || stats[0] != want {
		t.Errorf("ingest.peer stats %q, want [%s]", stats, want)
	}
}

func TestNoAgent(t *testing.T) {
	_, err := Dial(filepath.Join(t.TempDir(), "itiny.sock"))
	if err == nil || !strings.Contains(err.Error(), "no agent is listening") {
		t.Fatalf("%v", err)
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
	in, p := newTestIngest(a)
	var buf []byte
	f.Fuzz(func(t *testing.T, msg []byte) {
		// handle may write to the message (JSON is unescaped in place), as
		// to serve's receive buffer, and the fuzzer's input is read-only.
		buf = append(buf[:0], msg...)
		if in.store(buf, false, p) {
			if err := in.rec.Validate(); err != nil {
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
	in, _ := newTestIngest(a)
	return in
}

// newTestIngest returns an ingest of a for calling handle and store
// directly, without a socket, and the peer of this process's user.
func newTestIngest(a *Agent) (*ingest, *peer) {
	return &ingest{a: a, arena: codec.NewArena(arenaValues), ack: make([]byte, 0, 2*ackSize)}, a.peers.connect(uint32(os.Getuid()))
}

// TestIngestZeroAllocs: decoding, validating and storing a record from
// the socket allocates nothing, in either codec and to any stream.
func TestIngestZeroAllocs(t *testing.T) {
	in := handleBench(t)
	p := in.a.peers.peerOf(uint32(os.Getuid()))
	for name, msg := range ingestMessages(t) {
		buf := make([]byte, len(msg))
		run := func() {
			copy(buf, msg) // as serve's Read does
			if ack := in.handle(buf, false, p); !bytes.HasPrefix(ack, []byte("ok ")) {
				t.Fatalf("%s: %s", name, ack)
			}
		}
		run()
		if n := testing.AllocsPerRun(500, run); n != 0 {
			t.Errorf("%s: %v allocations per record", name, n)
		}
	}
}

// TestIngestRejectZeroAllocs: rejecting a record allocates nothing (but
// for some faults of JSON syntax, whose errors the decoder makes as it
// finds them), so that a flood of records the agent must decode and
// refuse makes no garbage: reasons are written into the acknowledgement
// buffer, decoding uses the arena, a codec fault is the arena's.
func TestIngestRejectZeroAllocs(t *testing.T) {
	in := handleBench(t)
	p := in.a.peers.peerOf(uint32(os.Getuid()))
	msgs := map[string][]byte{
		"empty":          {},
		"unknown stream": []byte(`{"stream":"nosuch","name":"x","fields":{"a":[[1,2,3],[4,5,6]]}}`),
		"reserved src":   []byte(`{"src":"itiny","name":"x"}`),
		"long src":       []byte(`{"name":"x","src":"` + strings.Repeat("s", maxSrcLen+1) + `"}`),
		"oversized":      make([]byte, in.a.live.Load().MaxRecord+1),
	}
	for i, m := range hostile.Records() {
		msgs[fmt.Sprintf("hostile %d", i)] = m
	}
	// MessagePack that does not parse: a codec error worded in place.
	msgs["msgpack garbage"] = []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xc1}
	for name, msg := range msgs {
		buf := make([]byte, len(msg))
		var ack []byte
		run := func() {
			copy(buf, msg)
			ack = in.handle(buf, false, p)
		}
		run()
		if !bytes.HasPrefix(ack, []byte("err ")) {
			t.Fatalf("%s: %s", name, ack)
		}
		if n := testing.AllocsPerRun(50, run); n != 0 {
			t.Errorf("%s (%s): %v allocations", name, ack, n)
		}
	}
	// Past the rate limit, without decoding.
	in.a.live.Load().RateLimit = 1
	buf := []byte(`{"name":"x"}`)
	in.handle(buf, false, p)
	if n := testing.AllocsPerRun(50, func() { in.handle(buf, false, p) }); n != 0 {
		t.Errorf("rate limited: %v allocations", n)
	}
}

// TestRulesTakeCollectorsOnly: a record from the socket, named as a
// collector's, neither feeds a rule nor takes a place among its
// instances; the same record from a collector does.
func TestRulesTakeCollectorsOnly(t *testing.T) {
	in := handleBench(t)
	p := in.a.peers.peerOf(uint32(os.Getuid()))
	in.a.rules.Store(newRuleSet([]RuleConfig{{Name: "full", Record: "filesystem", Field: "used_pct", Limit: 90, Clear: 85, Above: true, For: 1, Level: codec.LevelWarning}}))
	for i := 0; i < maxRuleInstances+10; i++ {
		buf := []byte(fmt.Sprintf(`{"stream":"metrics","name":"filesystem","fields":{"mount":"/fake/%d","used_pct":99}}`, i))
		if ack := in.handle(buf, false, p); !bytes.HasPrefix(ack, []byte("ok ")) {
			t.Fatalf("%s", ack)
		}
	}
	r := in.a.rules.Load().rules[0]
	if len(r.inst) != 0 {
		t.Fatalf("socket records made %d rule instances", len(r.inst))
	}
	rec := codec.Record{Name: "filesystem", Fields: codec.Fields{{Key: "mount", Value: codec.String("/data")}, {Key: "used_pct", Value: codec.Float(99)}}}
	if err := in.a.Emit(StreamMetrics, &rec); err != nil {
		t.Fatal(err)
	}
	if st := r.inst["/data"]; st == nil || !st.active {
		t.Fatalf("a collector's record: instance %+v", st)
	}
	in.a.Close()
	var fired []string
	for _, e := range readStream(t, in.a.cfg.Data, StreamEvents) {
		if e.Name == "rule.full" {
			fired = append(fired, field(e, "instance").Str())
		}
	}
	if strings.Join(fired, " ") != "/data" {
		t.Errorf("rule.full fired for %q, want /data only", fired)
	}
}

// TestRuleInstanceCopied: a rule's instance is a copy, not a view of the
// buffer the record's strings came from (a collector's, reused).
func TestRuleInstanceCopied(t *testing.T) {
	a := handleBench(t).a
	a.rules.Store(newRuleSet([]RuleConfig{{Name: "full", Record: "disk", Field: "used", Limit: 90, Clear: 85, Above: true, For: 3, Level: codec.LevelWarning}}))
	buf := []byte("/data")
	rec := codec.Record{Name: "disk", Fields: codec.Fields{{Key: "mount", Value: codec.String(unsafe.String(&buf[0], len(buf)))}, {Key: "used", Value: codec.Int(95)}}}
	if err := a.Emit(StreamMetrics, &rec); err != nil {
		t.Fatal(err)
	}
	copy(buf, "/XXXX")
	r := a.rules.Load().rules[0]
	if st := r.inst["/data"]; st == nil || st.count != 1 {
		t.Errorf("instance /data: %+v after its buffer was reused; instances %v", st, r.inst)
	}
}

// TestRuleInstancesBounded: a rule keeps at most maxRuleInstances
// instances, of names cut to maxInstanceLen bytes (at a rune boundary);
// a new instance makes the one seen longest ago make way, and instances
// not seen for ruleExpire are forgotten.
func TestRuleInstancesBounded(t *testing.T) {
	rs := newRuleSet([]RuleConfig{{Name: "full", Record: "filesystem", Field: "used_pct", Limit: 90, Clear: 85, Above: true, For: 3, Level: codec.LevelWarning}})
	r := rs.rules[0]
	now := time.Now()
	long := strings.Repeat("é", maxInstanceLen) // 2 bytes a rune
	for i := 0; i < maxRuleInstances+5; i++ {
		st := r.newInstance(fmt.Sprintf("%s/%d", long[:maxInstanceLen-9], i), now.Add(time.Duration(i)*time.Second))
		st.seen = now.Add(time.Duration(i) * time.Second)
	}
	if len(r.inst) != maxRuleInstances {
		t.Fatalf("%d instances, want %d", len(r.inst), maxRuleInstances)
	}
	if _, ok := r.inst[long[:maxInstanceLen-9]+"/4"]; ok {
		t.Error("the instance seen longest ago was kept")
	}
	if _, ok := r.inst[long[:maxInstanceLen-9]+"/5"]; !ok {
		t.Error("an instance that need not make way was forgotten")
	}
	// Instances 5 to 1028 were seen at 5 to 1028 s; an hour and 10 s on,
	// 5 to 10 have not been seen for ruleExpire.
	r.newInstance("late", now.Add(ruleExpire+10*time.Second))
	_, kept10 := r.inst[long[:maxInstanceLen-9]+"/10"]
	_, kept11 := r.inst[long[:maxInstanceLen-9]+"/11"]
	if len(r.inst) != maxRuleInstances-6+1 || kept10 || !kept11 {
		t.Errorf("%d instances after ruleExpire (/10 kept: %v, /11 kept: %v), want %d", len(r.inst), kept10, kept11, maxRuleInstances-5)
	}
	// Through observe, a long name is cut at a rune boundary.
	a := &Agent{}
	rec := codec.Record{Name: "filesystem", Fields: codec.Fields{{Key: "mount", Value: codec.String("x" + long)}, {Key: "used_pct", Value: codec.Float(50)}}}
	rs.observe(a, StreamMetrics, &rec, nil)
	if _, ok := r.inst["x"+long[:maxInstanceLen-2]]; !ok {
		t.Errorf("a long instance name is not cut to %d bytes at a rune boundary", maxInstanceLen-1)
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
			p := in.a.peers.peerOf(uint32(os.Getuid()))
			msg := msgs[name]
			buf := make([]byte, len(msg))
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, msg)
				if ack := in.handle(buf, false, p); !bytes.HasPrefix(ack, []byte("ok ")) {
					b.Fatalf("%s", ack)
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
	fd := c.fd
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

// waitExists waits for the agent to create the socket p.
func waitExists(t *testing.T, p string) {
	t.Helper()
	for deadline := time.Now().Add(eventWait); ; time.Sleep(5 * time.Millisecond) {
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
