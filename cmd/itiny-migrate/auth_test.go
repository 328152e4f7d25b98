package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/testdir"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// TestNkey: a server that knows a user by its nkey takes a migration signed
// with the seed from --nkey FILE, and refuses another seed.
func TestNkey(t *testing.T) {
	user, _ := nkeys.CreateUser()
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	url := embedded(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.nk"), filepath.Join(dir, "bad.nk")
	os.WriteFile(good, seed, 0o600)
	os.WriteFile(bad, otherSeed, 0o600)
	data := testdir.TempDir(t)
	writeRing(t, data, "events", 20, 1<<20)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	if r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, "--nkey", bad, data); r.code != 4 || !strings.Contains(r.stderr, "refused the credentials") {
		t.Fatalf("another seed: exit %d, %s", r.code, r.stderr)
	}
	if r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, "--nkey", filepath.Join(dir, "missing"), data); r.code != 2 || !strings.Contains(r.stderr, "--nkey") {
		t.Fatalf("missing seed file: exit %d, %s", r.code, r.stderr)
	}
	if r := migrateCmd(t, nil, "--to", url, "--scope", "d", "--checkpoint", ck, "--nkey", good, data); r.code != 0 || !strings.Contains(r.stdout, "events     ok") {
		t.Fatalf("the right seed: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
}
