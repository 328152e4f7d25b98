//go:build !nofilesystem

package agent

import (
	"bytes"
	"path/filepath"
	"syscall"
	"unsafe"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/tinyfmt"
)

func init() { registerCollector("filesystem", true, newFilesystemCollector) }

// filesystemCollector reports the space and inodes of the mounted
// filesystems listed in /proc/self/mounts, skipping pseudo filesystems.
//
// USB sticks and SD cards come and go, but the mount table is re-read
// only when it changed: the kernel reports a change of the mount namespace
// on an open /proc/self/mounts with POLLPRI|POLLERR, which a poll with no
// timeout checks in one system call, instead of formatting the whole table
// every sample. statfs is called by path each sample rather than through
// a descriptor kept open, because an open descriptor would make the
// filesystem busy and its umount fail. A hung network filesystem blocks
// statfs, and so this collector: restrict it with the mounts option.
type filesystemCollector struct {
	f *procFile
	// changed reports whether the mount table on f's descriptor changed
	// since it was last read, or may have: mountsChanged, but for tests.
	changed      func(fd int) bool
	fresh        bool // sample holds the table as last read, in full
	includeTmpfs bool
	only         map[string]bool // the mounts option; nil: every mount
	// mounts holds one entry per mount point ever seen, keyed by the
	// point as escaped in the mount table, so that a lookup with a
	// []byte key does not allocate.
	mounts map[string]*mount
	sample []*mount // this sample's mount points, in table order
	gen    uint64   // sample number, to spot a point already in sample
	statfs func(path []byte, st *syscall.Statfs_t, raw bool) error
	st     syscall.Statfs_t
	cols   [][]byte
}

type mount struct {
	path   []byte // unescaped, NUL-terminated, for statfs
	wanted bool   // by the mounts option
	gen    uint64
	// From the last line for this point: a later mount on the same point
	// hides the earlier ones, and statfs sees the top one.
	pseudo    bool
	readonly  bool
	memStatfs bool // statfs answers from memory: a raw system call
	fstype    string
	rec       codec.Record
}

// pseudoFilesystem reports filesystem types that hold no data worth
// watching: kernel interfaces and automount triggers. tmpfs is decided by
// the include_tmpfs option; overlay and squashfs (an appliance's root) are
// real.
func pseudoFilesystem(fstype []byte) bool {
	switch string(fstype) { // no allocation: the compiler switches on the bytes
	case "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs",
		"debugfs", "tracefs", "pstore", "bpf", "configfs", "fusectl", "mqueue",
		"hugetlbfs", "autofs", "binfmt_misc", "efivarfs", "selinuxfs", "rpc_pipefs",
		"nsfs", "ramfs", "rootfs", "usbfs", "devfs", "nfsd", "fuse.gvfsd-fuse":
		return true
	}
	return false
}

// memoryStatfs reports file systems, by the magic number statfs gave,
// whose statfs the kernel answers from counters in memory, with no I/O
// and no server to wait for: for these statfs is a raw system call (see
// pread), which spares the idle agent a wake-up of the runtime's
// monitor thread every sample. The first statfs of a mount, and others
// (network and FUSE file systems, FAT, whose free count the first statfs
// reads from the disk), are plain system calls, during which the runtime
// runs the rest of the agent. overlay answers for its upper layer, on one
// of these on an appliance.
func memoryStatfs(magic uint32) bool {
	switch magic {
	case 0xef53, // ext2, ext3, ext4
		0x58465342, // xfs
		0xf2f52010, // f2fs
		0x01021994, // tmpfs
		0x858458f6, // ramfs
		0x73717368, // squashfs
		0xe0f5e1e2, // erofs
		0x28cd3d45, // cramfs
		0x7275,     // romfs
		0x794c7630, // overlay
		0x24051905, // ubifs
		0x72b6:     // jffs2
		return true
	}
	return false
}

func newFilesystemCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("filesystem", c.Options, "include_tmpfs", "mounts"); err != nil {
		return nil, err
	}
	tmpfs, err := optBool(c.Options, "include_tmpfs", false)
	if err != nil {
		return nil, err
	}
	var only map[string]bool
	if v, ok := c.Options["mounts"]; ok {
		only = map[string]bool{}
		for _, m := range splitList(v) {
			only[filepath.Clean(m)] = true
		}
		if len(only) == 0 {
			return nil, tinyfmt.Errorf("option mounts: no mount point in %q", v)
		}
	}
	if c.check {
		return nil, nil
	}
	f, err := openProcFile(filepath.Join(c.Proc, "self", "mounts"), 4096)
	if err != nil {
		return nil, err
	}
	return &filesystemCollector{f: f, changed: mountsChanged, includeTmpfs: tmpfs, only: only, mounts: map[string]*mount{}, statfs: statfsNoAlloc}, nil
}

// Close releases the descriptor; the agent calls it when the
// configuration is reloaded.
func (c *filesystemCollector) Close() error { return c.f.close() }

