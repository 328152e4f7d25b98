package codec

import (
	"encoding/hex"
	"math"
	"strconv"

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
