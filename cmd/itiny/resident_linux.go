package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
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

// settleAfter is how long after start the agent settles, at the first
// check after it: it drops the binary's pages again (what the first
// samples touched once).
const settleAfter = 3 * time.Second

// Garbage collection. A collection is what costs the agent most resident
// memory: measured at 1,000 records/s (docs/BENCHMARKS.md section 4.1),
// one forced collection added 490 KB of anonymous memory that stays (mark
// bits, the span sets of every size class in use) and brought back 450
// KB of the binary's read-only pages (stack maps and type data, read to
// scan), for 240 KB of garbage freed. The agent therefore creates no
// garbage in steady state (rotation, ingest and sampling allocate nothing)
// and runs with the runtime's default GOGC, whose 4 MiB minimum heap goal
// startup never reaches: in steady state it does not collect at all.
//
// residency.check is the backstop for whatever does allocate (a burst of
// new sources, a reload): every 5 s it reads /proc/self/statm, and once
// the anonymous memory (resident minus file-backed) has grown by gcGrowth
// since the last collection, it collects, returns the free pages to the
// kernel (debug.FreeOSMemory) and drops the binary's pages the collection
// read. gcGrowth is about what a collection costs: at 128 KB, the slow
// growth of a few hundred bytes a second left in steady state forced a
// collection every 3-4 minutes, and RSS climbed past 4 MiB in 10 minutes
// (DESIGN section 21). File-backed pages are not garbage, so they do not trigger it. It
// runs on the agent's own scheduler (agent.Options.Housekeeping): no timer
// of its own, so no wake-up of its own, and /proc/self/statm is kept open
// and read with one pread. runtime/metrics would give the heap's size, but
// costs 24 KB of firmware.
const (
	residencyEvery = 5 * time.Second
	gcGrowth       = 512 << 10
)

func init() {
	// itiny writes no heap profiles; sampling allocations for them costs
	// memory and a little CPU.
	runtime.MemProfileRate = 0
}

// residency keeps the agent's resident memory down (see above).
type residency struct {
	start   time.Time
	settled bool
	fd      int
	buf     [64]byte
	last    uint64 // anonymous bytes after the last collection; 0: take the next reading
	page    uint64
	gcs     int // collections forced
}

func newResidency() *residency {
	fd, err := syscall.Open("/proc/self/statm", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		fd = -1
	}
	return &residency{start: time.Now(), fd: fd, page: uint64(os.Getpagesize())}
}

// check is the agent's housekeeping, every residencyEvery.
func (r *residency) check(now time.Time) {
	if !r.settled && now.Sub(r.start) >= settleAfter {
		r.settled = true
		dropBinaryPages()
		return
	}
	if r.fd < 0 {
		return
	}
	n, _, e := syscall.Syscall6(syscall.SYS_PREAD64, uintptr(r.fd), uintptr(unsafe.Pointer(&r.buf[0])), uintptr(len(r.buf)), 0, 0, 0)
	if e != 0 {
		return
	}
	resident, shared := statm(r.buf[:n])
	if resident < shared {
		return
	}
	anon := (resident - shared) * r.page
	switch {
	case r.last == 0 || anon < r.last:
		r.last = anon
	case anon >= r.last+gcGrowth:
		debug.FreeOSMemory()
		dropBinaryPages()
		r.gcs++
		r.last = 0
	}
}

// statm returns the second and third numbers of /proc/self/statm:
// resident pages, and those of them backed by files or shared memory.
func statm(b []byte) (resident, shared uint64) {
	i := 0
	for i < len(b) && b[i] != ' ' {
		i++
	}
	for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		resident = resident*10 + uint64(b[i]-'0')
	}
	for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		shared = shared*10 + uint64(b[i]-'0')
	}
	return resident, shared
}

// binarySpans are the binary's read-only mappings (address, length),
// found by the first dropBinaryPages; they never move.
var binarySpans []uint64

// dropBinaryPages unmaps the read-only mappings of the running binary and
// drops its pages that nothing else maps from the page cache. Failures are
// ignored: this only saves memory. After the first call it allocates
// nothing.
func dropBinaryPages() {
	if binarySpans == nil {
		binarySpans = findBinarySpans()
	}
	// MADV_PAGEOUT (Linux 5.4) unmaps each page and drops it from the page
	// cache unless another process maps it. (Older kernels refuse it; only
	// unmapping, MADV_DONTNEED, saves nothing: fault-around maps the cached
	// pages again at once.) RawSyscall: with one P, no other goroutine
	// refaults pages meanwhile.
	const madvPageout = 21
	for i := 0; i+1 < len(binarySpans); i += 2 {
		syscall.RawSyscall(syscall.SYS_MADVISE, uintptr(binarySpans[i]), uintptr(binarySpans[i+1]), syscall.MADV_RANDOM)
		syscall.RawSyscall(syscall.SYS_MADVISE, uintptr(binarySpans[i]), uintptr(binarySpans[i+1]), madvPageout)
	}
}

// findBinarySpans returns the binary's read-only mappings, or an empty
// non-nil slice if they cannot be found.
func findBinarySpans() []uint64 {
	fd, err := syscall.Open("/proc/self/exe", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return []uint64{}
	}
	var st syscall.Stat_t
	err = syscall.Fstat(fd, &st)
	// A binary just written (an update, a benchmark's build) has dirty
	// pages, which the page cache cannot drop; on a device this is a no-op.
	syscall.Fdatasync(fd)
	syscall.Close(fd)
	maps, err2 := os.ReadFile("/proc/self/maps")
	if err != nil || err2 != nil {
		return []uint64{}
	}
	if spans := readOnlyMappings(string(maps), st.Ino); spans != nil {
		return spans
	}
	return []uint64{}
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
