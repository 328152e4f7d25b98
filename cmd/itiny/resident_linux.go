package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resident memory of `itiny run` (issue 3: at most 4 MiB under load;
// docs/BENCHMARKS.md section 4).
//
// Half of the agent's RSS was its own binary. The kernel maps file pages 16
// at a time around each page fault (fault-around, 64 KiB) from the page
// cache, so touching one page of a 64 KiB stretch maps all of it. Runtime
// and package init, config parsing and startup touch pages all over the
// read-only data and the symbol table (.rodata and .gopclntab, 1.6 MB of
// the 3.1 MB binary), all of it resident, while in steady state the agent
// reads about a third of it (smaps Referenced after clear_refs: 580 of
// 1,588 KB in 20 s). dropBinaryPages unmaps the binary's read-only
// mappings and drops their pages from the page cache, so that pages read
// again come back one at a time (MADV_RANDOM: no read-around on the
// refault) and fault-around finds no cached neighbours to map. The pages are clean copies of the file: the
// kernel drops them the same way under memory pressure and reads them
// again on the next access. Measured (bench/footprint.sh, 1,000 records/s):
// RssFile 3.07 to 2.03 MiB; .rodata 192 of 380 KB and .gopclntab 384 of
// 1,200 KB resident (/proc/PID/pagemap). Executable text does not shrink on
// Linux 6.18 (1,352 of 1,432 KB stay resident): a fault in an executable
// mapping reads ahead whatever MADV_RANDOM says, and fault-around then maps
// what was read.
//
// Pages that other processes map (a second agent, `itiny emit`) stay
// cached; nothing else is affected.

// settleAfter is how long after start the agent settles (see settle).
const settleAfter = 3 * time.Second

// Garbage between collections. In steady state the agent allocates little
// (rotating a ring's segment, about 3 KB, a few times a second under
// load), but after each collection the runtime lets the heap grow by at
// least 1 MiB before the next (sweepMinHeapDistance), whatever GOGC says,
// and all of that becomes RSS. collect reads the RSS every gcCheckEvery
// and, once it has grown by gcGrowth since the last collection, collects
// and returns the free pages to the kernel (debug.FreeOSMemory): at 1,000
// records/s about every 20 s, under 1 ms of CPU each; idle, hardly ever.
// Measured over 180 s at 1,000 records/s: RssAnon levels off at 2.1-2.2
// MiB; without collect it was 2.9 MiB after 160 s and rising. The heap's
// size would be the obvious signal, but runtime.ReadMemStats costs 3 KB
// of firmware and its flushing of the allocator's caches 0.2 MiB more RSS
// (the same run: 2.4 MiB); runtime/metrics costs 24 KB.
const (
	gcCheckEvery = 5 * time.Second
	gcGrowth     = 128 << 10
)

func init() {
	// itiny writes no heap profiles: without sampling, the runtime never
	// creates its 1.4 MB profiling hash table, of which every sampled
	// allocation site makes a page resident.
	runtime.MemProfileRate = 0
}

// settle waits settleAfter after the agent started: the first samples are
// taken, the socket is up, and startup's garbage is garbage. It drops the
// binary's pages that only startup used, then collects and returns the
// free heap to the kernel (debug.FreeOSMemory), then runs collect.
// Dropping first keeps the peak low: the first collection adds about 0.4
// MB of the runtime's GC metadata, and its refaults of the binary are
// single pages.
func settle() {
	time.Sleep(settleAfter)
	dropBinaryPages()
	debug.FreeOSMemory()
	collect()
}

// collect runs a collection whenever the RSS (the second figure of
// /proc/self/statm, in pages) has grown by gcGrowth since the last one.
func collect() {
	var last uint64 // 0: the next reading is the baseline
	for range time.NewTicker(gcCheckEvery).C {
		b, _ := os.ReadFile("/proc/self/statm")
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return
		}
		n, _ := strconv.ParseUint(f[1], 10, 64)
		switch rss := n * uint64(os.Getpagesize()); {
		case last == 0 || rss < last:
			last = rss
		case rss >= last+gcGrowth:
			debug.FreeOSMemory()
			last = 0
		}
	}
}

// dropBinaryPages unmaps the read-only mappings of the running binary and
// drops its pages that nothing else maps from the page cache. Failures are
// ignored: this only saves memory.
func dropBinaryPages() {
	fd, err := syscall.Open("/proc/self/exe", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	var st syscall.Stat_t
	err = syscall.Fstat(fd, &st)
	// A binary just written (an update, a benchmark's build) has dirty
	// pages, which the page cache cannot drop; on a device this is a no-op.
	syscall.Fdatasync(fd)
	syscall.Close(fd)
	maps, err2 := os.ReadFile("/proc/self/maps")
	if err != nil || err2 != nil {
		return
	}
	spans := readOnlyMappings(string(maps), st.Ino)
	// MADV_PAGEOUT (Linux 5.4) unmaps each page and drops it from the page
	// cache unless another process maps it. (Older kernels refuse it; only
	// unmapping, MADV_DONTNEED, saves nothing: fault-around maps the cached
	// pages again at once.) RawSyscall: with one P, no other goroutine
	// refaults pages meanwhile.
	const madvPageout = 21
	for i := 0; i < len(spans); i += 2 {
		syscall.RawSyscall(syscall.SYS_MADVISE, uintptr(spans[i]), uintptr(spans[i+1]), syscall.MADV_RANDOM)
		syscall.RawSyscall(syscall.SYS_MADVISE, uintptr(spans[i]), uintptr(spans[i+1]), madvPageout)
	}
}

// readOnlyMappings returns the address and length of each read-only
// mapping of the file with inode ino, in the text of /proc/self/maps.
// Never a writable one: MADV_DONTNEED on .data would lose what the program
// wrote. (Another file with the same inode on another device would only
// have its clean pages dropped, which is harmless.)
func readOnlyMappings(maps string, ino uint64) []uint64 {
	id := strconv.FormatUint(ino, 10)
	var spans []uint64
	for _, l := range strings.Split(maps, "\n") {
		// "lo-hi perms offset dev inode path", addresses in hex
		f := strings.Fields(l)
		if len(f) < 6 || f[4] != id || len(f[1]) < 2 || f[1][1] != '-' {
			continue // another file's, or writable ("rw-p")
		}
		a, z, _ := strings.Cut(f[0], "-")
		lo, _ := strconv.ParseUint(a, 16, 64)
		hi, _ := strconv.ParseUint(z, 16, 64)
		spans = append(spans, lo, hi-lo)
	}
	return spans
}
