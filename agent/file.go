package agent

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Files the agent reads whose path someone else may control (its config,
// the boot counter, /etc/group, a snapshot's file) are opened without
// blocking and read only if they are regular files: a FIFO in place of
// the config once blocked the signal loop on SIGHUP, so that SIGTERM went
// unheard, and a symlink to /dev/zero grew the agent to gigabytes.

// openRegular opens path for reading without waiting for a writer (a
// FIFO) or a device, and returns it only if it is a regular file.
func openRegular(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: not a regular file (%s)", path, fileType(st.Mode()))
	}
	return f, st.Size(), nil
}

// readRegular reads a regular file of at most limit bytes; a larger one,
// or one that grows past limit while it is read, is an error.
func readRegular(path string, limit int64) ([]byte, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > limit {
		return nil, fmt.Errorf("%s: %d bytes, over the limit of %d", path, size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: grew over the limit of %d bytes while read", path, limit)
	}
	return b, nil
}

func fileType(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a regular file"
	}
	return "mode " + m.String()
}
