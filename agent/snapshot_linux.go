//go:build !nosnapshot

package agent

import (
	"bytes"
	"errors"
	"hash/fnv"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/internal/tinyfmt"
	"github.com/itiny/itiny/pack"
)

// Off unless configured: it needs a command or a file to snapshot.
func init() { registerCollector("snapshot", false, newSnapshotCollector) }

// snapshotCollector records the output of a command ("ip route", "iptables
// -S", "cat /etc/resolv.conf"...) or the content of a file, to the state
// stream, when it changes and every snapshot_every samples. Each
// configured instance runs one command or reads one file.
//
// It allocates on every Update (it starts a process, or opens a file), so
// it is exempt from the collectors' no-allocation rule; it runs at
// intervals far longer than a metric's.
type snapshotCollector struct {
	name      string
	command   string
	file      string
	timeout   time.Duration
	maxOutput int
	every     int
	samples   int
	hash      uint64
	hashed    bool
	rec       codec.Record
	env       []string // the command's environment
}

// snapshotFraming bounds the bytes a snapshot record takes in a segment
// beside its output: its frame, envelope and other fields.
const snapshotFraming = 512

// fits says whether a snapshot of max_output bytes fits a record of the
// state stream (a segment, less its header; a packed one's records are
// at most pack.MaxRecord): a bigger one would be refused at every
// sample, so the configuration is refused instead.
func (s *snapshotCollector) fits(streams []StreamConfig) error {
	for _, sc := range streams {
		if sc.Name != StreamState {
			continue
		}
		most := sc.Segment - segmentHeader - snapshotFraming
		if sc.Pack {
			most = min(most, pack.MaxRecord-snapshotFraming)
		}
		if int64(s.maxOutput) > most {
			return tinyfmt.Errorf("option max_output %s: a snapshot's record would not fit a record of [stream %s] (segment %s): at most %s",
				size.Format(int64(s.maxOutput)), StreamState, size.Format(sc.Segment), size.Format(most))
		}
	}
	return nil
}

// snapshotEnv returns a command's environment: PATH and LC_ALL fixed, so
// that its output does not depend on how the agent was started, and the
// variables option env names (comma-separated) as the agent has them, a
// PATH among them replacing the fixed one. The service manager's
// NOTIFY_SOCKET and WATCHDOG_ variables are refused. In a Kubernetes pod,
// kubectl finds the API server by KUBERNETES_SERVICE_HOST and _PORT, and
// keeps a cache in $HOME.
func snapshotEnv(names string) ([]string, error) {
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if strings.ContainsAny(n, "= ") {
			return nil, tinyfmt.Errorf("option env: %q is not a variable's name", n)
		}
		if n == "NOTIFY_SOCKET" || strings.HasPrefix(n, "WATCHDOG_") {
			// Left set for the agent (internal/sdnotify), never passed on.
			return nil, tinyfmt.Errorf("option env: %s is the service manager's, for the agent alone: a command given it could notify in the agent's name", n)
		}
		v, ok := os.LookupEnv(n)
		if !ok {
			continue
		}
		if n == "PATH" {
			env[0] = "PATH=" + v
		} else {
			env = append(env, n+"="+v)
		}
	}
	return env, nil
}

func newSnapshotCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("snapshot", c.Options, "name", "command", "file", "timeout", "max_output", "snapshot_every", "env"); err != nil {
		return nil, err
	}
	s := &snapshotCollector{
		name:      "snapshot",
		command:   strings.TrimSpace(c.Options["command"]),
		file:      strings.TrimSpace(c.Options["file"]),
		timeout:   5 * time.Second,
		maxOutput: 16 << 10,
	}
	if (s.command == "") == (s.file == "") {
		return nil, errors.New("snapshot: set either option command or option file")
	}
	if v, ok := c.Options["name"]; ok {
		if s.name = strings.TrimSpace(v); s.name == "" {
			return nil, errors.New("option name: empty")
		}
	}
	if v, ok := c.Options["timeout"]; ok {
		d, err := parseDuration(strings.TrimSpace(v))
		if err != nil {
			return nil, tinyfmt.Errorf("option timeout: %w", err)
		}
		s.timeout = d
	}
	if v, ok := c.Options["max_output"]; ok {
		n, err := size.Parse(strings.TrimSpace(v))
		if err != nil || n <= 0 || n > 1<<20 {
			return nil, tinyfmt.Errorf("option max_output: want a size from 1B to 1MiB, got %q", v)
		}
		s.maxOutput = int(n)
	}
	var err error
	if s.every, err = optPositive(c.Options, "snapshot_every", 12); err != nil {
		return nil, err
	}
	if s.env, err = snapshotEnv(c.Options["env"]); err != nil {
		return nil, err
	}
	if err := s.fits(c.Streams); err != nil {
		return nil, err
	}
	if c.check {
		return nil, nil
	}
	s.rec = catalogRecord(&catalog.Snapshot)
	if s.file != "" { // a file has no exit code
		_, i := catalog.Snapshot.Field("exit_code")
		s.rec.Fields = append(s.rec.Fields[:i], s.rec.Fields[i+1:]...)
	}
	s.rec.Fields.SetString(0, s.name)
	return s, nil
}

