package codec

import (
	"errors"
	"math"
	"strconv"

	"github.com/itiny/itiny/internal/hex"
	"github.com/itiny/itiny/internal/jsonw"
)

// AppendJSON appends r as one JSON object, without a newline, to b.
// The object always begins with `{"seq":`, which ringlog's text framing
// relies on. The output is valid JSON whatever r holds: invalid UTF-8 is
// written as U+FFFD (so such a record does not round-trip; Validate rejects
// it). AppendJSON fails only for values nested deeper than MaxDepth or of
// no known kind.
func AppendJSON(b []byte, r *Record) ([]byte, error) {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"stream":`...)
	b = appendJSONString(b, r.Stream)
	b = append(b, `,"boot":"`...)
	b = hex.AppendEncode(b, r.Boot[:])
	b = append(b, `","bootn":`...)
	b = strconv.AppendUint(b, uint64(r.BootCount), 10)
	b = append(b, `,"wall":"`...)
	b = AppendWall(b, r.Wall)
	b = append(b, `","mono":`...)
	b = strconv.AppendInt(b, r.Mono, 10)
	b = append(b, `,"src":`...)
	b = appendJSONString(b, r.Source)
	b = append(b, `,"level":`...)
	if r.Level <= LevelDebug {
		b = append(b, '"')
		b = append(b, levelNames[r.Level]...)
		b = append(b, '"')
	} else {
		b = strconv.AppendUint(b, uint64(r.Level), 10)
	}
	b = append(b, `,"name":`...)
	b = appendJSONString(b, r.Name)
	b = append(b, `,"fields":`...)
	b, err := appendJSONFields(b, r.Fields, true, 1)
	return append(b, '}'), err
}

func appendJSONFields(b []byte, fs []Field, keyed bool, depth int) ([]byte, error) {
	open, close := byte('['), byte(']')
	if keyed {
		open, close = '{', '}'
	}
	b = append(b, open)
	for i := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		if keyed {
			b = appendJSONString(b, fs[i].Key)
			b = append(b, ':')
		}
		var err error
		if b, err = appendJSONValue(b, fs[i].Value, depth); err != nil {
			return b, err
		}
	}
	return append(b, close), nil
}

// AppendValueJSON appends v as the JSON a record's field value is
// written as.
func AppendValueJSON(b []byte, v Value) ([]byte, error) { return appendJSONValue(b, v, 1) }

// AppendString appends s as a JSON string.
func AppendString(b []byte, s string) []byte { return appendJSONString(b, s) }

func appendJSONValue(b []byte, v Value, depth int) ([]byte, error) {
	switch v.kind {
	case KindInt:
		return strconv.AppendInt(b, int64(v.num), 10), nil
	case KindUint:
		return strconv.AppendUint(b, v.num, 10), nil
	case KindFloat:
		return appendJSONFloat(b, v.Float()), nil
	case KindBool:
		return strconv.AppendBool(b, v.num != 0), nil
	case KindString:
		return appendJSONString(b, v.str), nil
	case KindBytes:
		b = append(b, `{"$base64":"`...)
		b = appendBase64(b, v.str)
		return append(b, `"}`...), nil
	case KindList, KindMap:
		if depth > MaxDepth {
			return b, ErrTooDeep
		}
		return appendJSONFields(b, v.sub, v.kind == KindMap, depth+1)
	}
	return b, ErrInvalidValue
}

// appendBase64 encodes s in standard base64 with padding (RFC 4648),
// without converting it to a []byte.
func appendBase64(b []byte, s string) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for len(s) >= 3 {
		v := uint(s[0])<<16 | uint(s[1])<<8 | uint(s[2])
		b = append(b, alphabet[v>>18&63], alphabet[v>>12&63], alphabet[v>>6&63], alphabet[v&63])
		s = s[3:]
	}
	switch len(s) {
	case 1:
		v := uint(s[0]) << 16
		b = append(b, alphabet[v>>18&63], alphabet[v>>12&63], '=', '=')
	case 2:
		v := uint(s[0])<<16 | uint(s[1])<<8
		b = append(b, alphabet[v>>18&63], alphabet[v>>12&63], alphabet[v>>6&63], '=')
	}
	return b
}

// decodeBase64 decodes standard base64 with padding (RFC 4648) from s
// into dst, which may be s itself: each quantum is written behind the
// bytes it was read from. Line breaks are skipped, as encoding/base64
// does (a line-wrapping encoder's output); it returns the bytes written.
// Hand-written, as appendBase64 is: encoding/base64 costs the agent
// 3.4 KB.
func decodeBase64(dst, s []byte) (int, error) {
	n, q, k, pad := 0, uint(0), 0, 0
	for i, c := range s {
		var v uint
		switch {
		case c == '\r' || c == '\n':
			continue
		case c == '=' && (k >= 2 || pad > 0):
			pad++
		case pad > 0:
			return n, errors.New("$base64: " + strconv.QuoteRune(rune(c)) + " after the padding, at byte " + strconv.Itoa(i))
		case 'A' <= c && c <= 'Z':
			v = uint(c - 'A')
		case 'a' <= c && c <= 'z':
			v = uint(c-'a') + 26
		case '0' <= c && c <= '9':
			v = uint(c-'0') + 52
		case c == '+':
			v = 62
		case c == '/':
			v = 63
		default:
			return n, errors.New("$base64: illegal byte " + strconv.QuoteRune(rune(c)) + " at " + strconv.Itoa(i))
		}
		if q, k = q<<6|v, k+1; k < 4 {
			continue
		}
		if pad > 2 {
			return n, errors.New("$base64: " + strconv.Itoa(pad) + " padding bytes, at byte " + strconv.Itoa(i))
		}
		b := [3]byte{byte(q >> 16), byte(q >> 8), byte(q)}
		n += copy(dst[n:], b[:3-pad])
		q, k = 0, 0
	}
	if k != 0 {
		return n, errors.New("$base64: ends in the middle of a quantum (no padding?)")
	}
	return n, nil
}

// appendJSONFloat writes finite floats like encoding/json does, plus ".0"
// when the text would otherwise read as an integer. NaN and infinities,
// which JSON lacks, become {"$float":"NaN"}, {"$float":"+Inf"} and
// {"$float":"-Inf"}.
func appendJSONFloat(b []byte, f float64) []byte {
	switch {
	case f != f:
		return append(b, `{"$float":"NaN"}`...)
	case math.IsInf(f, 1):
		return append(b, `{"$float":"+Inf"}`...)
	case math.IsInf(f, -1):
		return append(b, `{"$float":"-Inf"}`...)
	}
	start := len(b)
	b = jsonw.AppendFloat(b, f)
	for _, c := range b[start:] {
		if c == '.' || c == 'e' {
			return b
		}
	}
	return append(b, ".0"...)
}

// appendJSONString writes s as a JSON string (docs/FORMAT.md section
// 4.2). Control characters are escaped, so the output never holds a raw
// newline, and invalid UTF-8 is replaced by U+FFFD, so the output is
// always valid JSON.
func appendJSONString(b []byte, s string) []byte { return jsonw.AppendRecordString(b, s) }
