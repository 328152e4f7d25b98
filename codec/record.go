package codec

import (
	"time"
)

// A Record is one runtime state, metric sample or notification. It is the
// single record model of itiny: the agent writes it, rings store it, readers
// print it and migrate ships it.
//
// The msg tags are the MessagePack map keys and, identically, the JSON
// object keys; they are part of the on-disk format and never change.
type Record struct {
	// Seq is the record's sequence number in its stream: assigned by the
	// ring, strictly increasing, never reused, surviving restarts.
	Seq uint64 `msg:"seq"`
	// Stream names the ring the record belongs to ("metrics", "events").
	Stream string `msg:"stream"`
	// Boot identifies the boot of the device that wrote the record.
	Boot BootID `msg:"boot"`
	// BootCount counts the agent's boots on this device, starting at 1.
	BootCount uint32 `msg:"bootn"`
	// Wall is the wall-clock time, which may be wrong or jump; it is
	// shown, never trusted for order.
	Wall time.Time `msg:"wall"`
	// Mono is the monotonic time since boot, in nanoseconds.
	Mono int64 `msg:"mono"`
	// Source names the component that produced the record.
	Source string `msg:"src"`
	// Level is the syslog severity.
	Level Level `msg:"level"`
	// Name is the record's name (a metric or state name) or its message.
	Name string `msg:"name"`
	// Fields holds the record's typed values, in order.
	Fields Fields `msg:"fields"`
}

// A BootID identifies one boot: 16 random bytes.
type BootID [16]byte

// A Level is a syslog severity, from LevelEmerg (0) to LevelDebug (7).
type Level uint8

// The eight syslog levels (RFC 5424). Part of the on-disk format.
const (
	LevelEmerg Level = iota
	LevelAlert
	LevelCrit
	LevelErr
	LevelWarning
	LevelNotice
	LevelInfo
	LevelDebug
)
