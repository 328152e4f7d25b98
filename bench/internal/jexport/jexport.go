// Package jexport writes records in the systemd journal export format
// (https://systemd.io/JOURNAL_EXPORT_FORMATS/), the input
// systemd-journal-remote reads, for the benchmarks that store the same
// records in itiny and in journal files (bench/read.sh, bench/flashwrite.sh).
//
// A record becomes MESSAGE (its name), PRIORITY (its level),
// SYSLOG_IDENTIFIER (its source), __REALTIME_TIMESTAMP and
// __MONOTONIC_TIMESTAMP (its wall and monotonic times, in µs), _BOOT_ID,
// and one upper-case field per record field. Values are written as text:
// they must hold no newline (the binary form is not used).
package jexport

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/itiny/itiny/codec"
)

// Append appends r in the journal export format: KEY=value lines and an
// empty line.
func Append(b []byte, r *codec.Record) []byte {
	b = append(b, "__REALTIME_TIMESTAMP="...)
	b = strconv.AppendInt(b, r.Wall.UnixMicro(), 10)
	b = append(b, "\n__MONOTONIC_TIMESTAMP="...)
	b = strconv.AppendInt(b, r.Mono/1000, 10)
	b = append(b, "\n_BOOT_ID="...)
	b = hex.AppendEncode(b, r.Boot[:])
	b = append(b, "\nMESSAGE="...)
	b = append(b, r.Name...)
	b = append(b, "\nPRIORITY="...)
	b = strconv.AppendInt(b, int64(r.Level), 10)
	b = append(b, "\nSYSLOG_IDENTIFIER="...)
	b = append(b, r.Source...)
	b = append(b, '\n')
	for _, f := range r.Fields {
		b = append(b, strings.ToUpper(f.Key)...)
		b = append(b, '=')
		v := f.Value
		switch v.Kind() {
		case codec.KindInt:
			b = strconv.AppendInt(b, v.Int(), 10)
		case codec.KindUint:
			b = strconv.AppendUint(b, v.Uint(), 10)
		case codec.KindFloat:
			b = strconv.AppendFloat(b, v.Float(), 'g', -1, 64)
		case codec.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		default:
			b = append(b, v.Str()...)
		}
		b = append(b, '\n')
	}
	return append(b, '\n')
}