// Update reads and parses the mount table the first time, after an
// error, and when the kernel reports a change (or the check fails), and
// else statfs's the last table's mounts again. The check comes before the
// read, so a change made while the table is read is reported again at the
// next sample: never missed, at worst read twice.
func (c *filesystemCollector) Update(e Emitter) error {
	if !c.fresh || c.changed(c.f.fd) {
		c.fresh = false
		b, err := c.f.read()
		if err != nil {
			return err
		}
		c.gen++
		c.sample = c.sample[:0]
		for len(b) > 0 {
			var line []byte
			line, b = nextLine(b)
			if len(trimSpace(line)) == 0 {
				continue
			}
			var ml mountLine
			if c.cols, ml, err = parseMountLine(c.f.path, c.cols, line); err != nil {
				return err
			}
			m := c.mounts[string(ml.point)] // no allocation for a []byte key
			if m == nil {
				m = c.newMount(ml.point)
			}
			// A mount listed in the mounts option is reported whatever
			// its type: /tmp or /run on tmpfs filling the RAM matters.
			m.pseudo = c.only == nil && (pseudoFilesystem(ml.fstype) || !c.includeTmpfs && string(ml.fstype) == "tmpfs")
			m.readonly = ml.readonly
			m.memStatfs = false // until a statfs of what is mounted now says
			m.fstype = intern(m.fstype, ml.fstype)
			m.rec.Fields.SetString(1, m.fstype)
			if m.gen != c.gen {
				m.gen = c.gen
				c.sample = append(c.sample, m)
			}
		}
		c.fresh = true
	}
	var first error
	for _, m := range c.sample {
		if m.pseudo || !m.wanted {
			continue
		}
		if err := c.statfs(m.path, &c.st, m.memStatfs); err != nil {
			// Unmounted since the table was read, or a FUSE mount
			// closed to other users: not the agent's trouble.
			if err != syscall.ENOENT && err != syscall.EACCES && err != syscall.EPERM && first == nil {
				first = &pathError{"statfs " + string(m.path[:len(m.path)-1]), err}
			}
			continue
		}
		m.memStatfs = memoryStatfs(uint32(c.st.Type))
		fillFilesystem(m.rec.Fields, &c.st, m.readonly)
		if err := e.Emit(StreamMetrics, &m.rec); err != nil {
			return err
		}
	}
	return first
}

// mountsChanged reports whether the mount namespace of an open
// /proc/self/mounts changed since the last call (or the open): the kernel
// then flags the descriptor POLLPRI|POLLERR, once per change. A failed
// poll, a bad descriptor, or one that is not a mount table counts as a
// change: the table is then read every sample. A mount table never polls
// writable (POLLOUT), where other files do (a test's table). A ppoll with
// a zero timeout never sleeps, so it is a raw system call (see pread).
func mountsChanged(fd int) bool {
	const pollPri, pollOut, pollErr, pollNval = 0x2, 0x4, 0x8, 0x20 // the same on every Linux architecture
	pfd := struct {
		fd              int32
		events, revents int16
	}{fd: int32(fd), events: pollPri | pollOut}
	var zero syscall.Timespec
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		return e != 0 || n > 0 && pfd.revents&(pollPri|pollOut|pollErr|pollNval) != 0
	}
}

func (c *filesystemCollector) newMount(escaped []byte) *mount {
	point := unescapeMount(escaped)
	m := &mount{path: cString(point), wanted: c.only == nil || c.only[point]}
	m.rec = catalogRecord(&catalog.Filesystem)
	m.rec.Fields.SetString(0, point)
	m.rec.Fields.SetString(1, "")
	c.mounts[string(escaped)] = m
	return m
}

// fillFilesystem sets the fields after mount and fstype from statfs. Sizes
// count in fragments (f_frsize) as df does; used_pct is used over
// used+avail, the share of what unprivileged users may fill, as df.
func fillFilesystem(f codec.Fields, st *syscall.Statfs_t, readonly bool) {
	unit := uint64(st.Frsize)
	if unit == 0 {
		unit = uint64(st.Bsize)
	}
	used := st.Blocks - st.Bfree
	pct := 0.0
	if d := used + st.Bavail; d > 0 {
		pct = float64(used) * 100 / float64(d)
	}
	f.SetUint(2, st.Blocks*unit)
	f.SetUint(3, st.Bfree*unit)
	f.SetUint(4, st.Bavail*unit)
	f.SetFloat(5, pct)
	f.SetUint(6, st.Files)
	f.SetUint(7, st.Ffree)
	// ST_RDONLY also catches a filesystem the kernel remounted read-only
	// after an error, which the options in an old mount table may not.
	f.SetBool(8, readonly || uint64(st.Flags)&stRdonly != 0)
}

const stRdonly = 1 // ST_RDONLY in statfs f_flags

// A mountLine is a line of /proc/self/mounts; the byte slices alias it.
type mountLine struct {
	point, fstype []byte
	readonly      bool
}

// parseMountLine parses a line of /proc/self/mounts (read from path,
// named in errors): "device mountpoint fstype options dump pass". The
// mount point keeps the table's octal escapes (\040 for a space).
func parseMountLine(path string, cols [][]byte, line []byte) ([][]byte, mountLine, error) {
	var ml mountLine
	cols = fields(cols, line)
	if len(cols) < 4 {
		return cols, ml, malformed(path, "%d columns, want at least 4: %s", len(cols), quoteLine(line))
	}
	if cols[1][0] != '/' {
		return cols, ml, malformed(path, "mount point is not absolute: %s", quoteLine(line))
	}
	ml.point, ml.fstype = cols[1], cols[2]
	for opts := cols[3]; ; {
		i := bytes.IndexByte(opts, ',')
		opt := opts
		if i >= 0 {
			opt = opts[:i]
		}
		if string(opt) == "ro" {
			ml.readonly = true
		}
		if i < 0 {
			break
		}
		opts = opts[i+1:]
	}
	return cols, ml, nil
}

// unescapeMount undoes the mount table's octal escapes of space, tab,
// newline and backslash.
func unescapeMount(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && isOctal(b[i+1]) && isOctal(b[i+2]) && isOctal(b[i+3]) {
			out = append(out, (b[i+1]-'0')<<6|(b[i+2]-'0')<<3|(b[i+3]-'0'))
			i += 3
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }
