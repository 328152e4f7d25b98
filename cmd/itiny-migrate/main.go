// Command itiny-migrate moves the history in an itiny instance's rings into
// a stream store once, when the device moves to a deployment that has one:
// every record exactly once, resumable after a crash, verified at the end.
//
// Usage:
//
//	itiny-migrate --to URL [--scope NAME] [options] [PATH...]
//
// URL is nats://HOST:PORT or tls://HOST:PORT (NATS JetStream), or
// kafka://HOST:PORT (Kafka). A PATH is a data directory (default
// $ITINY_DATA, else /var/lib/itiny), a ring directory or a support bundle.
// Credentials come from files or the environment, never from arguments:
// see --help.
//
// Exit status: 0 when every ring is in the store, verified (with
// --verify-only, also when a ring written since has records newer than
// the store's newest: behind); 1 when the verification finds a mismatch; 2 for a usage error; 3 when the migration
// could not finish (the store unreachable or failing): run it again to
// resume; 4 when the store refused the credentials or the TLS handshake:
// mend them first; 5 when the rings cannot be migrated as they are (a
// file of a ring that is not a regular file, a bundle over its limits);
// 6 when the store cannot hold the history without discarding records
// it holds: nothing was sent.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/itiny/itiny/bundle"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/datadir"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/internal/version"
	"github.com/itiny/itiny/migrate"
	"github.com/itiny/itiny/ringlog"
	"github.com/itiny/itiny/view"
)

// errUsage makes main print the usage and exit 2.
var errUsage = errors.New("usage")

// errMismatch makes main exit 1.
var errMismatch = errors.New("verification found a mismatch")

// Exit codes, as usageText says.
const (
	exitMismatch = 1
	exitUsage    = 2
	exitResume   = 3 // the default for an error
	exitRefused  = 4 // the store refused the credentials or the TLS handshake
	exitInput    = 5 // the rings cannot be migrated as they are
	exitNoRoom   = 6 // the store cannot hold the history without discarding records
)

// A codeError is an error with the exit code it makes.
type codeError struct {
	error
	code int
}

func (e *codeError) Unwrap() error { return e.error }

// withCode gives err the exit code.
func withCode(code int, err error) error { return &codeError{err, code} }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(exitUsage)
	default:
		fmt.Fprintln(os.Stderr, "itiny-migrate:", err)
		var ce *codeError
		switch {
		case errors.Is(err, errMismatch):
			os.Exit(exitMismatch)
		case errors.As(err, &ce):
			os.Exit(ce.code)
		}
		os.Exit(exitResume)
	}
}

type config struct {
	to, scope, checkpoint, payload, progress string
	streamName                               string
	maxBytes, bundleMemory                   size.Flag
	maxAge                                   time.Duration
	window, retries                          int
	timeout                                  time.Duration
	dryRun, verifyOnly, jsonOut, release     bool
	follow                                   bool
	poll, statusEvery                        time.Duration
	statusFile, agentSocket                  string
	agentEvery                               time.Duration
	connEvent                                func(error) // --follow: the store's connection broke (an error) or came back (nil)
	sec                                      security
}

