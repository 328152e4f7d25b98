package corespool

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHardLinks: a file hard-linked into the spool, which may be any
// file of the file system (the agent's user can link one there for the
// handler, root, to write), is never written, nor given away.
func TestHardLinks(t *testing.T) {
	data, elsewhere := t.TempDir(), t.TempDir()
	victim := filepath.Join(elsewhere, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(data, Dir), 0o750)
	if err := os.Link(victim, filepath.Join(data, Dir, stateFile)); err != nil {
		t.Skipf("no hard link: %v", err)
	}
	name, err := Capture(data, crash(noPid, 1), bytes.NewReader(seedCore(t)), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if b, _ := os.ReadFile(victim); string(b) != "keep" || syscall.Stat(victim, &st) != nil || st.Uid != uint32(os.Geteuid()) || st.Nlink != 1 {
		t.Errorf("the linked file: %q, uid %d, %d links", b, st.Uid, st.Nlink)
	}
	// The agent's side refuses a crash file linked elsewhere too.
	if err := os.Link(filepath.Join(data, Dir, name), filepath.Join(elsewhere, "other")); err != nil {
		t.Fatal(err)
	}
	s, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Read(name, 1<<20); err == nil || !strings.Contains(err.Error(), "2 links to it") {
		t.Errorf("a crash file with two links read for writing: %v", err)
	}
}

// TestAdopt: a handler that dies after it was admitted leaves its crash
// as far as it got: its first header, with the drops it carried, is
// kept as a crash without a minidump by the next look at the spool, a
// handler's or the agent's; one whose header never reached the disk is
// counted as dropped. No crash goes untold.
func TestAdopt(t *testing.T) {
	for _, agent := range []bool{false, true} {
		data := t.TempDir()
		fd, err := openDir(data)
		if err != nil {
			t.Fatal(err)
		}
		// Two crashes dropped before it, then admitted, and dead.
		os.WriteFile(filepath.Join(data, Dir, stateFile), []byte("boot b1\nstart 5\ncount 0\ndropped 2\n"), 0o640)
		c := crash(noPid, 5)
		_, _, f, err := admit(fd, &c, testLimits, ".core-77.tmp")
		if err != nil {
			t.Fatal(err)
		}
		f.Close() // its lock goes with it
		// And one whose header a power cut took.
		os.WriteFile(filepath.Join(data, Dir, ".core-78.tmp"), nil, 0o640)
		syscall.Close(fd)

		s, err := Open(data)
		if err != nil {
			t.Fatal(err)
		}
		var dropped int64
		if agent {
			if _, d, err := s.Pending(); !d || err != nil {
				t.Fatalf("pending %v, %v", d, err)
			}
			if err := s.TakeDropped(func(n int64) error { dropped += n; return nil }); err != nil {
				t.Fatal(err)
			}
		} else {
			name, err := Capture(data, crash(noPid+1, 6), bytes.NewReader(seedCore(t)), testLimits)
			if err != nil {
				t.Fatal(err)
			}
			next, _ := take(t, data, name)
			dropped = next.Dropped
		}
		dead, _, err := s.Read(entryName(5, noPid), 1<<20)
		if err != nil || dead.Dropped != 2 || dead.Size != 0 || !strings.Contains(dead.Error, notWhole) || dropped != 1 {
			t.Errorf("agent %v: the dead handler's crash %+v, %v; %d more told dropped, want 1", agent, dead, err, dropped)
		}
		if tmps, _ := filepath.Glob(filepath.Join(data, Dir, ".core-*")); len(tmps) != 0 {
			t.Errorf("agent %v: %v left", agent, tmps)
		}
		s.Close()
	}
}

// TestFinishedWhileLooked: a handler renames its crash into place and
// lets go of it between another handler's opening its temporary file
// and trying its lock. The crash is kept once and told dropped by no
// one: counted lost there, a kept crash was told dropped too (seven
// crashes at once under load, cmd/itiny's TestCoreConcurrent: 4 kept and
// 4 dropped told).
func TestFinishedWhileLooked(t *testing.T) {
	data := t.TempDir()
	fd, err := openDir(data)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	c := crash(noPid, 5)
	tmp := tmpPre + "77.tmp"
	_, _, f, err := admit(fd, &c, testLimits, tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := finish(f, &c); err != nil {
		t.Fatal(err)
	}
	name := entryName(c.Mono, c.Pid)
	renamed := false
	tmpOpened = func(n string) {
		if n == tmp && !renamed {
			renamed = true
			if err := install(fd, f, tmp, name, nil, true); err != nil { // renamed, closed: its lock goes
				t.Error(err)
			}
		}
	}
	defer func() { tmpOpened = func(string) {} }()
	next, err := Capture(data, crash(noPid+1, 6), bytes.NewReader(seedCore(t)), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !renamed {
		t.Fatal("the next handler's look at the spool did not open the temporary file")
	}
	if got, _ := take(t, data, next); got.Dropped != 0 {
		t.Errorf("the next crash tells %d dropped, want 0", got.Dropped)
	}
	s, err := Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if first, _, err := s.Read(name, 1<<20); err != nil || first.Error != "" {
		t.Errorf("the first crash: %+v, %v", first, err)
	}
}
