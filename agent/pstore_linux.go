//go:build !nopstore

package agent

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/internal/order"
	"github.com/itiny/itiny/internal/regular"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// Off unless configured (the default configuration turns it on): with
// remove = true it deletes what it has stored, so a program embedding the
// agent opts in.
func init() { registerCollector("pstore", false, newPstoreCollector) }

// pstoreCollector stores, once per start, what the previous boot left in
// pstore (/sys/fs/pstore): the kernel log of a panic or an oops that
// ramoops, EFI variables or ERST kept across the reboot, the console's
// last lines, the pmsg buffer. It then removes the entries, as
// systemd-pstore does with Unlink=yes, so that the next crash has room:
// only once every record of an entry is in the ring, so a crash between
// reading and storing never loses the only copy. Other entries (mce-,
// ftrace-) are left alone.
//
// Its first Update does the work and allocates; later ones return at
// once. When the events stream cannot take a record (storage not yet
// available) the next Update tries again.
type pstoreCollector struct {
	dir      string
	names    []string // entries when the collector was built
	remove   bool
	seen     string // the list of entries stored and still present (pstoreSeenFile)
	maxParts int
	done     bool
	rec      codec.Record
}

// pstoreHeaderMax bounds a dmesg entry's first line ("Panic#1 Part1").
const pstoreHeaderMax = 64

func newPstoreCollector(c CollectorConfig) (Collector, error) {
	if err := checkOptions("pstore", c.Options, "remove", "max_parts"); err != nil {
		return nil, err
	}
	remove, err := optBool(c.Options, "remove", true)
	if err != nil {
		return nil, err
	}
	maxParts, err := optPositive(c.Options, "max_parts", catalog.PstoreParts)
	if err != nil {
		return nil, err
	}
	if maxParts > 64 {
		return nil, tinyfmt.Errorf("option max_parts: at most 64, got %d", maxParts)
	}
	if c.check {
		return nil, nil
	}
	p := &pstoreCollector{dir: filepath.Join(c.Sys, "fs", "pstore"), remove: remove, maxParts: maxParts}
	if c.Data != "" {
		p.seen = filepath.Join(c.Data, pstoreSeenFile)
		p.loadSeen()
	}
	// Listed now, so that an unreadable directory switches the collector
	// off with why (collector.off). None (pstore not mounted, most VMs):
	// nothing to do, no error.
	names, err := readDirNames(p.dir)
	if errors.Is(err, os.ErrNotExist) {
		p.done = true
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	order.Strings(names)
	p.names = names
	p.rec = catalogRecord(&catalog.PstorePanic) // named per entry
	return p, nil
}

// Close has nothing to release: entries are opened and closed in Update.
func (p *pstoreCollector) Close() error { return nil }

func (p *pstoreCollector) Update(e Emitter) error {
	if p.done {
		return nil
	}
	buf := make([]byte, pstoreHeaderMax+p.maxParts*catalog.PstorePart)
	var first error
	for _, name := range p.names {
		kind := pstoreKindOf(name)
		if kind == nil {
			continue
		}
		if err := p.store(e, buf, name, kind); err != nil {
			var emit emitError
			if errors.As(err, &emit) {
				return emit.err // tried again at the next Update
			}
			if first == nil {
				first = err
			}
		}
	}
	if p.seen != "" {
		if err := p.saveSeen(p.names); err != nil && first == nil {
			first = tinyfmt.Errorf("pstore: stored, not listed as stored: %w", err)
		}
	}
	p.done, p.names = true, nil
	p.rec.Fields.SetString(5, "")
	return first
}

// An emitError is Emit's, told apart from an entry's own errors.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }

// pstoreRemove removes a stored entry; tests make it fail, as a
// read-only pstore does.
var pstoreRemove = os.Remove

// pstoreStored holds the entries stored, so that a collector built again
// (a reload) or one whose removal failed does not store them twice: keyed
// by pstoreKey. With remove = false the keys outlive the process in the
// data directory (pstoreseen_linux.go).
var pstoreStored keySet

// A keySet is a set of strings safe for concurrent use: sync.Map's
// generic trie cost the agent 8 KB of code for this one set.
type keySet struct {
	mu sync.Mutex
	m  map[string]struct{}
}

func (s *keySet) has(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[k]
	return ok
}

func (s *keySet) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]struct{})
	}
	s.m[k] = struct{}{}
}

