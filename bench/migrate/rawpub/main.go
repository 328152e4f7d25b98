// Command rawpub is the minimal JetStream publisher that bench/migrate.sh
// measures itiny-migrate against: the raw async-publish rate a server
// accepts.
//
//	rawpub -url nats://127.0.0.1:PORT -stream NAME -subject SUBJ -ring DIR [-window N] [-headers id|itiny]
//
// It reads every record of the ring at DIR into memory first (the
// payloads itiny-migrate would send: the records' own bytes, as the
// merge of package view reads them, packed blocks unpacked), creates the
// JetStream stream NAME on SUBJ (file storage, limits, the server's
// default duplicate window: what itiny-migrate creates), then, on the
// clock, publishes one message per record with PublishMsgAsync, at most
// -window unacknowledged (jetstream.WithPublishAsyncMaxPending: a sliding
// window, the ideal pipeline), each with a Nats-Msg-Id of the length
// itiny-migrate's have (SCOPE.RING.STREAM.SEQ), so the server does the
// same duplicate tracking; and waits for every acknowledgement. With
// -headers itiny each message also carries the Itiny-* headers
// itiny-migrate sets on a record (the same names, order and values as
// migrate.Message.Headers, from the decoded record), to tell the cost of
// the bigger messages from the rest; -headers itiny1 puts the same names
// and values in one header (K=V;K=V;...), the same bytes in two headers
// instead of nine, to tell the cost of the bytes (mostly the server's)
// from the cost of the number of headers (mostly the client's, in
// nats.go's header map). With -drain it waits for every
// acknowledgement after each -window messages before sending more, as
// itiny-migrate's windows do (a diagnostic). It does not import package
// migrate, so that the Kafka client that package links is no
// requirement of the bench module.
//
// Prints one key=value line: msgs, bytes, seconds, rate (messages/s),
// the process's CPU seconds over the timed part, and what the stream
// holds afterwards (which must be msgs). -cpuprofile writes a CPU
// profile of the timed part.
package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/view"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// rec is what a message is made of, kept for the timed loop.
type rec struct {
	off, end int // of the payload in the big buffer
	seq      uint64
	wall     time.Time
	boot     uint32
	bootID   codec.BootID
	level    codec.Level
	name     string
	codec    codec.Codec
}

func main() {
	url := flag.String("url", "nats://127.0.0.1:4222", "the server")
	stream := flag.String("stream", "RAW", "JetStream stream to create (it must not exist)")
	subject := flag.String("subject", "raw.bench.metrics", "subject to publish on")
	ringDir := flag.String("ring", "", "the ring whose records are sent")
	scope := flag.String("scope", "bench", "scope in the message ids (for their length)")
	window := flag.Int("window", 8192, "messages unacknowledged at most (PublishAsyncMaxPending)")
	headers := flag.String("headers", "id", "id: Nats-Msg-Id only; itiny: also the Itiny-* headers itiny-migrate sets; itiny1: their names and values in one header")
	drain := flag.Bool("drain", false, "wait for every acknowledgement after each -window messages, as itiny-migrate does (a diagnostic)")
	label := flag.String("label", "raw", "label of the output line")
	timeout := flag.Duration("timeout", 2*time.Minute, "bound of the wait for the last acknowledgement")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed part to this file")
	flag.Parse()
	if *ringDir == "" || (*headers != "id" && *headers != "itiny" && *headers != "itiny1") {
		flag.Usage()
		os.Exit(2)
	}

	recs, buf, ring, streamName, err := load(*ringDir)
	if err != nil {
		fail(err)
	}
	ringHex := hex.EncodeToString(ring[:])
	idPrefix := *scope + "." + ringHex + "." + streamName + "."

	nc, err := nats.Connect(*url, nats.Name("rawpub"))
	if err != nil {
		fail(err)
	}
	defer nc.Close()
	var nerr atomic.Int64
	var firstErr atomic.Value
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(*window),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			nerr.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		}))
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: *stream, Subjects: []string{*subject}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld, Replicas: 1,
	})
	if err != nil {
		fail(fmt.Errorf("creating stream %s: %w", *stream, err))
	}

	var hdrBytes int64
	var one []byte
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	for i := range recs {
		r := &recs[i]
		m := &nats.Msg{Subject: *subject, Data: buf[r.off:r.end], Header: make(nats.Header, 10)}
		m.Header[jetstream.MsgIDHeader] = []string{idPrefix + strconv.FormatUint(r.seq, 10)}
		switch *headers {
		case "itiny":
			itinyHeaders(m.Header, r)
		case "itiny1":
			one = itinyHeader1(one[:0], r)
			m.Header["Itiny"] = []string{string(one)}
		}
		if i == 0 {
			for k, vs := range m.Header {
				for _, v := range vs {
					hdrBytes += int64(len(k) + len(v) + 4) // "K: V\r\n"
				}
			}
		}
		for {
			_, err := js.PublishMsgAsync(m)
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				continue // the window stayed full for 200 ms: wait on
			}
			if err != nil {
				fail(fmt.Errorf("publishing message %d: %w", i, err))
			}
			break
		}
		if *drain && (i+1)%*window == 0 {
			if err := complete(js, *timeout); err != nil {
				fail(err)
			}
		}
	}
	if err := complete(js, *timeout); err != nil {
		fail(err)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	pprof.StopCPUProfile()
	if n := nerr.Load(); n > 0 {
		fail(fmt.Errorf("%d messages refused, the first: %v", n, firstErr.Load()))
	}
	info, err := st.Info(ctx)
	if err != nil {
		fail(err)
	}
	fmt.Printf("rawpub label=%s headers=%s window=%d drain=%t msgs=%d payload_bytes=%d header_bytes_each=%d seconds=%.3f rate=%.0f cpu_s=%.3f stored=%d stream_bytes=%d\n",
		*label, *headers, *window, *drain, len(recs), len(buf), hdrBytes, elapsed.Seconds(), float64(len(recs))/elapsed.Seconds(),
		cpu.Seconds(), info.State.Msgs, info.State.Bytes)
	if info.State.Msgs != uint64(len(recs)) {
		fail(fmt.Errorf("stream %s holds %d messages, not %d", *stream, info.State.Msgs, len(recs)))
	}
}

