package main

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestReadOnlyMappings(t *testing.T) {
	maps := `00400000-00567000 r-xp 00000000 fd:01 1234     /opt/my app/itiny
00567000-006f3000 r--p 00167000 fd:01 1234     /opt/my app/itiny
006f3000-00704000 rw-p 002f3000 fd:01 1234     /opt/my app/itiny
00704000-0073c000 rw-p 00000000 00:00 0
7f0000000000-7f0000011000 rw-s 00000000 fd:01 999      /data/events/stage
7f0000011000-7f0000012000 r--p 00000000 fd:01 12345    /usr/share/other
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
`
	got := readOnlyMappings(maps, 1234)
	want := []uint64{0x400000, 0x167000, 0x567000, 0x18c000}
	if len(got) != len(want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %x, want %x", got, want)
		}
	}
	if s := readOnlyMappings(maps, 999); s != nil {
		t.Errorf("a writable shared mapping: %x", s)
	}
	if s := readOnlyMappings(maps, 0); s != nil {
		t.Errorf("anonymous memory: %x", s)
	}
}

// TestDropBinaryPages drops this test binary's pages and checks that it
// goes on working: code, read-only data and written data are intact.
func TestDropBinaryPages(t *testing.T) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		t.Skip(err)
	}
	written = strings.Repeat("x", 3) // .data and the heap must survive
	dropBinaryPages()
	dropBinaryPages()
	if written != "xxx" || strconv.Quote("é\x01") != `"é\x01"` || strings.ToUpper("abc") != "ABC" {
		t.Fatal("the program changed after dropBinaryPages")
	}
}

var written string

func TestStatm(t *testing.T) {
	for _, tc := range []struct {
		in               string
		resident, shared uint64
	}{
		{"1234 567 89 1 0 100 0\n", 567, 89},
		{"1 2", 2, 0},
		{"", 0, 0},
		{"12345", 0, 0},
	} {
		if r, s := statm([]byte(tc.in)); r != tc.resident || s != tc.shared {
			t.Errorf("%q: %d %d, want %d %d", tc.in, r, s, tc.resident, tc.shared)
		}
	}
	r := newResidency()
	r.check(r.start) // reads this process's memory
	if r.last == 0 {
		t.Fatal("no anonymous memory read from /proc/self/statm")
	}
}

// TestResidencyCollects: once the anonymous memory has grown by gcGrowth,
// the check collects and starts over; below that it does not.
func TestResidencyCollects(t *testing.T) {
	// Free pages the heap kept from earlier tests would take the
	// allocation below without growing resident memory; and a collection
	// of their garbage meanwhile would give pages back as it grows (seen
	// after TestSocketLimits, about once in 15 runs).
	debug.FreeOSMemory()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	r := newResidency()
	r.settled = true
	r.check(r.start)
	if r.last == 0 || r.gcs != 0 {
		t.Fatalf("first check: last %d, %d collections", r.last, r.gcs)
	}
	r.check(r.start)
	if r.gcs != 0 {
		t.Fatal("collected without growth")
	}
	hold := make([]byte, 4*gcGrowth)
	for i := range hold {
		hold[i] = 1 // resident
	}
	r.check(r.start)
	if r.gcs != 1 || r.last != 0 {
		t.Fatalf("after %d bytes more: last %d, %d collections", len(hold), r.last, r.gcs)
	}
	runtime.KeepAlive(hold)
}
