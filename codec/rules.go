package codec

import (
	"errors"
	"hash/maphash"
	"strconv"
	"unicode/utf8"
)

// The rules of docs/FORMAT.md section 4 that a record must keep, whatever
// its encoding. Both decoders apply them, so a record one codec reads the
// other reads too, and writers check them with Validate, so no stored
// record breaks them. What only an encoding can break (syntax, types, the
// record's own keys) each decoder checks as it reads.

// The ten keys of a record, in the order writers emit them.
const (
	keySeq = iota
	keyStream
	keyBoot
	keyBootn
	keyWall
	keyMono
	keySrc
	keyLevel
	keyName
	keyFields
)

// keyIndex returns the index of a record key, or -1 for a key this version
// does not know (skipped: a later version may add keys).
func keyIndex(k []byte) int {
	switch string(k) {
	case "seq":
		return keySeq
	case "stream":
		return keyStream
	case "boot":
		return keyBoot
	case "bootn":
		return keyBootn
	case "wall":
		return keyWall
	case "mono":
		return keyMono
	case "src":
		return keySrc
	case "level":
		return keyLevel
	case "name":
		return keyName
	case "fields":
		return keyFields
	}
	return -1
}

// maxRecordKeys bounds the record map's keys, known and unknown: the
// generated decoder's limit (the msgp:limit directive in record.go).
const maxRecordKeys = 32

var errRecordKeys = errors.New("more than " + strconv.Itoa(maxRecordKeys) + " keys in the record")

// recordKey counts key, the index of the n-th key of the record (from 1),
// in seen, and fails on the 33rd key or a known key's second time: a
// reader that took the first and one that took the last would disagree.
func recordKey(seen *uint16, key, n int) error {
	bit := uint16(1) << (uint(key) & 15) // unknown keys (-1) share bit 15
	if n > maxRecordKeys || key >= 0 && *seen&bit != 0 {
		return recordKeyError(key, n)
	}
	*seen |= bit
	return nil
}

func recordKeyError(key, n int) error {
	if n > maxRecordKeys {
		return errRecordKeys
	}
	return errors.New("key " + strconv.Quote(recordKeyNames[key]) + " appears twice in the record")
}

var recordKeyNames = [...]string{"seq", "stream", "boot", "bootn", "wall", "mono", "src", "level", "name", "fields"}

// Validate reports the first rule of docs/FORMAT.md section 4 that r
// breaks, so that it cannot be stored as is: a stream name that is
// neither empty nor valid, a level above 7, a bad key (empty, longer than
// MaxKeyLen, starting with '$', or repeated in its map), an invalid value,
// more than MaxFields fields or elements, nesting deeper than MaxDepth, or
// invalid UTF-8. Every wall time is valid.
func (r *Record) Validate() error { return r.validate(true) }

// validate is Validate; without strs it leaves out the UTF-8 checks, for
// a decoder that checked every string of its input already.
func (r *Record) validate(strs bool) error {
	if err := r.validateHead(strs); err != nil {
		return err
	}
	return validateFields(r.Fields, true, 1, strs)
}

// validateHead checks the rules on the record's own values, the fields
// aside: the MessagePack decoder checks those as it reads them.
func (r *Record) validateHead(strs bool) error {
	if r.Stream != "" && !ValidStream(r.Stream) {
		return errors.New("codec: invalid stream name " + strconv.Quote(r.Stream))
	}
	if r.Level > LevelDebug {
		return errors.New("codec: invalid level " + strconv.Itoa(int(r.Level)))
	}
	if strs && !utf8.ValidString(r.Source) {
		return errors.New("codec: source is not valid UTF-8")
	}
	if strs && !utf8.ValidString(r.Name) {
		return errors.New("codec: name is not valid UTF-8")
	}
	return nil
}

func validateFields(fs []Field, keyed bool, depth int, strs bool) error {
	if len(fs) > MaxFields {
		return ErrTooMany
	}
	if keyed {
		if err := validateKeys(fs, strs); err != nil {
			return err
		}
	}
	for i := range fs {
		v := fs[i].Value
		switch v.kind {
		case KindInvalid:
			return errors.New("codec: field " + strconv.Quote(fs[i].Key) + ": invalid value")
		case KindString:
			if strs && !utf8.ValidString(v.str) {
				return errors.New("codec: field " + strconv.Quote(fs[i].Key) + ": string is not valid UTF-8")
			}
		case KindList, KindMap:
			if depth > MaxDepth {
				return ErrTooDeep
			}
			if err := validateFields(v.sub, v.kind == KindMap, depth+1, strs); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateKeys checks the keys of a map: none twice, each valid.
func validateKeys(fs []Field, strs bool) error {
	if k, dup := dupKey(fs); dup {
		return errors.New("codec: duplicate key " + strconv.Quote(k))
	}
	for i := range fs {
		// Inline, the common case: a short key, its UTF-8 checked.
		if k := fs[i].Key; strs || uint(len(k)-1) >= MaxKeyLen || k[0] == '$' {
			if err := validKey(k, strs); err != nil {
				return err
			}
		}
	}
	return nil
}

func validKey(k string, strs bool) error {
	switch {
	case k == "":
		return errors.New("codec: empty key")
	case len(k) > MaxKeyLen:
		return errors.New("codec: key longer than " + strconv.Itoa(MaxKeyLen) + " bytes: " + strconv.Quote(k[:32]) + "...")
	case k[0] == '$':
		return errors.New("codec: key " + strconv.Quote(k) + " starts with '$', which is reserved")
	case strs && !utf8.ValidString(k):
		return errors.New("codec: key is not valid UTF-8: " + strconv.Quote(k))
	}
	return nil
}

// keySeed seeds the hash of dupKey, so that no input can be made to
// collide in every process.
var keySeed = maphash.MakeSeed()

// dupKey returns a key that appears twice in fs. A small map compares a
// key with the ones before only when a 64-bit filter of their lengths and
// last bytes says they may be equal; a large one goes through a table of
// hashes, so that a map of MaxFields keys costs about MaxFields
// comparisons, not half a million.
func dupKey(fs []Field) (string, bool) {
	if len(fs) <= 16 {
		var filter uint64
		for i := range fs {
			k := fs[i].Key
			h := uint(len(k))
			if h > 0 {
				h = h*7 + uint(k[h-1])
			}
			if bit := uint64(1) << (h & 63); filter&bit == 0 {
				filter |= bit
				continue
			}
			for j := 0; j < i; j++ {
				if fs[j].Key == k {
					return k, true
				}
			}
		}
		return "", false
	}
	// At most half full: fs holds at most MaxFields keys here (the
	// caller checks) and the table has twice as many slots.
	var table [2 * MaxFields]uint16 // index+1 of the field whose key is there
	const mask = len(table) - 1
	for i := range fs {
		k := fs[i].Key
		h := int(maphash.String(keySeed, k)) & mask
		for table[h] != 0 {
			if fs[table[h]-1].Key == k {
				return k, true
			}
			h = (h + 1) & mask
		}
		table[h] = uint16(i + 1)
	}
	return "", false
}

// ValidStream reports whether s is a valid stream name: 1 to MaxStreamLen
// bytes of [a-z0-9_.-], starting with a letter or digit. Stream names are
// also directory names.
func ValidStream(s string) bool {
	if len(s) == 0 || len(s) > MaxStreamLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '_' || c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
