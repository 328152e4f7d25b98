package agent

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/clock"
	"github.com/itiny/itiny/internal/tinyfmt"
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
// and a connection it closes (idle, refused, making way for another
// user's) gets one last "err <reason>" before it closes.
//
// Memory is bounded whatever clients do (docs/DESIGN.md section 12): one
// goroutine serves every connection (ingestconn.go) with one receive
// buffer of max_record, one arena of arenaValues decoded values and one
// acknowledgement buffer, so what it holds depends on neither the number
// of connections nor what they send.
const (
	maxConns = 64
	// arenaValues bounds the fields, list elements and map entries of a
	// record from the socket, counted at every depth: a decoded value
	// takes 72 bytes however few bytes encode it, so this, not
	// max_record, bounds the decoded record (codec.DecodeArena).
	arenaValues = 4096
	// maxSrcLen bounds the src a client names.
	maxSrcLen = 256
	// defaultIdle closes a connection that sends nothing for so long.
	defaultIdle = 30 * time.Second
)

// ingestMemory is the most memory the ingest socket and the syslog
// listener hold together, in bytes, for any sequence of messages on any
// number of connections (docs/DESIGN.md section 12): the receive buffer,
// the arena, the acknowledgement buffer, the fixed connection table and
// the syslog listener's buffers, and the peer table. A connection costs
// no Go memory beyond its slot. TestIngestMemoryBound holds the agent to
// it under attack.
func ingestMemory(maxRecord int) int {
	const mapEntry = 64 // a peer's name and its map slot
	return maxRecord + 1 + arenaValues*int(unsafe.Sizeof(codec.Field{})) + 2*ackSize +
		int(unsafe.Sizeof(ingest{})) + int(unsafe.Sizeof(syslogListener{})) +
		(maxPeers+1)*(int(unsafe.Sizeof(peer{}))+mapEntry)
}

// ackSize bounds an acknowledgement: longer reasons are cut. (Its buffer
// has room for twice as much, so that a codec error's message is worded
// in it before it is cut.)
const ackSize = 128

type ingest struct {
	a    *Agent
	path string
	lfd  int      // the listening socket
	epfd int      // epoll instance of the connections and lfd
	ep   *os.File // epfd, in the runtime's poller
	wake int      // eventfd: close writes to it to stop serve
	idle time.Duration
	// idleFor completes the idle notice: "30s: connection closed".
	idleFor string
	done    chan struct{} // closed when serve returns

	// Owned by serve (ingestconn.go).
	conns    [maxConns]conn
	events   [maxConns + 1]syscall.EpollEvent
	nev      int
	everr    error
	wait     func(fd uintptr) bool // made once: a closure per wait would allocate
	deadline int64                 // clock.Mono of the armed idle check; 0 none
	paused   bool                  // the listener is out of epoll (no descriptors left)
	buf      []byte                // receive buffer: max_record + 1
	ack      []byte
	rec      codec.Record
	arena    *codec.Arena
	cred     syscall.Ucred
}

// listen creates the ingest socket, with the configured mode and group
// (sockfile.go).
func (a *Agent) listen() (*ingest, error) {
	path := a.cfg.SocketPath()
	gid, err := a.socketGroup(path)
	if err != nil {
		return nil, tinyfmt.Errorf("agent: %w", err)
	}
	fd, err := bindUnix(path, syscall.SOCK_SEQPACKET, a.cfg.SocketMode, gid)
	if err != nil {
		return nil, tinyfmt.Errorf("agent: %w", err)
	}
	if err := syscall.Listen(fd, 16); err != nil {
		syscall.Close(fd)
		os.Remove(path)
		return nil, tinyfmt.Errorf("agent: listen %s: %w", path, err)
	}
	in, err := a.serveIngest(path, fd)
	if err != nil {
		syscall.Close(fd)
		os.Remove(path)
		return nil, err
	}
	return in, nil
}

// handle validates and stores one message from peer p, and returns its
// acknowledgement ("ok <seq>[ buffered]" or "err <reason>", in in.ack). It allocates
// nothing but a codec error's message: a flood of bad records makes no
// garbage for the runtime to collect.
func (in *ingest) handle(msg []byte, truncated bool, p *peer) []byte {
	a := in.a
	// Every message spends a token of its sender's, before anything else
	// is done with it: a flood costs little, stored or not.
	if !a.peers.take(p) {
		in.fail("rate limited")
		return in.ack
	}
	a.peers.count(p, in.store(msg, truncated, p))
	return in.ack
}

