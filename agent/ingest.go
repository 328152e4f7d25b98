package agent

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
)

// The ingest socket: a unix SOCK_SEQPACKET socket, so every message is one
// record (MessagePack, or JSON when it starts with '{') and message
// boundaries need no framing. The agent answers each message with one
// acknowledgement message:
//
//	ok <seq>            stored as record <seq> of its stream
//	ok <seq> buffered   taken as record <seq>, in memory until its
//	                    periodic stream's next flush (answer.go)
//	err <reason>        rejected; nothing stored
//
// Bounded memory whatever clients do: a message larger than max_record is
// rejected, at most maxConns connections are served, and rate accounting
// keeps at most maxSources sources (the rest share one bucket).
const (
	maxConns   = 64
	maxSources = 256
	otherSrc   = "(other)"
	// maxDecoding bounds the records decoded at once. A record's decoded
	// form can take up to about 72 bytes per input byte (a list of one-byte
	// values), so this, not the connection count, bounds the memory
	// hostile senders can make the agent use: about 2 x 72 x max_record.
	maxDecoding = 2
	// keepFields is the field capacity a connection keeps between records.
	keepFields = 64
)

var decoding = make(chan struct{}, maxDecoding)

type ingest struct {
	a    *Agent
	path string
	lf   *os.File

	mu      sync.Mutex
	closed  bool // set by close: accept registers no more connections
	conns   map[*os.File]struct{}
	sources map[string]*sourceStats
	now     func() time.Time // the rate limit's clock; nil is time.Now (tests set it)
	wg      sync.WaitGroup
}

type sourceStats struct {
	tokens   float64
	last     time.Time
	accepted uint64
	rejected uint64
	dropped  uint64 // by the rate limit, not yet reported
	reported uint64 // drops already written as ingest.dropped events
}

// listen creates the ingest socket, with the configured mode and group
// (sockfile.go).
func (a *Agent) listen() (*ingest, error) {
	path := a.cfg.SocketPath()
	gid, err := a.socketGroup(path)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	fd, err := bindUnix(path, syscall.SOCK_SEQPACKET, a.cfg.SocketMode, gid)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if err := syscall.Listen(fd, 16); err != nil {
		syscall.Close(fd)
		os.Remove(path)
		return nil, fmt.Errorf("agent: listen %s: %w", path, err)
	}
	in := &ingest{a: a, path: path, lf: os.NewFile(uintptr(fd), path), conns: map[*os.File]struct{}{}, sources: map[string]*sourceStats{}}
	in.wg.Add(1)
	go in.accept()
	return in, nil
}

