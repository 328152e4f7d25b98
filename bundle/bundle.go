// Package bundle writes and reads itiny support bundles: the rings of an
// agent's data directory in one gzip-compressed tar file, with a manifest
// of every file's size and SHA-256, that a field engineer carries off the
// device and reads anywhere.
//
// A bundle is a tar archive, gzip-compressed or not. Its first member is
// the manifest, ManifestName, a JSON object; then come the files of each
// ring as STREAM/FILE (seg-*.mpk, seg-*.jsonl, stage), regular files only.
// Write copies each ring with ringlog.Snapshot, so a bundle of a live ring
// reads back without holes or torn tails.
//
// Read holds a bundle in memory and never writes: member names never touch
// the file system. Names that are not clean relative paths, members that
// are not regular files, and sizes or checksums that disagree with the
// manifest are reported as problems, and everything else is still read;
// Limits bound the memory a hostile bundle can take.
package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/jsonw"
	"github.com/itiny/itiny/internal/sha256"
	"github.com/itiny/itiny/internal/size"
	"github.com/itiny/itiny/ringlog"
)

// Write writes a bundle of the rings in dataDir, each a subdirectory, to w.
// tool names the writer in the manifest.
func Write(w io.Writer, dataDir, tool string) (*Manifest, error) {
	ents, err := os.ReadDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	m := &Manifest{Format: 1, Created: codec.Time{Time: time.Now().UTC()}, Tool: tool}
	m.Host, _ = os.Hostname()
	var data [][]byte
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		files, err := ringlog.Snapshot(filepath.Join(dataDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		for _, f := range files {
			sum := sha256.Sum256(f.Data)
			m.Files = append(m.Files, FileSum{Name: e.Name() + "/" + f.Name, Size: int64(len(f.Data)), SHA256: hex.EncodeToString(sum[:])})
			data = append(data, f.Data)
		}
	}
	if len(m.Files) == 0 {
		return nil, fmt.Errorf("bundle: %s holds no ring", dataDir)
	}
	mj := jsonw.Indent(nil, m.AppendJSON(nil), "", "  ")
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	add := func(name string, b []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o640, Size: int64(len(b)), ModTime: m.Created.Time, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := add(ManifestName, append(mj, '\n')); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	for i, f := range m.Files {
		if err := add(f.Name, data[i]); err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return m, nil
}

// Limits bound what Read holds in memory.
type Limits struct {
	// MaxHeld bounds the bytes Read holds: the files' contents and names,
	// MemberCost for each file, the manifest at ManifestCost times its
	// size, and the problems' text.
	MaxHeld  int64
	MaxFile  int64 // bytes of one file: more than any segment is refused
	MaxFiles int   // members of the archive
	Memory   int64 // the memory these limits are for (ForMemory), for errors
}

const (
	// MemberCost is what a file is counted for besides its content and
	// name: its entries in the bundle's tables, and the state a reader of
	// its ring keeps (ringlog.Reader, the merge's head: about 1.5 KiB).
	MemberCost = 4 << 10
	// ManifestCost is how many times its size the manifest is counted
	// for: reading it allocates up to about 7 times its bytes, garbage
	// included (a file's entry has 33 bytes at least and takes 40 and its
	// strings, its list growing by doubling: TestManifestCost).
	ManifestCost = 16
	// DefaultMemory is the resident memory reading a bundle may take by
	// default (itiny-read and itiny-migrate --bundle-memory).
	DefaultMemory = 256 << 20
)

// ForMemory returns the limits within which reading a bundle, and then
// its rings, takes at most mem bytes of resident memory: half for what
// Read holds, half for the rest (the runtime and the program, the rings'
// read-ahead, the garbage collector's headroom: docs/DESIGN.md section
// 23, TestBundleMemory).
func ForMemory(mem int64) Limits {
	return Limits{MaxHeld: mem / 2, MaxFile: min(ringlog.MaxSegmentSize+4096, mem/2), MaxFiles: 1 << 16, Memory: mem}
}

// DefaultLimits are the limits for DefaultMemory.
var DefaultLimits = ForMemory(DefaultMemory)

// A Bundle is a bundle read into memory. It is an fs.FS of its files.
type Bundle struct {
	Manifest *Manifest // nil if the bundle has none
	// Problems lists what was wrong and left out or flagged, in order.
	Problems []string
	files    map[string][]byte
	dirs     map[string][]string // directory -> names in it, sorted

	// While reading: the limits, the bytes held, and the error of going
	// past them.
	lim  Limits
	held int64
	err  error
}

// ErrLimit is wrapped by the error of a bundle over its Limits.
var ErrLimit = errors.New("bundle: over the limits")

// Read reads a bundle, gzip-compressed or not, from r.
func Read(r io.Reader, lim Limits) (*Bundle, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	b := &Bundle{files: map[string][]byte{}, dirs: map[string][]string{}, lim: lim}
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if n == 0 {
				return nil, fmt.Errorf("bundle: not a tar archive: %w", err)
			}
			b.problem("archive cut short after %d members: %v", n, err)
			break
		}
		if n >= lim.MaxFiles {
			return nil, fmt.Errorf("%w: more than %d members", ErrLimit, lim.MaxFiles)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case h.Typeflag == tar.TypeDir:
			continue
		case h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA:
			b.problem("%s: not a regular file (type %q), left out", quote(h.Name), h.Typeflag)
			continue
		case !fs.ValidPath(name) || name == ".":
			b.problem("%s: not a clean relative name, left out", quote(h.Name))
			continue
		case h.Size > lim.MaxFile:
			return nil, fmt.Errorf("%w: %s has %d bytes, more than the %d a file may have", ErrLimit, quote(h.Name), h.Size, lim.MaxFile)
		}
		cost := h.Size + int64(len(name)) + MemberCost
		if name == ManifestName {
			cost = h.Size * ManifestCost
		}
		if err := b.Hold(cost, quote(name)); err != nil {
			return nil, err
		}
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			b.problem("%s: cut short: %v", quote(name), err)
			break
		}
		if _, dup := b.files[name]; dup {
			b.problem("%s: in the archive twice; the last copy is read", quote(name))
		}
		if name == ManifestName {
			m, err := ParseManifest(data)
			if err != nil {
				b.problem("%s: %v", ManifestName, err)
				continue
			}
			b.Manifest = m
			continue
		}
		b.files[name] = data
	}
	if b.err != nil {
		return nil, b.err
	}
	b.check()
	if b.err != nil {
		return nil, b.err
	}
	fb := FS(b.files)
	b.dirs = fb.dirs
	return b, nil
}

