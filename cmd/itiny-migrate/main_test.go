package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/natstest"
	"github.com/itiny/itiny/internal/testbin"
	"github.com/itiny/itiny/internal/testdir"
	"github.com/itiny/itiny/internal/version"
	"github.com/itiny/itiny/migrate"
	"github.com/itiny/itiny/ringlog"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var binary string

func TestMain(m *testing.M) { testbin.Main(m.Run, "itiny-migrate", &binary) }

// embedded starts a NATS server with JetStream in the test process, on
// 127.0.0.1 only.
func embedded(t *testing.T, opts *server.Options) string { return natstest.Start(t, opts) }

// standalone starts Debian's nats-server as a process on 127.0.0.1 and
// stops it by its pid at the end (restart_test.go).
func standalone(t *testing.T) string { return newRestartable(t).url() }

// deadPort returns a port of 127.0.0.1 that refuses connections until the
// test ends: a socket is bound to it and never listens, so no server can
// take it (a port found free and let go was taken by another test's NATS
// server, and the migration to "nowhere" succeeded).
func deadPort(t *testing.T) int {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}

var base = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// writeRing writes n records to a ring of stream under data.
func writeRing(t *testing.T, data, stream string, n int, budget int64) {
	t.Helper()
	w, err := ringlog.Open(filepath.Join(data, stream), ringlog.Options{Stream: stream, Codec: codec.Msgpack, Budget: budget, SegmentSize: 128 << 10, StageSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		r := codec.Record{Stream: stream, BootCount: 1, Wall: base.Add(time.Duration(i) * time.Millisecond), Mono: int64(i), Level: codec.LevelInfo,
			Name: "sample", Fields: codec.Fields{{Key: "i", Value: codec.Int(int64(i))}, {Key: "load", Value: codec.Float(float64(i%100) / 7)}}}
		if _, err := w.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func migrateCmd(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return result{cmd.ProcessState.ExitCode(), o.String(), e.String()}
}

// TestSIGKILLEmbedded and TestSIGKILLStandalone kill itiny-migrate with
// SIGKILL at random moments until a run finishes, pausing past the
// store's duplicate window after each kill, and then find every record
// exactly once, with the right ids.
func TestSIGKILLEmbedded(t *testing.T)   { killJetStream(t, embedded(t, nil)) }
func TestSIGKILLStandalone(t *testing.T) { killJetStream(t, standalone(t)) }

// The rings the SIGKILL tests migrate: records per stream.
var killRings = map[string]int{"metrics": 40000, "events": 6000, "state": 300}

func writeKillRings(t *testing.T) string {
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", killRings["metrics"], 16<<20)
	writeRing(t, data, "events", killRings["events"], 512<<10) // retention deletes the oldest
	writeRing(t, data, "state", killRings["state"], 1<<20)
	return data
}

func killJetStream(t *testing.T, url string) {
	data := writeKillRings(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	for s := range killRings {
		// A duplicate window shorter than the pause after each kill: the
		// resume must not lean on it.
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ITINY_" + strings.ToUpper(s), Subjects: []string{"itiny.*." + s}, Duplicates: 200 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	killUntilDone(t, url, data, func() uint64 { return count(t, js, "ITINY_METRICS") })
	checkExactlyOnce(t, js, "dev-7", data, killRings)
}

// killUntilDone runs itiny-migrate on data as scope dev-7 again and again,
// killing it with SIGKILL when stored() (messages of the metrics stream in
// the store) reaches a random share of its records, or at a random early
// moment, until six kills landed mid-migration and a run then finishes.
func killUntilDone(t *testing.T, url, data string, stored func() uint64) {
	ck := filepath.Join(testdir.TempDir(t), "ck")
	args := []string{"--to", url, "--scope", "dev-7", "--checkpoint", ck, "--window", "700", data}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	total := uint64(killRings["metrics"])
	const midwayKills = 6
	midway := 0 // kills with part of the records stored
	for run := 0; ; run++ {
		if run == 40 {
			t.Fatal("40 runs and no run finished")
		}
		cmd := exec.Command(binary, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill when the store holds a random share of the metrics stream
		// (the first stream sent): mid-window, mid-checkpoint, anywhere.
		// Every third run is killed early instead, at a random moment
		// while it plans, connects or scans. At most 80%: with 98% the
		// run stored the last 800 messages while a loaded machine delayed
		// the kill, no later kill could land mid-migration, and the test
		// ended after 40 runs.
		target := total * uint64(1+rng.IntN(80)) / 100
		early := time.After(time.Duration(5+rng.IntN(60)) * time.Millisecond)
		if midway >= midwayKills {
			target, early = 1<<63, nil
		} else if run%3 != 2 {
			early = nil
		}
		poll := time.NewTicker(time.Millisecond)
	watch:
		for {
			select {
			case err := <-done:
				poll.Stop()
				if err != nil {
					t.Fatalf("run %d: %v\n%s", run, err, stderr.String())
				}
				if midway < midwayKills {
					t.Fatalf("run %d finished before %d kills mid-migration", run, midwayKills)
				}
				t.Logf("run %d finished after %d kills, %d of them with part of the metrics stored", run, run, midway)
				return
			case <-early:
				break watch
			case <-poll.C:
				if stored() >= target {
					break watch
				}
			}
		}
		poll.Stop()
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if n := stored(); n > 0 && n < total {
			midway++
		}
		time.Sleep(250 * time.Millisecond) // past the duplicate window
	}
}

func count(t *testing.T, js jetstream.JetStream, name string) uint64 {
	st, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}

// ringFacts returns the identity of the ring of stream under data, in hex,
// and the first number it holds.
func ringFacts(t *testing.T, data, stream string) (ring string, first uint64) {
	t.Helper()
	r, err := ringlog.NewReader(filepath.Join(data, stream))
	if err != nil {
		t.Fatal(err)
	}
	segs := r.Segments()
	return fmt.Sprintf("%x", segs[len(segs)-1].Header.Ring), segs[0].Header.First
}

// checkExactlyOnce reads every message of each stream: each record number
// of the ring once, with the id SCOPE.RING.STREAM.SEQ, and gap markers
// only for what the ring lacks.
func checkExactlyOnce(t *testing.T, js jetstream.JetStream, scope, data string, want map[string]int) {
	t.Helper()
	for stream, n := range want {
		ring, first := ringFacts(t, data, stream)
		seen := map[uint64]bool{}
		markers := 0
		for i, m := range natstest.Messages(t, js, "ITINY_"+strings.ToUpper(stream)) {
			if m.Sequence != uint64(i+1) {
				t.Fatalf("%s: message %d at sequence %d: one is missing", stream, i+1, m.Sequence)
			}
			if g := m.Header.Get(migrate.HeaderGap); g != "" {
				markers++
				if want := fmt.Sprintf("1-%d", first-1); g != want {
					t.Errorf("%s: marker %s, want %s", stream, g, want)
				}
				continue
			}
			id, _ := migrate.ParseID(m.Header.Get(jetstream.MsgIDHeader))
			rs := id.Seq
			if seen[rs] {
				t.Fatalf("%s: record %d stored twice", stream, rs)
			}
			seen[rs] = true
			if id, want := m.Header.Get(jetstream.MsgIDHeader), fmt.Sprintf("%s.%s.%s.%d", scope, ring, stream, rs); id != want {
				t.Fatalf("%s: Msg-Id %s, want %s", stream, id, want)
			}
		}
		if exp := n - int(first) + 1; len(seen) != exp {
			t.Errorf("%s: %d records stored, want %d (%d..%d)", stream, len(seen), exp, first, n)
		}
		if (first > 1) != (markers == 1) || markers > 1 {
			t.Errorf("%s: %d gap markers, ring starts at %d", stream, markers, first)
		}
		t.Logf("%s: %d records exactly once (from %d), %d markers", stream, len(seen), first, markers)
	}
}

// TestDryRun: the plan, and nothing created; with no --scope, the scope is
// named after the agent's own ring.
func TestDryRun(t *testing.T) {
	url := embedded(t, nil)
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", 100, 1<<20)
	writeRing(t, data, "itiny", 3, 1<<20)
	r := migrateCmd(t, nil, "--to", url, "--checkpoint", filepath.Join(testdir.TempDir(t), "ck"), "--dry-run", "--json", data)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Plan) != 2 || rep.Plan[1].Stream != "metrics" || rep.Plan[1].Records != 100 || rep.Plan[1].First != 1 || rep.Plan[1].Last != 100 || rep.Results != nil {
		t.Fatalf("plan %+v", rep)
	}
	if want := "inst-" + rep.Plan[0].Ring[:16]; rep.Scope != want || rep.Plan[0].Stream != "itiny" {
		t.Fatalf("scope %q, want %q", rep.Scope, want)
	}
	nc, _ := nats.Connect(url)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.Stream(context.Background(), "ITINY_METRICS"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("a dry run created the stream: %v", err)
	}
}

// TestDryRunAnyWallYear: records from a clock set to year 12000 or -5
// disable no JSON output; the plan gives their times as FORMAT.md 4.2 does.
func TestDryRunAnyWallYear(t *testing.T) {
	url := embedded(t, nil)
	data := t.TempDir()
	w, err := ringlog.Open(filepath.Join(data, "events"), ringlog.Options{Stream: "events", Codec: codec.Msgpack, Budget: 1 << 20, SegmentSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, wall := range []time.Time{time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := w.Append(&codec.Record{Stream: "events", BootCount: 1, Wall: wall, Name: "clock"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := migrateCmd(t, nil, "--to", url, "--scope", "s", "--checkpoint", filepath.Join(t.TempDir(), "ck"), "--dry-run", "--json", data)
	var rep struct {
		Plan []struct{ Oldest, Newest string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	if len(rep.Plan) != 1 || rep.Plan[0].Oldest != "+12000-01-01T00:00:00.000000000Z" || rep.Plan[0].Newest != "-0005-03-01T00:00:00.000000000Z" {
		t.Fatalf("plan %+v", rep.Plan)
	}
}

func TestErrors(t *testing.T) {
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", 10, 1<<20)
	authURL := embedded(t, &server.Options{Username: "dev", Password: "s3cret"})
	dead := fmt.Sprintf("nats://127.0.0.1:%d", deadPort(t))
	ck := filepath.Join(testdir.TempDir(t), "ck")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"no --to", nil, []string{"--scope", "d", data}, 2, "--to is required"},
		{"no scope, no itiny ring", nil, []string{"--to", dead, data}, 2, "no scope: name the instance with --scope"},
		{"bad scope", nil, []string{"--to", dead, "--scope", "a.b", data}, 2, `byte '.' at 1`},
		{"bad SASL mechanism", nil, []string{"--to", "kafka://127.0.0.1:9092", "--scope", "d", "--sasl", "md5", data}, 2, `--sasl "md5"`},
		{"password in URL", nil, []string{"--to", "nats://u:p@127.0.0.1:4222", "--scope", "d", data}, 2, "credentials in the URL"},
		{"unreachable", nil, []string{"--to", dead, "--scope", "d", "--retries", "2", "--checkpoint", ck, data}, 3, "cannot reach nats server 127.0.0.1:"},
		{"no credentials", nil, []string{"--to", authURL, "--scope", "d", "--checkpoint", ck, data}, 4, "refused the credentials"},
		{"wrong password", []string{"ITINY_NATS_USER=dev", "ITINY_NATS_PASSWORD=nope"}, []string{"--to", authURL, "--scope", "d", "--checkpoint", ck, data}, 4, "refused the credentials"},
		{"wrong password, dry run", []string{"ITINY_NATS_USER=dev", "ITINY_NATS_PASSWORD=nope"}, []string{"--to", authURL, "--scope", "d", "--checkpoint", ck, "--dry-run", data}, 4, "refused the credentials"},
		{"not a ring", nil, []string{"--to", dead, "--scope", "d", t.TempDir()}, 5, "no ring in it"},
		{"size without a unit we know", nil, []string{"--to", dead, "--scope", "d", "--max-bytes", "12parsecs", data}, 2, `size "12parsecs": unknown unit "parsecs"`},
		{"size of a fraction", nil, []string{"--to", dead, "--scope", "d", "--max-bytes", "1.5G", data}, 2, `unknown unit ".5G"`},
		{"no size", nil, []string{"--to", dead, "--scope", "d", "--max-bytes", "0", data}, 2, `size "0": must be more than 0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := migrateCmd(t, tc.env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
	// The right password works, from the environment.
	r := migrateCmd(t, []string{"ITINY_NATS_USER=dev", "ITINY_NATS_PASSWORD=s3cret"}, "--to", authURL, "--scope", "d", "--checkpoint", ck, data)
	if r.code != 0 || !strings.Contains(r.stdout, "metrics    ok") {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestVerifyMismatchExit1(t *testing.T) {
	url := embedded(t, nil)
	data := testdir.TempDir(t)
	writeRing(t, data, "state", 20, 1<<20)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	if r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, data); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	nc, _ := nats.Connect(url)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, _ := js.Stream(context.Background(), "ITINY_STATE")
	if err := st.DeleteMsg(context.Background(), 5); err != nil {
		t.Fatal(err)
	}
	r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, "--verify-only", data)
	if r.code != 1 || !strings.Contains(r.stdout, "MISMATCH") || !strings.Contains(r.stderr, "verification found a mismatch") {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}

// digest lists the files of the rings under data with their contents'
// hashes, to show that a migration writes nothing there.
func digest(t *testing.T, data string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(data, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(p)
		fmt.Fprintf(&b, "%s %x\n", p, sha256.Sum256(content))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRelease: a migration leaves the rings as they were; --release after
// a verified one deletes all segments but the newest, and is refused
// while a writer has the ring open.
func TestRelease(t *testing.T) {
	url := embedded(t, nil)
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", 20000, 16<<20)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	args := []string{"--to", url, "--scope", "d", "--checkpoint", ck, data}
	before := digest(t, data)
	if r := migrateCmd(t, nil, args...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if digest(t, data) != before {
		t.Fatal("a migration changed the ring")
	}
	segs := func() []ringlog.SegmentInfo {
		r, err := ringlog.NewReader(filepath.Join(data, "metrics"))
		if err != nil {
			t.Fatal(err)
		}
		return r.Segments()
	}
	n := len(segs())
	if n < 3 {
		t.Fatalf("%d segments", n)
	}

	// The agent runs: the ring is locked, nothing is deleted.
	w, err := ringlog.Open(filepath.Join(data, "metrics"), ringlog.Options{Stream: "metrics", Codec: codec.Msgpack, Budget: 16 << 20, SegmentSize: 128 << 10, StageSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	r := migrateCmd(t, nil, append([]string{"--release", "--verify-only"}, args...)...)
	w.Close()
	if r.code != 3 || !strings.Contains(r.stderr, "locked") || len(segs()) != n {
		t.Fatalf("release while locked: exit %d, %s; %d of %d segments", r.code, r.stderr, len(segs()), n)
	}

	r = migrateCmd(t, nil, append([]string{"--release"}, args...)...)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("released: %d segments deleted", n-1)) {
		t.Fatalf("release: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if left := segs(); len(left) != 1 {
		t.Fatalf("%d segments left", len(left))
	}
	// The store still holds everything; the ring now holds the newest part.
	r = migrateCmd(t, nil, append([]string{"--verify-only", "--json"}, args...)...)
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("exit %d: %v %s", r.code, err, r.stderr)
	}
	if c := rep.Verify[0]; !c.OK || c.Earlier+c.Stored != 20000 || c.Last != 20000 {
		t.Fatalf("after release: %+v", c)
	}
}

// TestClientsStayOut: the store clients are linked into itiny-migrate only,
// never into the firmware agent or the field engineer's reader.
func TestClientsStayOut(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/itiny/itiny/cmd/itiny", "github.com/itiny/itiny/cmd/itiny-read").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "nats-io") || strings.Contains(dep, "twmb/franz-go") || dep == "github.com/itiny/itiny/migrate" {
			t.Errorf("itiny or itiny-read depends on %s", dep)
		}
	}
}

// TestVersion: --version prints the one version string the agent and
// itiny-read print too.
func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"--version"}, &out, &errOut); err != nil || out.String() != "itiny-migrate "+version.String+"\n" {
		t.Errorf("--version: %v, %q, %q", err, out.String(), errOut.String())
	}
}