func (in *ingest) accept() {
	defer in.wg.Done()
	rc, err := in.lf.SyscallConn()
	if err != nil {
		return
	}
	for {
		var nfd int
		var aerr error
		err := rc.Read(func(fd uintptr) bool {
			nfd, _, aerr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			return aerr != syscall.EAGAIN
		})
		if err != nil {
			return // closed
		}
		if aerr != nil {
			if aerr == syscall.EMFILE || aerr == syscall.ENFILE {
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		cf := os.NewFile(uintptr(nfd), "ingest")
		in.mu.Lock()
		if in.closed {
			in.mu.Unlock()
			cf.Close()
			return
		}
		full := len(in.conns) >= maxConns
		if !full {
			in.conns[cf] = struct{}{}
		}
		in.mu.Unlock()
		if full {
			cf.Write([]byte("err too many connections"))
			cf.Close()
			continue
		}
		in.wg.Add(1)
		go in.serve(cf, nfd)
	}
}

// serve reads records from one connection until it closes.
func (in *ingest) serve(cf *os.File, fd int) {
	defer in.wg.Done()
	defer func() {
		in.mu.Lock()
		delete(in.conns, cf)
		in.mu.Unlock()
		cf.Close()
	}()
	peer := "unknown"
	if cred, err := syscall.GetsockoptUcred(fd, syscall.SOL_SOCKET, syscall.SO_PEERCRED); err == nil {
		peer = "pid:" + strconv.Itoa(int(cred.Pid))
	}
	buf := make([]byte, in.a.live.Load().MaxRecord+1) // one more: a full read means too large
	ack := make([]byte, 0, 128)
	var rec codec.Record
	for {
		n, err := cf.Read(buf)
		if err != nil || n == 0 {
			return
		}
		decoding <- struct{}{}
		seq, why := in.handle(buf[:n], n == len(buf), &rec, peer)
		if cap(rec.Fields) > keepFields {
			rec.Fields = nil // let a hostile record's storage go
		}
		<-decoding
		ack = ack[:0]
		if why == "" {
			ack = in.a.appendOK(ack, seq, rec.Stream) // answer.go
		} else {
			ack = append(append(ack, "err "...), why...)
			if len(ack) > 120 {
				ack = ack[:120]
			}
		}
		cf.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := cf.Write(ack); err != nil {
			return // a client that does not read its acks is dropped
		}
	}
}

// handle validates and stores one message; it returns the record's
// sequence number, or why it was rejected.
func (in *ingest) handle(msg []byte, truncated bool, rec *codec.Record, peer string) (uint64, string) {
	a := in.a
	if max := a.live.Load().MaxRecord; len(msg) > max || truncated {
		in.count(peer, false)
		return 0, "record larger than max_record (" + strconv.Itoa(max) + " bytes)"
	}
	c := codec.Msgpack
	if msg[0] == '{' {
		c = codec.JSON
	}
	// The record's strings are views of msg, which serve reads into again
	// after the acknowledgement: nothing may keep rec or its strings past
	// this call. Emit encodes rec into the ring before it returns; the
	// rate accounting here and the rules (rules.go) copy the strings they
	// keep. Decoding this way allocates nothing (BenchmarkIngestHandle).
	if err := c.DecodeAlias(msg, rec); err != nil {
		in.count(peer, false)
		return 0, err.Error()
	}
	if rec.Source == "" {
		rec.Source = peer
	}
	if rec.Stream == "" {
		rec.Stream = StreamEvents
	}
	s := a.streams[rec.Stream]
	if s == nil || rec.Stream == StreamSelf {
		in.count(rec.Source, false)
		return 0, "unknown stream " + strconv.Quote(rec.Stream)
	}
	if err := rec.Validate(); err != nil {
		in.count(rec.Source, false)
		s.rejected.Add(1)
		return 0, err.Error()
	}
	if rec.Source == ringlog.ResumeSource {
		// The ring's own notes say what missing numbers were; a client
		// may not write one.
		in.count(rec.Source, false)
		s.rejected.Add(1)
		return 0, "src " + ringlog.ResumeSource + " is the ring's own"
	}
	if !in.allow(rec.Source) {
		s.dropped.Add(1)
		return 0, "rate limited"
	}
	// Times from the sender are kept; the agent stamps its boot.
	if err := a.Emit(rec.Stream, rec); err != nil {
		return 0, err.Error()
	}
	in.reportDrops(rec.Source)
	return rec.Seq, ""
}

// source returns the stats of a source, sharing one for all past
// maxSources. Called with in.mu held.
func (in *ingest) source(name string) *sourceStats {
	st := in.sources[name]
	if st == nil {
		if len(in.sources) >= maxSources {
			name = otherSrc
			if st = in.sources[name]; st != nil {
				return st
			}
		}
		st = &sourceStats{tokens: float64(in.a.live.Load().RateLimit), last: in.clock()}
		in.sources[strings.Clone(name)] = st // name may be a view of a receive buffer
	}
	return st
}

func (in *ingest) count(src string, ok bool) {
	in.mu.Lock()
	st := in.source(src)
	if ok {
		st.accepted++
	} else {
		st.rejected++
	}
	in.mu.Unlock()
}

// allow spends a token of the source's bucket (rate_limit per second,
// burst the same).
func (in *ingest) allow(src string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	st := in.source(src)
	now := in.clock()
	rate := float64(in.a.live.Load().RateLimit)
	st.tokens = min(rate, st.tokens+now.Sub(st.last).Seconds()*rate)
	st.last = now
	if st.tokens < 1 {
		st.dropped++
		return false
	}
	st.tokens--
	st.accepted++
	return true
}

// clock returns the time for the rate limit. Called with in.mu held.
func (in *ingest) clock() time.Time {
	if in.now != nil {
		return in.now()
	}
	return time.Now()
}

// reportDrops writes an "ingest.dropped" event for a source whose records
// were dropped by the rate limit, once it is let through again.
func (in *ingest) reportDrops(src string) {
	in.mu.Lock()
	st := in.source(src)
	n := st.dropped - st.reported
	st.reported = st.dropped
	in.mu.Unlock()
	if n > 0 {
		in.a.note(StreamEvents, "ingest.dropped", codec.LevelWarning,
			codec.Field{Key: "source", Value: codec.String(src)},
			codec.Field{Key: "dropped", Value: codec.Uint(n)})
	}
}

// stats returns each source's counters.
func (in *ingest) stats() map[string]sourceStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	m := make(map[string]sourceStats, len(in.sources))
	for k, v := range in.sources {
		m[k] = *v
	}
	return m
}

func (in *ingest) close() {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	in.lf.Close()
	in.mu.Lock()
	for cf := range in.conns {
		cf.Close()
	}
	in.mu.Unlock()
	in.wg.Wait()
	os.Remove(in.path)
}

// ErrNoAgent means nothing listens on the ingest socket.
var ErrNoAgent = errors.New("no agent is listening")

// A Client sends records to a running agent's ingest socket.
type Client struct {
	f   *os.File
	buf []byte
	ack []byte
}

// Dial connects to the agent's ingest socket.
func Dial(path string) (*Client, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w on %s (is itiny running? is the socket path right?)", ErrNoAgent, path)
		}
		return nil, fmt.Errorf("connect %s: %w", path, err)
	}
	return &Client{f: os.NewFile(uintptr(fd), path), ack: make([]byte, 256)}, nil
}

// Send encodes r as MessagePack, sends it and waits for the agent's
// acknowledgement: the record's sequence number, or the agent's reason
// for refusing it. SendAck says whether it is stored or buffered.
func (c *Client) Send(r *codec.Record) (uint64, error) {
	a, err := c.SendAck(r)
	return a.Seq, err
}

// SendRaw sends one encoded record (MessagePack, or JSON starting with '{').
func (c *Client) SendRaw(msg []byte) (uint64, error) {
	a, err := c.SendRawAck(msg)
	return a.Seq, err
}

// Close closes the connection.
func (c *Client) Close() error { return c.f.Close() }
