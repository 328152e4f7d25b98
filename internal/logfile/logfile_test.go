package logfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/itiny/itiny/internal/regular"
)

// TestRotation: past the limit a write goes to a new file, the older ones
// shift up by number and the oldest beyond the backups kept is gone; no
// line is split and no file but the one written past is over the limit.
func TestRotation(t *testing.T) {
	for _, tc := range []struct {
		backups int
		files   []string // the names kept, newest first
	}{{0, []string{""}}, {1, []string{"", ".1"}}, {2, []string{"", ".1", ".2"}}} {
		t.Run(fmt.Sprint(tc.backups), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "itiny.log")
			w, err := Open(path, 100, tc.backups)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 40 { // 40 lines of 20 bytes: 5 a file
				fmt.Fprintf(w, "line %013d\n", i)
			}
			w.Close()
			ents, _ := os.ReadDir(filepath.Dir(path))
			if len(ents) != len(tc.files) {
				t.Fatalf("%d files, want %d", len(ents), len(tc.files))
			}
			next := 39 // the newest line, going back
			for _, suffix := range tc.files {
				b, err := os.ReadFile(path + suffix)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				if len(b) > 100 || len(lines) != 5 {
					t.Fatalf("%s: %d bytes, %d lines, want 5 whole lines within 100 bytes", suffix, len(b), len(lines))
				}
				for i := len(lines) - 1; i >= 0; i-- {
					if want := fmt.Sprintf("line %013d", next); lines[i] != want {
						t.Fatalf("%s: line %q, want %q", suffix, lines[i], want)
					}
					next--
				}
			}
		})
	}
}

// TestReopenAppends: a second Open appends, counting what the file holds
// toward the limit.
func TestReopenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "itiny.log")
	os.WriteFile(path, []byte(strings.Repeat("x", 90)+"\n"), 0o640)
	w, err := Open(path, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("0123456789\n"))
	w.Close()
	if b, _ := os.ReadFile(path + ".1"); len(b) != 91 {
		t.Errorf("backup holds %d bytes, want the 91 there before", len(b))
	}
	if b, _ := os.ReadFile(path); string(b) != "0123456789\n" {
		t.Errorf("log holds %q", b)
	}
}

// TestOversizedLine: a line longer than the limit is written whole, in a
// file of its own.
func TestOversizedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "itiny.log")
	w, _ := Open(path, 10, 1)
	w.Write([]byte("a\n"))
	w.Write([]byte(strings.Repeat("y", 30) + "\n"))
	w.Close()
	if b, _ := os.ReadFile(path); len(b) != 31 {
		t.Errorf("log holds %d bytes, want the long line whole", len(b))
	}
}

// TestIrregular: a FIFO (even one with a reader) or a directory where the
// log should be is refused at Open, without blocking.
func TestIrregular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(fifo, 100, 1); err == nil {
		t.Error("a FIFO without a reader opened")
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := Open(fifo, 100, 1); !errors.Is(err, regular.ErrNotRegular) {
		t.Errorf("a FIFO with a reader: %v, want ErrNotRegular", err)
	}
	if _, err := Open(dir, 100, 1); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("a directory: %v", err)
	}
}

// TestRotateFails: a rotation the directory refuses leaves the line in
// the current file, and says why.
func TestRotateFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "itiny.log")
	w, _ := Open(path, 10, 1)
	defer w.Close()
	w.Write([]byte("0123456789"))
	os.Mkdir(path+".1", 0o750) // a backup name taken by a non-empty directory
	os.WriteFile(filepath.Join(path+".1", "x"), nil, 0o640)
	if n, err := w.Write([]byte("next\n")); n != 5 || err == nil {
		t.Errorf("Write: %d, %v: want the line written and the rotation's error", n, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "0123456789next\n" {
		t.Errorf("log holds %q", b)
	}
}

// TestConcurrentLines: lines written at once by many goroutines are each
// whole in one file (go test -race).
func TestConcurrentLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "itiny.log")
	w, _ := Open(path, 1000, 50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				fmt.Fprintf(w, "goroutine %d line %03d\n", g, i)
			}
		}()
	}
	wg.Wait()
	w.Close()
	total := 0
	ents, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(path), e.Name()))
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if !strings.HasPrefix(l, "goroutine ") || len(l) != len("goroutine 0 line 000") {
				t.Fatalf("%s: torn line %q", e.Name(), l)
			}
			total++
		}
	}
	if total != 800 {
		t.Errorf("%d lines, want 800", total)
	}
}
