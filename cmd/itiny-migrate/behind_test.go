package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itiny/itiny/internal/ringtest"
	"github.com/itiny/itiny/internal/testdir"
)

// TestVerifyBehind: --verify-only on a ring the agent wrote since it was
// migrated finds it behind, not a mismatch (exit 0): the store holds it
// exactly up to its newest record, and the migration's checkpoint says
// the store never acknowledged the newer ones. --release then deletes
// only segments whose records the store holds. Without the checkpoint,
// or when the store lost records it had acknowledged, it is a mismatch.
func TestVerifyBehind(t *testing.T) {
	url := embedded(t, nil)
	data := testdir.TempDir(t)
	const migrated, written = 8000, 500
	writeRing(t, data, "metrics", migrated, 16<<20)
	ck := filepath.Join(testdir.TempDir(t), "ck")
	args := []string{"--to", url, "--scope", "d", "--checkpoint", ck}
	if r := migrateCmd(t, nil, append(args, data)...); r.code != 0 {
		t.Fatalf("migration: exit %d: %s", r.code, r.stderr)
	}
	writeRing(t, data, "metrics", written, 16<<20) // numbered on from 8001

	r := migrateCmd(t, nil, append(args, "--verify-only", data)...)
	if r.code != 0 || !strings.Contains(r.stdout, "metrics    behind") ||
		!strings.Contains(r.stdout, "500 records newer than the store's newest (8000), never acknowledged by it") {
		t.Fatalf("verify-only, ring behind: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = migrateCmd(t, nil, append(args, "--verify-only", "--json", data)...)
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("exit %d: %v %s", r.code, err, r.stderr)
	}
	if c := rep.Verify[0]; c.OK || !c.Behind || c.Newer != written || c.Missing != written || c.StoredLast != migrated || c.Last != migrated+written {
		t.Fatalf("behind, as JSON: %+v", c)
	}

	// Without the migration's checkpoint the newer records cannot be
	// told from records the store lost: a mismatch, saying why.
	other := []string{"--to", url, "--scope", "d", "--checkpoint", filepath.Join(testdir.TempDir(t), "none"), "--verify-only", data}
	if r := migrateCmd(t, nil, other...); r.code != 1 || !strings.Contains(r.stdout, "MISMATCH") ||
		!strings.Contains(r.stdout, "may be new or lost in the store: no checkpoint of this ring here") {
		t.Fatalf("verify-only without the checkpoint: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// --release keeps every segment with a record the store does not hold.
	r = migrateCmd(t, nil, append(args, "--verify-only", "--release", data)...)
	if r.code != 0 || !strings.Contains(r.stdout, "released: ") {
		t.Fatalf("release, ring behind: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	seqs := map[uint64]bool{}
	for _, rec := range ringtest.Records(t, filepath.Join(data, "metrics")) {
		seqs[rec.Seq] = true
	}
	for n := uint64(migrated + 1); n <= migrated+written; n++ {
		if !seqs[n] {
			t.Fatalf("record %d, never in the store, released from the ring (%d records left)", n, len(seqs))
		}
	}
	if seqs[1] {
		t.Error("nothing released: the oldest migrated record is still in the ring")
	}

	// The store loses its newest record, which it had acknowledged.
	st, err := connectJS(t, url).Stream(context.Background(), "ITINY_METRICS")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(context.Background(), st.CachedInfo().State.LastSeq); err != nil {
		t.Fatal(err)
	}
	r = migrateCmd(t, nil, append(args, "--verify-only", data)...)
	if r.code != 1 || !strings.Contains(r.stdout, "the store acknowledged this ring through 8000 (the checkpoint) and holds it only through 7999: lost in the store") {
		t.Fatalf("verify-only, the store's newest lost: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
