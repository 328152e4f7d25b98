// Package bench compares appending one record to an itiny ring with what a
// Go developer would otherwise use: zerolog or zap writing JSON lines to a
// lumberjack-rotated file.
//
// The comparison is at equal durability: in every sub-benchmark, each
// record is in the kernel's page cache before Append (or the logger's
// call) returns, so it survives SIGKILL of the process. The ring's stage
// is a shared file mapping, hence page cache without a system call; its
// "write" variant and both peers make one write(2) per record. Only the
// ring's "always" policy goes further and survives power loss too.
//
// Every sub-benchmark writes the same metrics sample (name, source,
// level, a timestamp read once per record, a sequence number and ten
// typed fields); per iteration only the changing values are set: the
// timestamp and a counter field. The ring's record additionally carries
// its stream, boot id, boot count and monotonic time, which the peers
// lack.
package bench

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/itiny/itiny/codec"
	"github.com/itiny/itiny/ringlog"
	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gopkg.in/natefinch/lumberjack.v2"
)

// ctxtField is the index of the counter field in sample's fields.
const ctxtField = 4

// sample returns the metrics sample every sub-benchmark writes.
func sample() *codec.Record {
	return &codec.Record{
		Boot:      codec.BootID{0: 0xb0, 15: 0x07},
		BootCount: 1,
		Source:    "sampler",
		Level:     codec.LevelInfo,
		Name:      "cpu",
		Fields: codec.Fields{
			{Key: "user", Value: codec.Float(12.5)},
			{Key: "system", Value: codec.Float(3.25)},
			{Key: "iowait", Value: codec.Float(0.75)},
			{Key: "idle", Value: codec.Float(83.5)},
			{Key: "ctxt", Value: codec.Uint(123456789)},
			{Key: "intr", Value: codec.Uint(98765432)},
			{Key: "procs_running", Value: codec.Int(2)},
			{Key: "procs_blocked", Value: codec.Int(0)},
			{Key: "cpu", Value: codec.String("cpu0")},
			{Key: "load1", Value: codec.Float(0.42)},
		},
	}
}

func BenchmarkAppend(b *testing.B) {
	rings := []struct {
		name  string
		codec codec.Codec
		stage int
		sync  ringlog.SyncPolicy
	}{
		{"ring/msgpack/stage", codec.Msgpack, 0, ringlog.SyncNone},
		{"ring/json/stage", codec.JSON, 0, ringlog.SyncNone},
		{"ring/msgpack/write", codec.Msgpack, -1, ringlog.SyncNone},
		{"ring/json/write", codec.JSON, -1, ringlog.SyncNone},
		{"ring/msgpack/interval", codec.Msgpack, 0, ringlog.SyncInterval},
		{"ring/msgpack/always", codec.Msgpack, 0, ringlog.SyncAlways},
		{"ring/json/always", codec.JSON, 0, ringlog.SyncAlways},
	}
	for _, c := range rings {
		b.Run(c.name, func(b *testing.B) {
			benchRing(b, ringlog.Options{
				Stream:      "metrics",
				Codec:       c.codec,
				Budget:      64 << 20,
				SegmentSize: 4 << 20,
				StageSize:   c.stage,
				Sync:        c.sync,
				SyncEvery:   time.Second,
				Boot:        codec.BootID{0: 0xb0, 15: 0x07},
			})
		})
	}
	b.Run("peer/zerolog+lumberjack", func(b *testing.B) {
		benchPeer(b, newZerolog)
	})
	b.Run("peer/zap+lumberjack", func(b *testing.B) {
		benchPeer(b, newZap)
	})
}

func benchRing(b *testing.B, o ringlog.Options) {
	w, err := ringlog.Open(b.TempDir(), o)
	if err != nil {
		b.Fatal(err)
	}
	r := sample()
	r.Seq, r.Stream, r.Wall = 1, o.Stream, time.Now()
	enc, _ := o.Codec.Append(nil, r)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	t0 := time.Now()
	for i := uint64(0); b.Loop(); i++ {
		now := time.Now()
		r.Wall, r.Mono = now, int64(now.Sub(t0))
		r.Fields[ctxtField].Value = codec.Uint(123456789 + i)
		if _, err := w.Append(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// A logFunc logs the sample with sequence number seq and counter ctxt.
type logFunc func(seq, ctxt uint64)

// benchPeer times a logger writing to lumberjack (1 MiB files, 3 kept);
// the record size is that of one line logged to a buffer.
func benchPeer(b *testing.B, newLog func(io.Writer) logFunc) {
	var line bytes.Buffer
	newLog(&line)(1, 123456789)
	b.SetBytes(int64(line.Len()))

	lj := &lumberjack.Logger{Filename: filepath.Join(b.TempDir(), "app.log"), MaxSize: 1, MaxBackups: 3}
	log := newLog(lj)
	b.ReportAllocs()
	for i := uint64(0); b.Loop(); i++ {
		log(i+1, 123456789+i)
	}
	if err := lj.Close(); err != nil {
		b.Fatal(err)
	}
}

// newZerolog writes one JSON line per record with one Write call.
func newZerolog(w io.Writer) logFunc {
	l := zerolog.New(w).With().Timestamp().Logger()
	f := sample().Fields
	return func(seq, ctxt uint64) {
		l.Info().
			Str("src", "sampler").
			Uint64("seq", seq).
			Float64("user", f[0].Value.Float()).
			Float64("system", f[1].Value.Float()).
			Float64("iowait", f[2].Value.Float()).
			Float64("idle", f[3].Value.Float()).
			Uint64("ctxt", ctxt).
			Uint64("intr", f[5].Value.Uint()).
			Int64("procs_running", f[6].Value.Int()).
			Int64("procs_blocked", f[7].Value.Int()).
			Str("cpu", f[8].Value.Str()).
			Float64("load1", f[9].Value.Float()).
			Msg("cpu")
	}
}

// newZap writes one JSON line per record with one Write call: an
// unbuffered core, no sampling.
func newZap(w io.Writer) logFunc {
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(w), zap.InfoLevel)
	l := zap.New(core)
	f := sample().Fields
	fields := []zap.Field{
		zap.String("src", "sampler"),
		zap.Uint64("seq", 0),
		zap.Float64("user", f[0].Value.Float()),
		zap.Float64("system", f[1].Value.Float()),
		zap.Float64("iowait", f[2].Value.Float()),
		zap.Float64("idle", f[3].Value.Float()),
		zap.Uint64("ctxt", 0),
		zap.Uint64("intr", f[5].Value.Uint()),
		zap.Int64("procs_running", f[6].Value.Int()),
		zap.Int64("procs_blocked", f[7].Value.Int()),
		zap.String("cpu", f[8].Value.Str()),
		zap.Float64("load1", f[9].Value.Float()),
	}
	return func(seq, ctxt uint64) {
		fields[1] = zap.Uint64("seq", seq)
		fields[6] = zap.Uint64("ctxt", ctxt)
		l.Info("cpu", fields...)
	}
}