// store stores one message, or says why not in in.ack.
func (in *ingest) store(msg []byte, truncated bool, p *peer) bool {
	a := in.a
	if max := a.live.Load().MaxRecord; len(msg) > max || truncated {
		in.fail("record larger than max_record (")
		in.ack = strconv.AppendInt(in.ack, int64(max), 10)
		return in.add(" bytes)")
	}
	if len(msg) == 0 {
		return in.fail("empty message")
	}
	c := codec.Msgpack
	if msg[0] == '{' {
		c = codec.JSON
	}
	// The record's strings are views of msg, which serve reads into again
	// after the acknowledgement, and its fields are in the arena, which
	// the next record reuses: nothing may keep rec or its strings past
	// this call. Emit encodes rec into the ring before it returns; the
	// rate accounting here and the rules (rules.go) copy the strings they
	// keep. Decoding this way allocates nothing (BenchmarkIngestHandle).
	rec := &in.rec
	if err := c.DecodeArena(msg, rec, in.arena); err != nil {
		if err == codec.ErrArenaFull {
			return in.fail(arenaFull)
		}
		if de, ok := err.(*codec.DecodeError); ok {
			in.ack = de.AppendTo(append(in.ack[:0], "err "...))
			in.ack = in.ack[:min(len(in.ack), ackSize)]
			return false
		}
		return in.fail(err.Error())
	}
	switch {
	case rec.Source == "":
		rec.Source = p.name
	case len(rec.Source) > maxSrcLen:
		return in.fail(srcTooLong)
	case rec.Source == ringlog.ResumeSource || rec.Source == selfSource:
		// The ring's notes say what missing numbers were, and the
		// agent's own records what it did: a client may not write one.
		in.fail("src ")
		in.add(rec.Source)
		return in.add(" is reserved")
	}
	if rec.Stream == "" {
		rec.Stream = StreamEvents
	}
	if !in.arena.Present("level") {
		// Level 0 is emerg: a sender that says nothing means a routine
		// record (journald's default too), not an alarm for the rules.
		rec.Level = codec.LevelInfo
	}
	s := a.streams[rec.Stream]
	if s == nil || rec.Stream == StreamSelf && !a.companion(rec, p) || s.cfg.Tier != 0 { // the agent's own, and its tiers: no sender writes there
		in.fail("unknown stream ")
		if len(rec.Stream) <= codec.MaxStreamLen {
			in.ack = strconv.AppendQuote(in.ack, rec.Stream)
		}
		return false
	}
	if err := rec.Validate(); err != nil {
		s.rejected.Add(1)
		return in.fail(err.Error())
	}
	// The agent's clocks, at receipt, order the record; the sender's
	// times are not kept (a sender that needs its own sends a field).
	rec.Wall, rec.Mono = time.Now(), clock.Mono()
	if err := a.emit(rec.Stream, rec, p); err != nil {
		return in.fail(err.Error())
	}
	in.ack = a.appendOK(in.ack[:0], rec.Seq, rec.Stream) // answer.go
	return true
}

// companion reports whether rec is the one record a sender may put in the
// agent's own stream: the status of the forwarder beside it
// (catalog.ForwardStatus), from the agent's user or root, who could
// write the rings' files anyway. Its fields are the forwarder's to get
// right (checking them against the catalogue here cost the firmware
// 4.7 KB).
func (a *Agent) companion(rec *codec.Record, p *peer) bool {
	return rec.Name == catalog.ForwardStatus.Name && (p.uid == 0 || p.uid == a.uid)
}

// Reasons with their limits, made once.
var (
	arenaFull  = "record has more than " + strconv.Itoa(arenaValues) + " fields and elements"
	srcTooLong = "src longer than " + strconv.Itoa(maxSrcLen) + " bytes"
)

// fail starts an "err" acknowledgement with why, and returns false.
func (in *ingest) fail(why string) bool {
	in.ack = append(in.ack[:0], "err "...)
	return in.add(why)
}