// load reads every record of the ring into memory: payloads into one
// buffer, and what the headers are made of.
func load(dir string) ([]rec, []byte, [16]byte, string, error) {
	var ring [16]byte
	in, err := view.Open([]string{dir})
	if err != nil {
		return nil, nil, ring, "", err
	}
	if len(in.Sources) != 1 {
		return nil, nil, ring, "", fmt.Errorf("%s: %d rings, want one", dir, len(in.Sources))
	}
	src := in.Sources[0]
	rd, err := src.Reader()
	if err != nil {
		return nil, nil, ring, "", err
	}
	for _, s := range rd.Segments() {
		if s.Err == nil {
			ring = s.Header.Ring
		}
	}
	mg, err := view.NewMerger([]*view.Source{src}, time.Time{})
	if err != nil {
		return nil, nil, ring, "", err
	}
	defer mg.Close()
	var recs []rec
	var buf []byte
	names := map[string]string{}
	for {
		it, err := mg.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, ring, "", err
		}
		if it.Kind != view.KindRecord {
			continue
		}
		e := &it.Entry
		name, ok := names[it.Rec.Name]
		if !ok {
			name = it.Rec.Name
			names[name] = name
		}
		off := len(buf)
		buf = append(buf, e.Payload...)
		recs = append(recs, rec{off: off, end: len(buf), seq: e.Seq, wall: it.Rec.Wall, boot: it.Rec.BootCount,
			bootID: it.Rec.Boot, level: it.Rec.Level, name: name, codec: e.Codec})
	}
	if len(recs) == 0 {
		return nil, nil, ring, "", fmt.Errorf("%s: no record", dir)
	}
	return recs, buf, ring, src.Stream, nil
}

// itinyHeaders adds the headers itiny-migrate sets on a record
// (migrate.Message.Headers).
func itinyHeaders(h nats.Header, r *rec) {
	h["Itiny-Codec"] = []string{r.codec.String()}
	h["Itiny-Time"] = []string{r.wall.UTC().Format(time.RFC3339Nano)}
	h["Itiny-Boot"] = []string{strconv.FormatUint(uint64(r.boot), 10)}
	h["Itiny-Boot-Id"] = []string{hex.EncodeToString(r.bootID[:])}
	h["Itiny-Level"] = []string{r.level.String()}
	h["Itiny-Name"] = []string{r.name}
}

// itinyHeader1 appends the names and values itinyHeaders sets, as
// K=V;K=V;..., made without a map.
func itinyHeader1(b []byte, r *rec) []byte {
	b = append(append(append(b, "Itiny-Codec="...), r.codec.String()...), ";Itiny-Time="...)
	b = r.wall.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ";Itiny-Boot="...)
	b = strconv.AppendUint(b, uint64(r.boot), 10)
	b = append(b, ";Itiny-Boot-Id="...)
	b = hex.AppendEncode(b, r.bootID[:])
	b = append(append(append(b, ";Itiny-Level="...), r.level.String()...), ";Itiny-Name="...)
	return append(append(b, r.name...), ';')
}

// complete waits for every acknowledgement.
func complete(js jetstream.JetStream, timeout time.Duration) error {
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%d acknowledgements missing after %v", js.PublishAsyncPending(), timeout)
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rawpub:", err)
	os.Exit(1)
}
