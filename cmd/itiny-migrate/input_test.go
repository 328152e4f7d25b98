package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/nats-io/nats-server/v2/server"
)

// TestMaxBytesGrammar migrates with --max-bytes as people write it and
// reads the size of the stream it created back from the store: 1G, 1GB
// and 1g are a GiB, 100M 100 MiB (once a stream of 1 byte and of 100).
func TestMaxBytesGrammar(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want int64
	}{{"1G", 1 << 30}, {"1GB", 1 << 30}, {"1g", 1 << 30}, {"100M", 100 << 20}, {"128 KiB", 128 << 10}} {
		t.Run(tc.flag, func(t *testing.T) {
			url := embedded(t, nil)
			data := testdir.TempDir(t)
			writeRing(t, data, "metrics", 50, 1<<20)
			ck := filepath.Join(testdir.TempDir(t), "ck")
			r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, "--max-bytes", tc.flag, data)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			js := connectJS(t, url)
			st, err := js.Stream(context.Background(), "ITINY_METRICS")
			if err != nil {
				t.Fatal(err)
			}
			if got := st.CachedInfo().Config.MaxBytes; got != tc.want {
				t.Errorf("--max-bytes %s: the stream's max_bytes is %d, want %d", tc.flag, got, tc.want)
			}
		})
	}
}

// TestSecretsNeverPrinted gives credentials where they do not belong, or
// wrong ones where they do, and finds them in no output.
func TestSecretsNeverPrinted(t *testing.T) {
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", 10, 1<<20)
	tokenURL := embedded(t, &server.Options{Authorization: "right-token-4d8e"})
	host := strings.TrimPrefix(tokenURL, "nats://")
	ck := filepath.Join(testdir.TempDir(t), "ck")
	const secret = "s3cr3t-7f1a"
	for _, tc := range []struct {
		name string
		env  []string
		to   string
		code int
		want string
	}{
		{"token in the URL", nil, "nats://" + secret + "@" + host, 2, "credentials in the URL"},
		{"user and password in the URL", nil, "nats://dev:" + secret + "@" + host, 2, "credentials in the URL"},
		{"kafka URL with a password", nil, "kafka://dev:" + secret + "@" + host, 2, "credentials in the URL"},
		{"malformed URL with a password", nil, "nats://dev:" + secret + "@[::1", 2, "not a URL"},
		{"wrong token", []string{"ITINY_NATS_TOKEN=" + secret}, tokenURL, 4, "refused the credentials"},
		{"wrong password", []string{"ITINY_NATS_USER=dev", "ITINY_NATS_PASSWORD=" + secret}, tokenURL, 4, "refused the credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, extra := range [][]string{nil, {"--dry-run"}, {"--json"}} {
				args := append([]string{"--to", tc.to, "--scope", "d", "--checkpoint", ck}, extra...)
				r := migrateCmd(t, tc.env, append(args, data)...)
				if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("%v: exit %d, %q; want %d and %q", extra, r.code, r.stderr, tc.code, tc.want)
				}
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Errorf("%v: the secret is in the output:\n%s\n%s", extra, r.stdout, r.stderr)
				}
			}
		})
	}
	r := migrateCmd(t, []string{"ITINY_NATS_TOKEN=right-token-4d8e"}, "--to", tokenURL, "--scope", "d", "--checkpoint", ck, data)
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "right-token-4d8e") {
		t.Fatalf("the right token: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestDryRunWithoutStore plans from the rings alone when no store
// answers: the plan, the resume point and that the store was not
// reached, exit 0; with one, that it was.
func TestDryRunWithoutStore(t *testing.T) {
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", 30, 1<<20)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	dead := fmt.Sprintf("nats://127.0.0.1:%d", deadPort(t))
	for _, to := range []string{dead, fmt.Sprintf("kafka://127.0.0.1:%d", deadPort(t))} {
		r := migrateCmd(t, nil, "--to", to, "--scope", "d", "--checkpoint", ck, "--timeout", "2s", "--dry-run", data)
		if r.code != 0 || !strings.Contains(r.stdout, "metrics    30 records (seq 1-30") || !strings.Contains(r.stdout, "store: not reached: cannot reach") ||
			!strings.Contains(r.stdout, "dry run: nothing sent") {
			t.Errorf("%s: exit %d\n%s\n%s", to, r.code, r.stdout, r.stderr)
		}
	}
	r := migrateCmd(t, nil, "--to", dead, "--scope", "d", "--checkpoint", ck, "--dry-run", "--json", data)
	var rep report
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || !strings.HasPrefix(rep.Store, "not reached: ") || len(rep.Plan) != 1 || rep.Plan[0].Records != 30 {
		t.Errorf("--json: exit %d, %+v\n%s\n%s", r.code, rep, r.stdout, r.stderr)
	}
	url := embedded(t, nil)
	r = migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, "--dry-run", data)
	if r.code != 0 || !strings.Contains(r.stdout, "store: reached") || !strings.Contains(r.stdout, "metrics    room: jetstream stream ITINY_METRICS will be made, max_bytes 1048576") {
		t.Errorf("a store: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// And the same rings then migrate: the dry run changed nothing.
	if r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, data); r.code != 0 || !strings.Contains(r.stdout, "sent 30") {
		t.Errorf("after the dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestHelpExitCodes: --help names every exit code main uses.
func TestHelpExitCodes(t *testing.T) {
	r := migrateCmd(t, nil, "--help")
	for _, c := range []string{"0  migrated", "1  the verification", "2  usage", "3  the migration could not finish", "4  the store refused", "5  the rings cannot"} {
		if !strings.Contains(r.stderr, c) {
			t.Errorf("--help does not say %q:\n%s", c, r.stderr)
		}
	}
}

// TestRingWithoutIdentity: a ring whose every segment header is damaged
// has no name its records could be sent under; the others migrate, and
// the warning says which ring was left out and why.
func TestRingWithoutIdentity(t *testing.T) {
	url := embedded(t, nil)
	data := testdir.TempDir(t)
	writeRing(t, data, "metrics", 40, 1<<20)
	writeRing(t, data, "state", 5, 1<<20)
	segs, _ := filepath.Glob(filepath.Join(data, "state", "seg-*"))
	for _, s := range segs {
		f, err := os.OpenFile(s, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte("garbage garbage garbage garbage"), 0)
		f.Close()
	}
	ck := filepath.Join(testdir.TempDir(t), "ck")
	r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, data)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: state not migrated: ") || !strings.Contains(r.stdout, "metrics    sent 40") ||
		!strings.Contains(r.stdout, "metrics    ok") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