// Held returns the bytes Read counted as held (Limits.MaxHeld).
func (b *Bundle) Held() int64 { return b.held }

// Hold counts n more bytes held for what: Read counts the files, and a
// reader of the bundle what its rings' readers take beyond them. Past the
// limits it returns, and keeps, an error naming what and the limit,
// wrapping ErrLimit.
func (b *Bundle) Hold(n int64, what string) error {
	b.held += n
	if b.held > b.lim.MaxHeld && b.err == nil {
		b.err = fmt.Errorf("%w: %s (%d bytes) takes what the bundle holds past %s, the most for %s of memory",
			ErrLimit, what, n, size.Format(b.lim.MaxHeld), size.Format(b.lim.Memory))
	}
	return b.err
}

// quote quotes a member's name for a message, shortened: a name in a tar
// archive can have a megabyte.
func quote(name string) string {
	if len(name) > 200 {
		return strconv.Quote(name[:200]) + "..."
	}
	return strconv.Quote(name)
}

// FS returns the files, named by slash-separated relative paths, as a
// Bundle without a manifest or problems: an in-memory fs.FS.
func FS(files map[string][]byte) *Bundle {
	b := &Bundle{files: files, dirs: map[string][]string{}}
	// Each name, and each directory above it not yet listed, into its
	// directory's list: time linear in the names (BenchmarkManyRings).
	listed := make(map[string]bool, len(files))
	for name := range files {
		for n := name; n != "." && !listed[n]; n = path.Dir(n) {
			listed[n] = true
			d := path.Dir(n)
			b.dirs[d] = append(b.dirs[d], path.Base(n))
		}
	}
	for d := range b.dirs {
		sort.Strings(b.dirs[d])
	}
	return b
}

