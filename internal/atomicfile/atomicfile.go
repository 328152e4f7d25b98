// Package atomicfile replaces a file whole: the new content is written to
// a temporary file in the same directory and renamed over the old, so
// that a reader, or a program started after a kill, finds the old
// content or the new, never a part of either.
//
// The temporary file is made with O_EXCL and O_NOFOLLOW: a program
// running as root never writes through a symbolic link put at its name,
// nor blocks for good opening a FIFO there.
package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// Options say how Replace and ReplaceVia write.
type Options struct {
	// Perm is the file's mode, before the umask.
	Perm fs.FileMode
	// Sync writes the file to the storage before the rename, and the
	// directory after it: the new content then survives a power cut.
	Sync bool
	// Direct writes a path that exists and is not a regular file (a
	// user's -o /dev/stdout, a FIFO) as it is, rather than renaming a
	// file over it: for output a person names, never for a program's
	// own files, where a FIFO would block it.
	Direct bool
}

// Replace replaces the file at path with what write writes to it,
// through a temporary file of a new name: for a directory that is not
// the caller's (a user's -o FILE). On an error the old file is left as
// it was, and the temporary file removed.
func Replace(path string, o Options, write func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && o.Direct {
		return direct(path, write)
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	for try := 0; ; try++ {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64()>>32, 36)+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, o.Perm)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		if err != nil {
			return tinyfmt.Errorf("replacing %s: %w", path, err)
		}
		return replace(f, path, o, write)
	}
}

// direct writes path, which is not a regular file, as it is.
func direct(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReplaceVia is Replace through the temporary file temp, a name in
// path's directory of the caller's own: whatever is there is removed
// first, so that one a kill left is reused rather than piled up. It
// does not link os.CreateTemp, which the agent does without.
func ReplaceVia(path, temp string, o Options, write func(io.Writer) error) error {
	tmp := filepath.Join(filepath.Dir(path), temp)
	err := os.Remove(tmp)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return tinyfmt.Errorf("replacing %s: %w", path, err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, o.Perm)
	if err != nil {
		return tinyfmt.Errorf("replacing %s: %w", path, err)
	}
	return replace(f, path, o, write)
}

// replace writes f, a new temporary file, and renames it path.
func replace(f *os.File, path string, o Options, write func(io.Writer) error) error {
	err := write(f)
	if err == nil && o.Sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return tinyfmt.Errorf("replacing %s: %w", path, err)
	}
	if o.Sync {
		return syncDir(filepath.Dir(path))
	}
	return nil
}

// Bytes is a write function for Replace that writes b.
func Bytes(b []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}

// syncDir syncs directory dir, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return tinyfmt.Errorf("syncing %s: %w", dir, err)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return tinyfmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
