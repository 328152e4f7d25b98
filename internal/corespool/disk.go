package corespool

import (
	"os"
	"syscall"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// keepFree is what a minidump leaves free of the spool's file system,
// of total bytes, for the rings: 5% of it, at least 1 MiB (four
// segments of the largest default stream) and at most 8 MiB (what the
// rings may want at once on any file system; a larger one is not made
// to drop minidumps with gigabytes free). The rings are what tells of
// the crash: a minidump that took their room would cost the records
// around it.
func keepFree(total int64) int64 { return min(max(total/20, 1<<20), 8<<20) }

// fstatfs is syscall.Fstatfs; a test makes it report more room than
// there is, for a minidump's write to meet ENOSPC.
var fstatfs = syscall.Fstatfs

// diskRoom returns the bytes free on the file system of the directory
// fd, for unprivileged users (the agent may not be root, and the rings
// are the agent's), and what of them a minidump leaves free.
func diskRoom(fd int) (free, keep int64, err error) {
	var st syscall.Statfs_t
	if err := fstatfs(fd, &st); err != nil {
		return 0, 0, &os.PathError{Op: "statfs", Path: Dir, Err: err}
	}
	return int64(st.Bavail) * int64(st.Bsize), keepFree(int64(st.Blocks) * int64(st.Bsize)), nil
}

// diskFull says that a crash has no minidump for the disk was full, and
// how full it is now.
func diskFull(fd int, when string) string {
	free, keep, err := diskRoom(fd)
	if err != nil {
		return tinyfmt.Sprintf("no minidump: the disk was full %s (%v)", when, err)
	}
	return tinyfmt.Sprintf("no minidump: the disk was full %s: %d bytes free, %d kept free for the rings", when, free, keep)
}