const usageText = `usage: itiny-migrate --to URL [--scope NAME] [options] [PATH...]

Moves every record of the rings at PATH (a data directory, default
$ITINY_DATA or /var/lib/itiny; a ring directory; a support bundle) into a
stream store, exactly once, resumable, verified at the end. It never writes
the rings.

  URL  nats://HOST:PORT, tls://HOST:PORT   NATS JetStream: subject itiny.SCOPE.STREAM
       kafka://HOST:PORT                   Kafka: topic itiny.STREAM, one partition

Credentials, never on the command line:
  NATS   --creds FILE (a .creds file), --nkey FILE (an nkey seed), or
         ITINY_NATS_USER and ITINY_NATS_PASSWORD, or ITINY_NATS_TOKEN
  Kafka  ITINY_KAFKA_USER and ITINY_KAFKA_PASSWORD, or --sasl-file FILE
         (two lines: user, password); --sasl plain|scram-sha-256|scram-sha-512
  TLS    --tls (or a tls:// URL), --tls-ca FILE, --tls-cert FILE --tls-key FILE

Exit status:
  0  migrated and verified (--dry-run: the plan printed; --verify-only:
     also a ring behind, written since it was migrated)
  1  the verification found a mismatch
  2  usage error
  3  the migration could not finish, the store unreachable or failing:
     run it again to resume
  4  the store refused the credentials or the TLS handshake: mend them,
     then run again
  5  the rings cannot be migrated as they are (a file of a ring that is
     not a regular file, a bundle over --bundle-memory)
  6  the store cannot hold the history without discarding records it
     holds (this device's or another's): nothing was sent

Options:
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		fmt.Fprintln(stdout, "itiny-migrate", version.String)
		return nil
	}
	var c config
	fs := flag.NewFlagSet("itiny-migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.to, "to", "", "the store: nats://HOST:PORT, tls://HOST:PORT or kafka://HOST:PORT")
	fs.StringVar(&c.scope, "scope", "", "the instance's name in the store: letters, digits, '-', '_' (default inst- and 16 hex digits of the itiny stream's ring id)")
	fs.StringVar(&c.checkpoint, "checkpoint", "", "checkpoint file (default itiny-migrate.SCOPE.checkpoint in the current directory)")
	fs.StringVar(&c.payload, "payload", "same", "payload encoding: same (each record's own), json or msgpack")
	fs.IntVar(&c.window, "window", migrate.DefaultWindow, "messages in flight at most; a checkpoint follows each window")
	fs.StringVar(&c.streamName, "stream-name", migrate.DefaultStreamName, "JetStream stream per itiny stream; {STREAM} and {SCOPE} are replaced")
	c.bundleMemory = bundle.DefaultMemory
	fs.Var(&c.bundleMemory, "bundle-memory", "at most this much resident memory (a `size`: 256MiB, 1GiB) to read a bundle; one that needs more is refused, naming the file that goes over")
	fs.Var(&c.maxBytes, "max-bytes", "size limit of a stream or topic it creates (default: room for the ring, and a quarter more)")
	fs.DurationVar(&c.maxAge, "max-age", 0, "age limit of a stream or topic it creates (default none)")
	fs.IntVar(&c.retries, "retries", 5, "attempts to connect, and to resend a message not acknowledged, before giving up")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "bound of one connection attempt and of the wait for a window's acknowledgements")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the plan and change nothing")
	fs.BoolVar(&c.verifyOnly, "verify-only", false, "only compare what the store holds with the rings: a ring the agent wrote since it was migrated is behind (its newer records not sent yet), not a mismatch")
	fs.BoolVar(&c.jsonOut, "json", false, "print the plan, results and verification as JSON")
	fs.BoolVar(&c.release, "release", false, "after a verified migration, delete the migrated segments from the device (all but the newest of each ring); refused while the agent runs")
	fs.StringVar(&c.progress, "progress", "auto", "progress bar: auto (on a terminal), always or never")
	fs.BoolVar(&c.follow, "follow", false, "after the migration, keep running: forward what the agent appends to the rings, across rotation, exactly once; after an outage of the store or the network it resumes where the store stopped (the rings are the buffer). Stop it with SIGTERM")
	fs.DurationVar(&c.poll, "poll", migrate.DefaultPoll, "--follow: how often the rings are looked at when nothing was new")
	fs.DurationVar(&c.statusEvery, "status-every", 10*time.Second, "--follow: how often the status line (state, and per stream the messages not yet acknowledged and the age of the oldest) is written to stderr")
	fs.StringVar(&c.statusFile, "status-file", "", "--follow: also write the status as JSON to this file, replaced atomically")
	fs.StringVar(&c.agentSocket, "agent-socket", "auto", "--follow: send the status to the agent at this socket, as forward.status records of its own stream, when the state changes and every --agent-status-every; auto: the data directory's itiny.sock if it has one; empty: never")
	fs.DurationVar(&c.agentEvery, "agent-status-every", 10*time.Minute, "--follow: how often the status goes to the agent while it does not change")
	c.sec.flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{datadir.Default()}
	}
	fail := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "itiny-migrate: "+format+"\n", a...)
		return errUsage
	}
	if c.to == "" {
		return fail("--to is required: nats://HOST:PORT or kafka://HOST:PORT")
	}
	u, err := url.Parse(c.to)
	if err != nil || u.Host == "" {
		return fail("--to %q: not a URL like nats://127.0.0.1:4222", redact(c.to))
	}
	if u.User != nil {
		return fail("--to %q: credentials in the URL (user, password or token) would show in the process list; use --creds, --nkey, --sasl-file or the environment (--help)", redact(c.to))
	}
	if c.scope != "" {
		if err := migrate.ValidScope(c.scope); err != nil {
			return fail("--scope: %v", err)
		}
	}
	var convert codec.Codec
	switch c.payload {
	case "same":
	case "json", "msgpack":
		convert, _ = codec.ParseCodec(c.payload)
	default:
		return fail("--payload %q: same, json or msgpack", c.payload)
	}
	maxBytes := int64(c.maxBytes)
	switch strings.ToLower(c.sec.saslMech) {
	case "plain", "scram-sha-256", "scram-sha-512":
	default:
		return fail("--sasl %q: plain, scram-sha-256 or scram-sha-512", c.sec.saslMech)
	}
	if c.window < 1 || c.window > 1<<20 {
		return fail("--window %d: from 1 to %d", c.window, 1<<20)
	}
	if c.follow && (c.dryRun || c.verifyOnly || c.release) {
		return fail("--follow forwards for as long as it runs: not with --dry-run, --verify-only or --release")
	}
	if c.follow && (c.poll < time.Millisecond || c.statusEvery <= 0 || c.agentEvery <= 0) {
		return fail("--poll %v, --status-every %v, --agent-status-every %v: want at least 1ms and more than 0", c.poll, c.statusEvery, c.agentEvery)
	}

	in, err := view.OpenWith(paths, view.OpenOptions{BundleMemory: int64(c.bundleMemory)})
	if errors.Is(err, bundle.ErrLimit) {
		return withCode(exitInput, fmt.Errorf("%w (--bundle-memory raises the limit)", err))
	}
	if err != nil {
		return withCode(exitInput, err)
	}
	for _, p := range in.Problems {
		fmt.Fprintln(stderr, "itiny-migrate: warning:", p)
	}
	if c.scope == "" {
		if c.scope, err = migrate.DefaultScope(in); err != nil {
			return fail("%v", err)
		}
	}
	if c.checkpoint == "" {
		c.checkpoint = "itiny-migrate." + c.scope + ".checkpoint"
	}
	if _, err := migrate.LoadCheckpoint(c.checkpoint); err != nil {
		return withCode(exitUsage, fmt.Errorf("--checkpoint %s: %w", c.checkpoint, err))
	}
	plan, err := migrate.NewPlan(in, c.scope)
	if err != nil {
		return withCode(exitInput, err)
	}
	for _, sk := range plan.Skipped {
		fmt.Fprintf(stderr, "itiny-migrate: warning: %s not migrated: %s: %s\n", sk.Stream, sk.Where, sk.Why)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dial := dialJetStream
	switch u.Scheme {
	case "nats", "tls":
	case "kafka":
		dial = dialKafka
	default:
		return fail("--to %q: scheme %q: nats, tls or kafka", redact(c.to), u.Scheme)
	}
	if c.follow {
		f := &follower{c: &c, u: u, dial: dial, paths: paths, convert: convert, stderr: stderr,
			status: followStatus{Scope: c.scope, State: "starting"}}
		return f.run(ctx)
	}
	if c.dryRun {
		// The plan is the rings' and the checkpoint's: a store that
		// cannot be reached is said, once tried, not an error.
		c.retries = 1
	}
	sink, err := dial(ctx, u, &c, maxBytes)
	out := report{Sink: u.Scheme + "://" + u.Host, Scope: plan.Scope, Checkpoint: c.checkpoint}
	for _, r := range plan.Rings {
		out.Plan = append(out.Plan, planRow(r))
	}
	if c.dryRun {
		var ce *codeError
		if err != nil && (!errors.As(err, &ce) || ce.code == exitResume) {
			out.Store = "not reached: " + err.Error()
			err = nil
		}
		if err != nil {
			return err
		}
		var noRoom error
		if sink != nil {
			out.Sink, out.Store = sink.Name(), "reached"
			defer sink.Close()
			if rc, ok := sink.(migrate.RoomChecker); ok {
				for _, r := range plan.Rings {
					msg, err := rc.Room(ctx, plan, r)
					if err != nil {
						msg = err.Error()
						if errors.Is(err, migrate.ErrNoRoom) && noRoom == nil {
							noRoom = withCode(exitNoRoom, fmt.Errorf("%s: %w", r.Stream, err))
						}
					}
					out.Room = append(out.Room, roomJSON{Stream: r.Stream, Room: msg})
				}
			}
		}
		if err := printPlan(stdout, &out, plan, &c); err != nil {
			return err
		}
		return noRoom
	}
	if err != nil {
		return err
	}
	defer sink.Close()
	out.Sink = sink.Name()
	if !c.jsonOut {
		printPlanText(stdout, &out)
	}
	if !c.verifyOnly {
		o := migrate.Options{Window: c.window, Checkpoint: c.checkpoint, Convert: convert,
			Logf: func(f string, a ...any) { fmt.Fprintf(stderr, "itiny-migrate: "+f+"\n", a...) }}
		if c.progress == "always" || c.progress == "auto" && isTerminal(stderr) {
			var total uint64
			for _, r := range plan.Rings {
				total += r.Messages()
			}
			o.Progress = migrate.NewProgress(stderr, total)
		}
		res, err := migrate.Run(ctx, plan, sink, o)
		if o.Progress != nil {
			o.Progress.Done()
		}
		out.Results = res
		if err != nil {
			if c.jsonOut {
				json.NewEncoder(stdout).Encode(&out)
			}
			if errors.Is(err, migrate.ErrNoRoom) {
				return withCode(exitNoRoom, err)
			}
			return fmt.Errorf("%w (the checkpoint %s keeps what is done: run again to resume)", err, c.checkpoint)
		}
		if !c.jsonOut {
			for _, r := range res {
				rate := float64(r.Sent) / max(r.Elapsed.Seconds(), 1e-9)
				fmt.Fprintf(stdout, "%-10s sent %d, skipped %d below the checkpoint, %d found stored after it, in %v (%.0f messages/s)\n",
					r.Stream, r.Sent, r.Skipped, r.Found, r.Elapsed.Round(time.Millisecond), rate)
			}
		}
	}
	// --verify-only plans the rings as they are now: with the checkpoint,
	// a ring written since its migration is behind, not a mismatch.
	var cp *migrate.Checkpoint
	if c.verifyOnly {
		if cp, err = migrate.LoadCheckpoint(c.checkpoint); err != nil {
			return withCode(exitUsage, fmt.Errorf("--checkpoint %s: %w", c.checkpoint, err))
		}
	}
	checks, err := migrate.Verify(ctx, plan, sink, cp)
	out.Verify = checks
	if c.jsonOut {
		json.NewEncoder(stdout).Encode(&out)
	} else if err == nil {
		fmt.Fprintln(stdout)
		migrate.WriteChecks(stdout, checks)
	}
	if err != nil {
		return err
	}
	for _, ch := range checks {
		if !ch.OK && !ch.Behind {
			return errMismatch
		}
	}
	if c.release {
		return release(stdout, plan, checks)
	}
	return nil
}

// release deletes, from each ring directory, the segments the store now
// holds, verified: all but the newest, which keeps the ring's numbering,
// and, of a ring behind, those with records not sent yet.
func release(w io.Writer, plan *migrate.Plan, checks []migrate.RingCheck) error {
	for i, r := range plan.Rings {
		if r.Dir == "" {
			fmt.Fprintf(w, "%-10s not released: %s is not a ring directory on this machine\n", r.Stream, r.Where)
			continue
		}
		through := r.Last
		if checks[i].Behind {
			through = checks[i].StoredLast
		}
		removed, err := ringlog.Release(r.Dir, through)
		if err != nil {
			return fmt.Errorf("release %s: %w (stop the agent first; the store holds everything, so run again with --release)", r.Stream, err)
		}
		fmt.Fprintf(w, "%-10s released: %d segments deleted, the newest kept\n", r.Stream, len(removed))
	}
	return nil
}

// report is what --json prints.
type report struct {
	Sink       string                `json:"sink"`
	Scope      string                `json:"scope"`
	Checkpoint string                `json:"checkpoint"`
	Store      string                `json:"store,omitempty"` // --dry-run: reached, or not and why
	Room       []roomJSON            `json:"room,omitempty"`  // --dry-run, a store reached: each destination's room
	Plan       []planJSON            `json:"plan"`
	Results    []migrate.RingResult  `json:"results,omitempty"`
	Verify     []migrate.RingCheck   `json:"verify,omitempty"`
	Resume     map[string]resumeJSON `json:"resume,omitempty"`
}

type planJSON struct {
	Stream   string     `json:"stream"`
	Where    string     `json:"where"`
	Ring     string     `json:"ring"`
	Codec    string     `json:"codec"`
	Records  uint64     `json:"records"`
	First    uint64     `json:"first"`
	Last     uint64     `json:"last"`
	Bytes    int64      `json:"bytes"`
	Oldest   codec.Time `json:"oldest"`
	Newest   codec.Time `json:"newest"`
	Gaps     []view.Gap `json:"gaps"`
	Undecode uint64     `json:"undecodable"`
}

type roomJSON struct {
	Stream string `json:"stream"`
	Room   string `json:"room"`
}

type resumeJSON struct {
	Acked   uint64     `json:"acked"`
	Updated codec.Time `json:"updated"`
}

func planRow(r *migrate.RingPlan) planJSON {
	return planJSON{Stream: r.Stream, Where: r.Where, Ring: r.RingID(), Codec: r.Codec.String(), Records: r.Records,
		First: r.First, Last: r.Last, Bytes: r.Bytes, Oldest: codec.Time{Time: r.Oldest}, Newest: codec.Time{Time: r.Newest}, Gaps: r.Gaps, Undecode: r.Bad}
}

func printPlan(w io.Writer, out *report, plan *migrate.Plan, c *config) error {
	cp, err := migrate.LoadCheckpoint(c.checkpoint)
	if err != nil {
		return err
	}
	out.Resume = map[string]resumeJSON{}
	for _, r := range plan.Rings {
		if sc := cp.Streams[r.Stream]; sc != nil && sc.Ring == r.RingID() {
			out.Resume[r.Stream] = resumeJSON{Acked: sc.Acked, Updated: sc.Updated}
		}
	}
	if c.jsonOut {
		return json.NewEncoder(w).Encode(out)
	}
	printPlanText(w, out)
	for s, r := range out.Resume {
		fmt.Fprintf(w, "%-10s resumes: %d messages acknowledged by %s\n", s, r.Acked, r.Updated.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "store: %s\n", out.Store)
	for _, r := range out.Room {
		fmt.Fprintf(w, "%-10s room: %s\n", r.Stream, r.Room)
	}
	fmt.Fprintln(w, "dry run: nothing sent")
	return nil
}

func printPlanText(w io.Writer, out *report) {
	fmt.Fprintf(w, "migrate scope %s to %s (checkpoint %s)\n", out.Scope, out.Sink, out.Checkpoint)
	for _, p := range out.Plan {
		span := "-"
		if p.Records > 0 {
			span = fmt.Sprintf("%d-%d", p.First, p.Last)
		}
		fmt.Fprintf(w, "%-10s %d records (seq %s, %d bytes, %s) ring %s, %s, %d gap markers\n",
			p.Stream, p.Records, span, p.Bytes, p.Codec, p.Ring[:8], p.Where, len(p.Gaps))
		for _, g := range p.Gaps {
			fmt.Fprintf(w, "%-10s   gap %d-%d: %s\n", "", g.From, g.To, g.Cause)
		}
	}
}

// attempts says how many attempts were made.
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}

// redact returns a --to URL for messages: its user information, a user
// and a password or a token, replaced by "REDACTED", whether or not the
// URL parses.
func redact(to string) string {
	start, end := 0, len(to)
	if i := strings.Index(to, "://"); i >= 0 {
		start = i + 3
	}
	if i := strings.IndexAny(to[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndexByte(to[start:end], '@')
	if at < 0 {
		return to
	}
	return to[:start] + "REDACTED" + to[start+at:]
}

// isTerminal reports whether w is a terminal (TCGETS succeeds on it).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	var t syscall.Termios
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return e == 0
}

// readSecret reads a credential file, without its surrounding white space.
func readSecret(path string) (string, error) {
	b, err := regular.ReadFile(filepath.Clean(path), maxSecret)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// maxSecret bounds a file of credentials, keys or certificates.
const maxSecret = 1 << 20