func (s *snapshotCollector) Update(e Emitter) error {
	var out []byte
	var truncated bool
	exit := 0
	var runErr error
	if s.command != "" {
		out, truncated, exit, runErr = s.run()
		if out == nil && runErr != nil {
			return runErr // not started: nothing to record
		}
	} else {
		var err error
		if out, truncated, err = readBounded(s.file, s.maxOutput); err != nil {
			return err
		}
	}
	h := fnv.New64a()
	h.Write(out)
	tinyfmt.Fprintf(h, "\x00%d", exit)
	sum := h.Sum64()
	changed := !s.hashed || sum != s.hash
	s.hash, s.hashed = sum, true
	s.samples++
	if !changed && s.samples%s.every != 0 {
		return runErr
	}
	f := s.rec.Fields
	i := 1
	setValue(f, i, snapshotOutput(out, truncated))
	if s.command != "" {
		i++
		f.SetInt(i, int64(exit))
	}
	f.SetBool(i+1, truncated)
	f.SetBool(i+2, changed)
	if err := e.Emit(StreamState, &s.rec); err != nil {
		return err
	}
	return runErr
}

// run runs the command through /bin/sh -c in a process group of its own,
// so that the timeout kills its children too. Stdout and stderr go to one
// buffer bounded by max_output. exit is -1 when killed by a signal or the
// timeout; out is nil when it could not start.
// run runs the command with /bin/sh -c in its own process group, with
// standard output and error to one pipe, bounded in size and time. It
// uses fork/exec directly: os/exec would add about 120 KiB to the
// firmware binary for what one pipe and wait4 do.
func (s *snapshotCollector) run() (out []byte, truncated bool, exit int, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, false, -1, tinyfmt.Errorf("snapshot %s: %w", s.name, err)
	}
	devnull, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, false, -1, tinyfmt.Errorf("snapshot %s: %w", s.name, err)
	}
	pid, err := syscall.ForkExec("/bin/sh", []string{"/bin/sh", "-c", s.command}, &syscall.ProcAttr{
		Env:   s.env,
		Files: []uintptr{uintptr(devnull), uintptr(p[1]), uintptr(p[1])},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	syscall.Close(devnull)
	syscall.Close(p[1])
	if err != nil {
		syscall.Close(p[0])
		return nil, false, -1, tinyfmt.Errorf("snapshot %s: %w", s.name, err)
	}
	// Non-blocking, so the file is polled and honours the deadline; the
	// command's end stays blocking, as programs expect.
	syscall.SetNonblock(p[0], true)
	r := os.NewFile(uintptr(p[0]), "snapshot")
	defer r.Close()
	deadline := time.Now().Add(s.timeout)
	r.SetReadDeadline(deadline)
	w := &boundedBuffer{max: s.maxOutput}
	buf := make([]byte, 4096)
	timedOut := false
	for {
		n, rerr := r.Read(buf)
		w.Write(buf[:n])
		if rerr != nil {
			// EOF: every writer closed the pipe. A deadline: the command,
			// or a child it left behind holding the pipe, ran too long.
			timedOut = errors.Is(rerr, os.ErrDeadlineExceeded)
			break
		}
	}
	var ws syscall.WaitStatus
	for {
		wpid, werr := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if werr == syscall.EINTR {
			continue
		}
		if wpid == pid || werr != nil {
			break
		}
		if time.Now().After(deadline) {
			timedOut = true
			syscall.Kill(-pid, syscall.SIGKILL) // the whole process group
			syscall.Wait4(pid, &ws, 0, nil)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if timedOut {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	out = w.buf.Bytes()
	if out == nil {
		out = []byte{}
	}
	if timedOut && !ws.Exited() {
		return out, w.truncated, -1, tinyfmt.Errorf("snapshot %s: command %q timed out after %s", s.name, s.command, s.timeout)
	}
	exit = ws.ExitStatus()
	if ws.Signaled() {
		exit = 128 + int(ws.Signal())
	}
	return out, w.truncated, exit, nil // a failing command is a result
}

// A boundedBuffer keeps the first max bytes written and discards the rest,
// without failing the writer, which would kill it with SIGPIPE.
type boundedBuffer struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.truncated = true
		b.buf.Write(p[:max(room, 0)])
	} else {
		b.buf.Write(p)
	}
	return len(p), nil
}

// snapshotOutput is the output as a string if it is UTF-8, else as bytes.
// When the size bound cut a rune in two, the piece is dropped so that
// truncated text stays text.
func snapshotOutput(out []byte, truncated bool) codec.Value {
	if truncated {
		for i := len(out) - 1; i >= 0 && i >= len(out)-utf8.UTFMax; i-- {
			if utf8.RuneStart(out[i]) {
				if !utf8.FullRune(out[i:]) {
					out = out[:i]
				}
				break
			}
		}
	}
	if utf8.Valid(out) {
		return codec.String(string(out))
	}
	return codec.Bytes(out)
}