// add appends s to the acknowledgement, as much as ackSize holds, and
// returns false. Out of line for the firmware's size (docs/DESIGN.md
// section 14).
//
//go:noinline
func (in *ingest) add(s string) bool {
	in.ack = append(in.ack, s[:min(len(s), cap(in.ack)-len(in.ack))]...)
	return false
}

func (in *ingest) close() {
	one := uint64(1)
	syscall.Write(in.wake, (*[8]byte)(unsafe.Pointer(&one))[:]) // serve closes the connections and returns
	<-in.done
	syscall.Close(in.lfd)
	os.Remove(in.path)
}

// ErrNoAgent means nothing listens on the ingest socket.
var ErrNoAgent = errors.New("no agent is listening")

// A Client sends records to a running agent's ingest socket.
type Client struct {
	fd   int
	path string
	buf  []byte
	ack  []byte
}

// Dial connects to the agent's ingest socket.
func Dial(path string) (*Client, error) {
	c := &Client{fd: -1, path: path, ack: make([]byte, 256)}
	if err := c.dial(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) dial() error {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: c.path}); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return tinyfmt.Errorf("%w on %s (is itiny running? is the socket path right?)", ErrNoAgent, c.path)
		}
		return tinyfmt.Errorf("connect %s: %w", c.path, err)
	}
	c.fd = fd
	return nil
}

// Send encodes r as MessagePack, sends it and waits for the agent's
// acknowledgement: the record's sequence number, or the agent's reason
// for refusing it. SendAck says whether it is stored or buffered.
func (c *Client) Send(r *codec.Record) (uint64, error) {
	a, err := c.SendAck(r)
	return a.Seq, err
}

// SendRaw sends one encoded record (MessagePack, or JSON starting with
// '{'). When the agent had closed the connection (idle, or restarted),
// the connection is made again and the record sent once more: it had not
// been stored.
func (c *Client) SendRaw(msg []byte) (uint64, error) {
	a, err := c.SendRawAck(msg)
	return a.Seq, err
}

// errClosed marks the errors after which SendRawAck sends again.
var errClosed = errors.New("connection closed by the agent")

// send sends msg once and reads the agent's answer.
func (c *Client) send(msg []byte) (Ack, error) {
	if c.fd < 0 {
		return Ack{}, errors.New("send: connection closed")
	}
	if _, err := syscall.Write(c.fd, msg); err != nil {
		// The agent closed the connection, perhaps saying why first.
		if n := c.notice(); n > 0 {
			return Ack{}, c.answer(n)
		}
		if err == syscall.EPIPE {
			return Ack{}, tinyfmt.Errorf("send: %w: %w", err, errClosed)
		}
		return Ack{}, tinyfmt.Errorf("send: %w", err)
	}
	n, err := syscall.Read(c.fd, c.ack)
	if err == syscall.ECONNRESET {
		// Closed with our record unread: the reason comes next.
		n, err = c.notice(), nil
	}
	if err != nil || n == 0 {
		return Ack{}, tinyfmt.Errorf("agent closed the connection without acknowledging")
	}
	if ack := string(c.ack[:n]); strings.HasPrefix(ack, "ok ") {
		return parseOK(ack) // answer.go
	}
	return Ack{}, c.answer(n)
}

// notice reads, without waiting, what the agent said before it closed
// the connection, into c.ack; it returns its length, 0 if nothing. A
// connection closed with a message of ours unread reports ECONNRESET
// once before the rest.
func (c *Client) notice() int {
	for range 2 {
		n, _, err := syscall.Recvfrom(c.fd, c.ack, syscall.MSG_DONTWAIT)
		if err == nil {
			return n
		}
		if err != syscall.ECONNRESET {
			return 0
		}
	}
	return 0
}

// answer is the error of an acknowledgement that is not "ok".
func (c *Client) answer(n int) error {
	ack := string(c.ack[:n])
	why, ok := strings.CutPrefix(ack, "err ")
	switch {
	case !ok:
		return tinyfmt.Errorf("bad acknowledgement %q", ack)
	case strings.HasPrefix(why, idleNotice):
		return tinyfmt.Errorf("agent refused the record: %s: %w", why, errClosed)
	}
	return tinyfmt.Errorf("agent refused the record: %s", why)
}

// Close closes the connection.
func (c *Client) Close() error {
	if c.fd < 0 {
		return nil
	}
	err := syscall.Close(c.fd)
	c.fd = -1
	return err
}
