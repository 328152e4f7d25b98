// Command jsctl does the little JetStream administration bench/migrate.sh
// needs between runs:
//
//	jsctl -url URL wait             wait (up to 10 s) until the server answers JetStream requests
//	jsctl -url URL delete NAME...   delete streams (a missing one is fine)
//	jsctl -url URL info NAME        print what a stream holds as key=value
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
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
	default:
		fail(fmt.Errorf("unknown command %q", args[0]))
	}
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
