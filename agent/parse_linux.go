package agent

// Helpers shared by the Linux collectors that collector.go lacks: errors
// naming the file, option checks, and allocation-free system calls on
// NUL-terminated paths and directory entries.

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/itiny/itiny/internal/order"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// malformed returns an error naming the file and what is wrong with it.
// It allocates, which is fine: it is only called on bad input.
func malformed(path, format string, args ...any) error {
	return tinyfmt.Errorf("agent: malformed %s: %s", path, tinyfmt.Sprintf(format, args...))
}

// quoteLine quotes a line for an error message, shortened so that a huge
// line does not flood the agent's log.
func quoteLine(b []byte) string {
	const max = 80
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

// parseInt is parseUint with an optional minus sign (temperatures).
func parseInt(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, err := parseUint(b)
	if err != nil {
		return 0, err
	}
	if u > 1<<63 || !neg && u == 1<<63 {
		return 0, strconv.ErrRange
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// trimSpace trims ASCII spaces, tabs and newlines without allocating.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// intern returns prev if it holds the bytes of b, else a new string: a
// value that rarely changes (an interface's operstate) then costs no
// allocation per sample.
func intern(prev string, b []byte) string {
	if string(b) == prev { // compared without conversion
		return prev
	}
	return string(b)
}

// splitList splits a comma-separated option value, trimming spaces and
// dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// checkOptions rejects option keys the collector does not know, so that a
// typo in the config file is an error rather than silently ignored.
func checkOptions(collector string, opts map[string]string, known ...string) error {
	var bad []string
	for k := range opts {
		ok := false
		for _, n := range known {
			ok = ok || k == n
		}
		if !ok {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	order.Strings(bad)
	if len(known) == 0 {
		return tinyfmt.Errorf("unknown option %q for collector %s (it has none)", bad[0], collector)
	}
	return tinyfmt.Errorf("unknown option %q for collector %s (known: %s)", bad[0], collector, strings.Join(known, ", "))
}

// optBool reads a boolean option, def when absent.
func optBool(opts map[string]string, key string, def bool) (bool, error) {
	v, ok := opts[key]
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return def, tinyfmt.Errorf("option %s: want true or false, got %q", key, v)
	}
	return b, nil
}

// optPositive reads a positive integer option, def when absent.
func optPositive(opts map[string]string, key string, def int) (int, error) {
	v, ok := opts[key]
	if !ok {
		return def, nil
	}
	n, err := parsePositive(strings.TrimSpace(v))
	if err != nil {
		return def, tinyfmt.Errorf("option %s: %w", key, err)
	}
	return n, nil
}

// cString returns s as a NUL-terminated byte slice for the raw system
// calls below, which take paths without converting (and allocating) them.
func cString(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

// openat opens the NUL-terminated path relative to dirfd (atFDCWD for the
// working directory) without allocating, unlike syscall.Open and
// syscall.Openat, which copy their string argument to the heap.
func openat(dirfd int, path []byte, flags int) (int, error) {
	if len(path) == 0 || path[len(path)-1] != 0 {
		return -1, syscall.EINVAL
	}
	for {
		fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])), uintptr(flags|syscall.O_CLOEXEC), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), nil
	}
}

const atFDCWD = -100 // AT_FDCWD, the same on every Linux architecture

// preadAll reads fd from offset 0 into buf, which must not be empty,
// retrying on EINTR.
func preadAll(fd int, buf []byte) (int, error) { return pread(fd, buf, false) }

// pread is preadAll, through syscall.RawSyscall6 if raw: for procfs and
// sysfs files, whose reads the kernel answers from memory in
// microseconds. A plain system call tells the Go scheduler it may block:
// that wakes the runtime's monitor thread (sysmon) from its sleep, and a
// call it sees last past one of its 20 us ticks has the goroutine's P
// handed to another thread, which is woken for it (with GOMAXPROCS=1, on
// nearly every sample). Those wake-ups cost the idle agent more than its
// reads; a raw call costs neither, and blocks the P only as long as the
// read. The offset is 0, so the arguments after the count are zeros
// whatever the architecture's convention for a 64-bit offset.
func pread(fd int, buf []byte, raw bool) (int, error) {
	for {
		var n uintptr
		var e syscall.Errno
		if raw {
			n, _, e = syscall.RawSyscall6(syscall.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		} else {
			n, _, e = syscall.Syscall6(syscall.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		}
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	}
}

// nextDirent parses the first linux_dirent64 of a buffer filled by
// syscall.ReadDirent (getdents64): d_ino u64, d_off s64, d_reclen u16,
// d_type u8, then the NUL-terminated name. It returns the name, aliasing
// buf, and the rest; ok is false at the end or on a short record.
// syscall.ParseDirent would do the same but appends names as strings.
func nextDirent(buf []byte) (name []byte, rest []byte, ok bool) {
	const nameOff = 19
	if len(buf) < nameOff {
		return nil, nil, false
	}
	reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
	if reclen < nameOff || reclen > len(buf) {
		return nil, nil, false
	}
	name = buf[nameOff:reclen]
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			break
		}
	}
	return name, buf[reclen:], true
}

// isDotDir reports whether a directory entry is "." or "..".
func isDotDir(name []byte) bool {
	return len(name) == 1 && name[0] == '.' || len(name) == 2 && name[0] == '.' && name[1] == '.'
}

// countDirents counts the entries of the open directory fd other than "."
// and "..", from its start, reusing buf: no allocation.
func countDirents(fd int, buf []byte) (int, error) {
	if _, err := syscall.Seek(fd, 0, 0); err != nil {
		return 0, err
	}
	count := 0
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n <= 0 {
			return count, nil
		}
		for b := buf[:n]; ; {
			name, rest, ok := nextDirent(b)
			if !ok {
				break
			}
			if !isDotDir(name) {
				count++
			}
			b = rest
		}
	}
}

// readBounded reads at most max bytes of a regular file (internal/regular),
// and reports whether there was more: a snapshot's file, a watchdog's
// sysfs attributes (whose size sysfs gives as a page, whatever they hold).
func readBounded(path string, max int) ([]byte, bool, error) {
	f, err := regular.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, false, tinyfmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > max {
		return b[:max], true, nil
	}
	return b, false, nil
}

// numberedEntries returns the numbers N of the entries named prefix+N in
// dir (thermal_zone2, watchdog0), in numeric order: 2 before 10. A dir
// that does not exist has none: a machine without thermal zones or
// watchdogs.
func numberedEntries(dir, prefix string) ([]int, error) {
	names, err := readDirNames(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var nums []int
	for _, name := range names {
		if n, ok := strings.CutPrefix(name, prefix); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 0 {
				nums = append(nums, i)
			}
		}
	}
	// By hand: a few devices, and sort.Ints's generic sort is 4 KB of
	// firmware that nothing else links (docs/DESIGN.md section 14).
	for i := 1; i < len(nums); i++ {
		for j := i; j > 0 && nums[j] < nums[j-1]; j-- {
			nums[j], nums[j-1] = nums[j-1], nums[j]
		}
	}
	return nums, nil
}

// readDirNames returns the names in dir, in no order: os.ReadDir's generic
// sort by name cost the firmware 12 KB (docs/DESIGN.md section 14).
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