// clear forgets every key, as a new process would.
func (s *keySet) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.m)
}

// openPstore opens an entry (a FIFO or a device is refused, never
// opened) and returns its key in pstoreStored: its path, size and
// modification time, which the kernel sets from the record's time. The
// key names an entry; it orders nothing.
func openPstore(path string) (*os.File, os.FileInfo, string, error) {
	f, err := regular.Open(path)
	if err != nil {
		return nil, nil, "", err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, "", err
	}
	return f, st, pstoreKey(path, st.Size(), st.ModTime().UnixNano()), nil
}

func pstoreKey(path string, size, mtime int64) string {
	return path + "\x00" + strconv.FormatInt(size, 10) + "\x00" + strconv.FormatInt(mtime, 10)
}

// store reads one entry into buf, emits its records and removes it.
func (p *pstoreCollector) store(e Emitter, buf []byte, name string, kind *pstoreKind) error {
	path := filepath.Join(p.dir, name)
	f, st, key, err := openPstore(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // removed since it was listed: by us, before a retry, or by systemd-pstore
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if !pstoreStored.has(key) {
		ent, err := readPstore(f, st.Size(), buf, kind.dmesg)
		if err != nil {
			return tinyfmt.Errorf("read %s: %w", path, err)
		}
		if err := p.emit(e, name, kind, ent); err != nil {
			return emitError{err}
		}
		pstoreStored.add(key)
	}
	if p.remove {
		if err := pstoreRemove(path); err != nil {
			return tinyfmt.Errorf("pstore: stored but not removed: %w", err)
		}
	}
	return nil
}

// emit stores an entry's text in parts of at most catalog.PstorePart
// bytes, cut at rune starts, keeping the last p.maxParts of them.
func (p *pstoreCollector) emit(e Emitter, name string, kind *pstoreKind, ent pstoreEntry) error {
	cuts := pstoreCuts(ent.text, catalog.PstorePart, p.maxParts)
	ent.dropped += int64(cuts[0])
	r := &p.rec
	r.Name, r.Level = kind.rec.Name, kind.level
	if kind.dmesg {
		switch ent.reason {
		case "Panic":
			r.Name, r.Level = catalog.PstorePanic.Name, codec.LevelCrit
		case "Oops":
			r.Name, r.Level = catalog.PstoreOops.Name, codec.LevelCrit
		}
	}
	f := r.Fields
	f.SetString(0, name)
	f.SetString(1, ent.header)
	f.SetUint(3, uint64(len(cuts)-1))
	f.SetInt(4, ent.dropped)
	for i := 1; i < len(cuts); i++ {
		f.SetUint(2, uint64(i))
		// The text aliases the read buffer: Emit encodes the record
		// before it returns.
		f.SetString(5, view(ent.text[cuts[i-1]:cuts[i]]))
		if err := e.Emit(StreamEvents, r); err != nil {
			return err
		}
	}
	return nil
}

// pstoreCuts returns the offsets that cut text into parts of at most size
// bytes (at least utf8.UTFMax), none splitting a rune, from the end: the last part ends the text.
// Only the last max parts are kept; cuts[0] is where the first begins,
// the bytes before it dropped. An empty text is one empty part.
func pstoreCuts(text []byte, size, maxParts int) []int {
	cuts := []int{len(text)}
	for end := len(text); end > 0 && len(cuts) <= maxParts; {
		start := max(end-size, 0)
		for start > 0 && !utf8.RuneStart(text[start]) { // size >= utf8.UTFMax: start < end
			start++
		}
		cuts = append(cuts, start)
		end = start
	}
	if len(cuts) == 1 {
		cuts = append(cuts, len(text))
	}
	for i, j := 0, len(cuts)-1; i < j; i, j = i+1, j-1 {
		cuts[i], cuts[j] = cuts[j], cuts[i]
	}
	return cuts
}

// A pstoreEntry is what readPstore kept of an entry; text aliases the
// buffer it was read into.
type pstoreEntry struct {
	header  string // a dmesg entry's first line, "" if it has none
	reason  string // the header's reason: Panic, Oops, Emergency...
	text    []byte // valid UTF-8
	dropped int64  // bytes of the head not read
}

// readPstore reads an entry of size bytes (its stat) into buf: a dmesg
// entry's header line, then as much of the rest as buf holds, from the
// end. When the head is dropped the text starts at a line, if one starts
// within 512 bytes. Bytes that are not UTF-8 become '?' (a compressed
// entry the kernel could not inflate is binary).
func readPstore(f io.ReaderAt, size int64, buf []byte, dmesg bool) (pstoreEntry, error) {
	var ent pstoreEntry
	var body int64 // where the text begins
	if dmesg {
		head := buf[:pstoreHeaderMax]
		n, err := f.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			return ent, err
		}
		if line, _, ok := strings.Cut(string(head[:n]), "\n"); ok {
			if reason, ok := parsePstoreHeader(line); ok {
				ent.header, ent.reason, body = line, reason, int64(len(line)+1)
			}
		}
	}
	text := buf[pstoreHeaderMax:]
	start := max(body, size-int64(len(text)))
	n, err := f.ReadAt(text, start)
	if err != nil && err != io.EOF {
		return ent, err
	}
	text = text[:n]
	if start > body {
		skip := 0
		for skip < len(text) && !utf8.RuneStart(text[skip]) {
			skip++
		}
		if i := bytes.IndexByte(text[skip:min(len(text), skip+512)], '\n'); i >= 0 {
			skip += i + 1
		}
		text = text[skip:]
		start += int64(skip)
	}
	validUTF8(text)
	ent.text, ent.dropped = text, start-body
	return ent, nil
}

