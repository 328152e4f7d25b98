package agent

import (
	"errors"
	"strconv"
	"strings"
	"syscall"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// The ingest socket's answer to a record it took says what became of it:
//
//	ok <seq>            stored: in the ring (the page cache, or the mapped
//	                    stage), it survives the death of the agent
//	ok <seq> buffered   held in the agent's memory until its periodic
//	                    stream's next flush (at most flush later): lost if
//	                    the agent dies first
//
// `ok 13` alone once answered a record of the periodic metrics stream
// that a SIGKILL then took.
const bufferedWord = "buffered"

// appendOK appends the answer to a record of stream taken as number seq.
func (a *Agent) appendOK(b []byte, seq uint64, stream string) []byte {
	b = strconv.AppendUint(append(b, "ok "...), seq, 10)
	if s := a.streams[stream]; s != nil && s.cfg.Mode == Periodic {
		b = append(append(b, ' '), bufferedWord...)
	}
	return b
}

// An Ack is the agent's answer to a record it took.
type Ack struct {
	Seq uint64 // the record's number in its stream
	// Buffered means the record waits in the agent's memory for its
	// periodic stream's next flush, and is lost if the agent dies first;
	// else it is stored.
	Buffered bool
}

func (a Ack) String() string {
	if a.Buffered {
		return strconv.FormatUint(a.Seq, 10) + " " + bufferedWord
	}
	return strconv.FormatUint(a.Seq, 10) + " stored"
}

// parseOK parses an answer that starts "ok ".
func parseOK(ack string) (Ack, error) {
	num, word, _ := strings.Cut(strings.TrimPrefix(ack, "ok "), " ")
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil || word != "" && word != bufferedWord {
		return Ack{}, tinyfmt.Errorf("bad acknowledgement %q", ack)
	}
	return Ack{Seq: seq, Buffered: word == bufferedWord}, nil
}

// SendAck is Send, returning the agent's whole answer: whether the record
// is stored or buffered.
func (c *Client) SendAck(r *codec.Record) (Ack, error) {
	var err error
	if c.buf, err = codec.Msgpack.Append(c.buf[:0], r); err != nil {
		return Ack{}, err
	}
	return c.SendRawAck(c.buf)
}

// SendRawAck is SendRaw, returning the agent's whole answer.
func (c *Client) SendRawAck(msg []byte) (Ack, error) {
	a, err := c.send(msg) // ingest.go
	if errors.Is(err, errClosed) {
		syscall.Close(c.fd)
		c.fd = -1
		if err := c.dial(); err != nil {
			return Ack{}, err
		}
		a, err = c.send(msg)
	}
	return a, err
}