// check compares the files with the manifest.
func (b *Bundle) check() {
	if b.Manifest == nil {
		b.problem("no %s: the files cannot be checked", ManifestName)
		return
	}
	listed := map[string]bool{}
	for _, f := range b.Manifest.Files {
		listed[f.Name] = true
		data, ok := b.files[f.Name]
		if !ok {
			b.problem("%s: in the manifest, missing from the archive", quote(f.Name))
			continue
		}
		sum := sha256.Sum256(data)
		switch {
		case int64(len(data)) != f.Size:
			b.problem("%s: %d bytes, the manifest says %d", quote(f.Name), len(data), f.Size)
		case hex.EncodeToString(sum[:]) != f.SHA256:
			b.problem("%s: SHA-256 differs from the manifest's: changed since it was bundled", quote(f.Name))
		}
	}
	names := make([]string, 0, len(b.files))
	for name := range b.files {
		if !listed[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		b.problem("%s: not in the manifest", quote(name))
	}
}

func (b *Bundle) problem(format string, args ...any) {
	if b.err != nil {
		return
	}
	p := fmt.Sprintf(format, args...)
	if b.Hold(int64(len(p))+16, "the problems found") == nil {
		b.Problems = append(b.Problems, p)
	}
}

// Rings returns the directories of the bundle that hold segment files.
func (b *Bundle) Rings() []string {
	var rings []string
	for dir, names := range b.dirs {
		for _, n := range names {
			if _, isFile := b.files[path.Join(dir, n)]; isFile && strings.HasPrefix(n, "seg-") {
				rings = append(rings, dir)
				break
			}
		}
	}
	sort.Strings(rings)
	return rings
}

// Open implements fs.FS.
func (b *Bundle) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := b.files[name]; ok {
		return &file{name: name, Reader: bytes.NewReader(data), data: data}, nil
	}
	if kids, ok := b.dirs[name]; ok || name == "." {
		return &dir{b: b, name: name, kids: kids}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

type file struct {
	*bytes.Reader
	name string
	data []byte
}

func (f *file) Stat() (fs.FileInfo, error) {
	return info{path.Base(f.name), int64(len(f.data)), false}, nil
}
func (f *file) Close() error { return nil }

// Bytes returns the file's content, not a copy, for ringlog's readers to
// read in place (ringlog.NewReaderFS): the caller must not write it.
func (f *file) Bytes() []byte { return f.data }

type dir struct {
	b    *Bundle
	name string
	kids []string
	off  int
}

func (d *dir) Stat() (fs.FileInfo, error) { return info{path.Base(d.name), 0, true}, nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dir) Close() error { return nil }

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for d.off < len(d.kids) && (n <= 0 || len(out) < n) {
		name := d.kids[d.off]
		d.off++
		full := path.Join(d.name, name)
		data, isFile := d.b.files[full]
		out = append(out, fs.FileInfoToDirEntry(info{name, int64(len(data)), !isFile}))
	}
	if n > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

type info struct {
	name  string
	size  int64
	isDir bool
}

func (i info) Name() string { return i.name }
func (i info) Size() int64  { return i.size }
func (i info) Mode() fs.FileMode {
	if i.isDir {
		return fs.ModeDir | 0o550
	}
	return 0o440
}
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.isDir }
func (i info) Sys() any           { return nil }
