// Command jsctl does the little JetStream administration bench/migrate.sh
// needs between runs:
//
//	jsctl -url URL wait             wait (up to 10 s) until the server answers JetStream requests
//	jsctl -url URL delete NAME...   delete streams (a missing one is fine)
//	jsctl -url URL info NAME        print what a stream holds as key=value
//	jsctl -url URL latency NAME     for the records of a stream (not gap markers): the time
//	                                from each record's Itiny-Time, when the agent stamped it,
//	                                to the store's timestamp of the message, as percentiles,
//	                                and the rate between the first and last store timestamps
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	url := flag.String("url", "nats://127.0.0.1:4222", "the server")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: jsctl -url URL wait | delete NAME... | info NAME")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if args[0] == "wait" {
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := ping(ctx, *url)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				fail(fmt.Errorf("no JetStream at %s after 10s: %w", *url, err))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	nc, err := nats.Connect(*url, nats.Name("jsctl"))
	if err != nil {
		fail(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fail(err)
	}
	switch args[0] {
	case "delete":
		for _, name := range args[1:] {
			if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				fail(fmt.Errorf("deleting %s: %w", name, err))
			}
		}
	case "info":
		if len(args) != 2 {
			fail(errors.New("info NAME"))
		}
		st, err := js.Stream(ctx, args[1])
		if err != nil {
			fail(fmt.Errorf("%s: %w", args[1], err))
		}
		i := st.CachedInfo()
		fmt.Printf("stream name=%s msgs=%d bytes=%d first=%d last=%d consumers=%d max_bytes=%d duplicates=%s\n",
			i.Config.Name, i.State.Msgs, i.State.Bytes, i.State.FirstSeq, i.State.LastSeq, i.State.Consumers, i.Config.MaxBytes, i.Config.Duplicates)
	case "latency":
		if len(args) != 2 {
			fail(errors.New("latency NAME"))
		}
		if err := latency(ctx, js, args[1]); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("unknown command %q", args[0]))
	}
}

// latency reads every message of stream name, headers only.
func latency(ctx context.Context, js jetstream.JetStream, name string) error {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return err
	}
	total := st.CachedInfo().State.Msgs
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{HeadersOnly: true})
	if err != nil {
		return err
	}
	var lat []time.Duration
	var first, last time.Time
	for n := uint64(0); n < total; {
		batch, err := cons.Fetch(4096, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return err
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			n++
			md, err := msg.Metadata()
			if err != nil {
				return err
			}
			if first.IsZero() {
				first = md.Timestamp
			}
			last = md.Timestamp
			wall, err := time.Parse(time.RFC3339Nano, msg.Headers().Get("Itiny-Time"))
			if err != nil || msg.Headers().Get("Itiny-Gap") != "" {
				continue
			}
			lat = append(lat, md.Timestamp.Sub(wall))
		}
		if err := batch.Error(); err != nil {
			return err
		}
		if got == 0 {
			return fmt.Errorf("%s: %d of %d messages read, then none in 5s", name, n, total)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	secs := last.Sub(first).Seconds()
	fmt.Printf("latency stream=%s messages=%d records=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f rate=%.1f\n",
		name, total, len(lat), pct(0.5), pct(0.9), pct(0.99), pct(1), float64(total)/max(secs, 1e-9))
	return nil
}

func ping(ctx context.Context, url string) error {
	nc, err := nats.Connect(url, nats.Name("jsctl"), nats.Timeout(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	c, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err = js.AccountInfo(c)
	return err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "jsctl:", err)
	os.Exit(1)
}
