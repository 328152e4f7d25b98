package main

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/datadir"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// emitCmd sends one record built from its arguments, or JSON records read
// from standard input one per line, to the running agent, and waits for
// its answer to each: stored, or buffered until a periodic stream's next
// flush (-v prints which). Values are typed by their text: true/false,
// integers, floats, else strings; key:s=value forces a string.
func emitCmd(fs *flags, args []string) error {
	streamName := fs.String("stream", agent.StreamEvents, "stream to write to")
	level := fs.String("level", "notice", "level: emerg, alert, crit, err, warning, notice, info or debug")
	source := fs.String("source", "emit", "source component")
	data := fs.String("data", datadir.Default(), "the agent's data directory, where its socket is ($"+datadir.Env+", else "+datadir.Fallback+")")
	socket := fs.String("socket", "", "ingest socket (default: $ITINY_SOCKET, else DATA/itiny.sock)")
	jsonIn := fs.Bool("json", false, "read JSON records from standard input, one per line")
	verbose := fs.Bool("v", false, "print each record's sequence number and whether it is stored or buffered (a periodic stream's, in the agent's memory until its next flush)")
	if err := parse(fs, args); err != nil {
		return err
	}
	path := *socket
	if path == "" {
		path = os.Getenv("ITINY_SOCKET")
	}
	if path == "" {
		path = filepath.Join(*data, "itiny.sock")
	}
	if *jsonIn {
		if fs.NArg() != 0 {
			return errUsage
		}
		return emitJSON(path, *verbose)
	}
	if fs.NArg() < 1 {
		return errUsage
	}
	lv, err := codec.ParseLevel(*level)
	if err != nil {
		return err
	}
	r := codec.Record{Stream: *streamName, Level: lv, Source: *source, Name: fs.Arg(0)}
	for _, kv := range fs.Args()[1:] {
		f, err := parseKV(kv)
		if err != nil {
			return err
		}
		r.Fields = append(r.Fields, f)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	c, err := agent.Dial(path)
	if err != nil {
		return err
	}
	defer c.Close()
	ack, err := c.SendAck(&r)
	if err != nil {
		return err
	}
	if *verbose {
		tinyfmt.Println(ack)
	}
	return nil
}

// parseKV parses key=value, typing the value by its text.
func parseKV(kv string) (codec.Field, error) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return codec.Field{}, tinyfmt.Errorf("field %q: want key=value", kv)
	}
	if key, forced := strings.CutSuffix(k, ":s"); forced {
		return codec.Field{Key: key, Value: codec.String(v)}, nil
	}
	switch {
	case v == "true" || v == "false":
		return codec.Field{Key: k, Value: codec.Bool(v == "true")}, nil
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return codec.Field{Key: k, Value: codec.Int(i)}, nil
	}
	if u, err := strconv.ParseUint(v, 10, 64); err == nil {
		return codec.Field{Key: k, Value: codec.Uint(u)}, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "nN") {
		return codec.Field{Key: k, Value: codec.Float(f)}, nil
	}
	return codec.Field{Key: k, Value: codec.String(v)}, nil
}

func emitJSON(path string, verbose bool) error {
	c, err := agent.Dial(path)
	if err != nil {
		return err
	}
	defer c.Close()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var errs []error
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		ack, err := c.SendRawAck(b)
		if err != nil {
			errs = append(errs, tinyfmt.Errorf("line %d: %w", line, err))
			continue
		}
		if verbose {
			tinyfmt.Println(ack)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
