//go:build !nopstore

package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/internal/regular"
)

// The data directory's pstoreSeenFile lists the pstore entries stored
// and still present: kept by remove = false, or not removable (a
// read-only pstore). Without it each start would store them again, and
// every later boot would read as ended by the same panic. One line per
// entry: "SIZE MTIME_NS NAME".
const pstoreSeenMax = 64 << 10 // far more than the entries pstore holds

// loadSeen adds the entries listed in p.seen to pstoreStored. A missing
// or unreadable list stores the entries again, which loses nothing.
func (p *pstoreCollector) loadSeen() {
	b, err := regular.ReadFile(p.seen, pstoreSeenMax)
	if err != nil {
		return
	}
	for line := range strings.Lines(string(b)) {
		f := strings.SplitN(strings.TrimSuffix(line, "\n"), " ", 3)
		if len(f) != 3 || strings.ContainsRune(f[2], '/') {
			continue
		}
		size, err1 := strconv.ParseInt(f[0], 10, 64)
		mtime, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 == nil && err2 == nil {
			pstoreStored.add(pstoreKey(filepath.Join(p.dir, f[2]), size, mtime))
		}
	}
}

// saveSeen replaces p.seen with the entries present and stored: those
// gone (removed by systemd-pstore or by hand) leave the list.
func (p *pstoreCollector) saveSeen(names []string) error {
	var b []byte
	for _, name := range names {
		path := filepath.Join(p.dir, name)
		st, err := os.Lstat(path)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if !pstoreStored.has(pstoreKey(path, st.Size(), st.ModTime().UnixNano())) {
			continue
		}
		b = strconv.AppendInt(b, st.Size(), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, st.ModTime().UnixNano(), 10)
		b = append(b, ' ')
		b = append(b, name...)
		b = append(b, '\n')
	}
	if len(b) == 0 {
		// Nothing kept (remove = true, as by default): no file, no write.
		if err := os.Remove(p.seen); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return replaceFile(p.seen, b, true) // lost, a kept panic would end the next boot too
}

// bootEnd says the boot before ended in a kernel panic, else an oops,
// when a dmesg entry not yet stored is headed so; the evidence is its
// header and the line that names the crash.
func (p *pstoreCollector) bootEnd() (ended, evidence string) {
	var buf []byte
	for _, name := range p.names {
		if kind := pstoreKindOf(name); kind == nil || !kind.dmesg {
			continue
		}
		f, st, key, err := openPstore(filepath.Join(p.dir, name))
		if err != nil {
			continue
		}
		if pstoreStored.has(key) {
			f.Close()
			continue
		}
		if buf == nil {
			buf = make([]byte, pstoreHeaderMax+p.maxParts*catalog.PstorePart)
		}
		ent, err := readPstore(f, st.Size(), buf, true)
		f.Close()
		var e string
		switch {
		case err != nil:
			continue
		case ent.reason == "Panic":
			e = catalog.EndedPanic
		case ent.reason == "Oops" && ended == "":
			e = catalog.EndedOops
		default:
			continue
		}
		ended, evidence = e, "pstore "+ent.header
		if line := catalog.CrashLine(string(ent.text)); line != "" {
			evidence += ": " + line
		}
		if e == catalog.EndedPanic {
			break
		}
	}
	return ended, evidence
}