// parsePstoreHeader parses the line the kernel writes before a dump
// (fs/pstore/platform.c): "REASON#COUNT PartN", REASON one of Panic,
// Oops, Emergency, Restart, Halt, Poweroff, Unknown.
func parsePstoreHeader(line string) (reason string, ok bool) {
	reason, rest, ok := strings.Cut(strings.TrimSuffix(line, "\r"), "#")
	if !ok || reason == "" {
		return "", false
	}
	for _, c := range reason {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return "", false
		}
	}
	count, part, ok := strings.Cut(rest, " Part")
	if !ok {
		return "", false
	}
	if _, err := parseUint([]byte(count)); err != nil {
		return "", false
	}
	if _, err := parseUint([]byte(part)); err != nil {
		return "", false
	}
	return reason, true
}

// A pstoreKind is a kind of entry, known by its name's prefix.
type pstoreKind struct {
	prefix string
	dmesg  bool // has a header; a panic or an oops is crit
	rec    *catalog.Record
	level  codec.Level
}

var pstoreKinds = []pstoreKind{
	{"dmesg-", true, &catalog.PstoreDmesg, codec.LevelNotice}, // ramoops, efi, erst
	{"console-", false, &catalog.PstoreConsole, codec.LevelNotice},
	{"pmsg-", false, &catalog.PstorePmsg, codec.LevelNotice},
}

func pstoreKindOf(name string) *pstoreKind {
	for i := range pstoreKinds {
		if strings.HasPrefix(name, pstoreKinds[i].prefix) {
			return &pstoreKinds[i]
		}
	}
	return nil
}
