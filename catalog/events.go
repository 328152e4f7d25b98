package catalog

// The agent's own records: its runs, the device's boots, its streams'
// health, and the events it derives. A run of the agent is what lies
// between an agent.start and the agent.stop that ends it; a start with no
// stop before it follows a crash (or a power cut, which device.boot then
// tells apart).
var (
	// AgentStart opens a run. clean is false when a ring was found not
	// closed by the previous run: that run crashed or the device lost
	// power. process_exits is how the process collector learns that a
	// watched process exited: "netlink" from the kernel's process events,
	// as they happen, with the exit code or signal; "poll" by its samples
	// (the collector's proc_events option is false), "poll: " and why
	// when the kernel's events could not be had (no privilege, another
	// PID namespace); "" when no process is watched. write_path is how
	// each stream's records reach its segment, "stream=path" words
	// (ringlog.Writer.WritePath): "mapped", "memory", "direct", or
	// "direct-unmappable" where the file system cannot map files shared.
	AgentStart = Record{Name: "agent.start", Stream: StreamSelf, Source: SelfSource, Fields: []Field{
		{"version", Label, None}, {"bootn", Label, None}, {"device_boot", Flag, None},
		{"clean", Flag, None}, {"pid", Label, None}, {"process_exits", Label, None},
		{"write_path", Label, None},
	}}
	// AgentStop closes a run cleanly. reason is what stopped it: the
	// signal's name (SIGTERM, SIGINT), "error: " and the error when the
	// agent could not go on (the record is then at err level), or
	// "closed" when the program hosting it closed it.
	AgentStop = Record{Name: "agent.stop", Stream: StreamSelf, Source: SelfSource, Fields: []Field{
		{"reason", Label, None},
	}}
	// AgentReload is a configuration reload within a run.
	AgentReload = Record{Name: "agent.reload", Stream: StreamSelf, Source: SelfSource}
	// AgentConfig is the configuration in effect, written after
	// agent.start and after each agent.reload: the text `itiny config
	// check` prints. Past MaxConfigText bytes, or a quarter of the itiny
	// stream's segment if less, the text is cut at the end of a line and
	// truncated is true.
	AgentConfig = Record{Name: "agent.config", Stream: StreamSelf, Source: SelfSource, Fields: []Field{
		{"text", Text, None}, {"truncated", Flag, None},
	}}
	// CollectorOff is a collector the configuration enables that the
	// agent could not start (no PSI, no thermal zone, a bad option), with
	// why; written with agent.config, one per collector.
	CollectorOff = Record{Name: "collector.off", Stream: StreamSelf, Source: SelfSource, Instance: "collector", Fields: []Field{
		{"collector", Label, None}, {"error", Text, None},
	}}
	// CollectorFailing is a running collector whose sample failed, with
	// the error; written once, when it starts failing. CollectorRecovered
	// ends it, once its samples succeed again RecoverAfter times in a
	// row: failures counts the samples that failed meanwhile, failing_s
	// the time from the first failure, by the monotonic clock.
	CollectorFailing = Record{Name: "collector.failing", Stream: StreamEvents, Source: SelfSource, Instance: "collector", Fields: []Field{
		{"collector", Label, None}, {"error", Text, None},
	}}
	CollectorRecovered = Record{Name: "collector.recovered", Stream: StreamEvents, Source: SelfSource, Instance: "collector", Fields: []Field{
		{"collector", Label, None}, {"failures", Gauge, Count}, {"failing_s", Gauge, Seconds},
	}}
	// AgentUnclean says which rings the previous run left open, how many
	// of their staged records came back, and how many numbers were
	// skipped for those that may not have.
	AgentUnclean = Record{Name: "agent.unclean_shutdown", Stream: StreamEvents, Source: SelfSource, Fields: []Field{
		{"streams", Label, None}, {"recovered", Gauge, Count}, {"seq_skipped", Gauge, Count},
	}}
	// DeviceBoot is the first start of the agent in a device boot, with
	// how the boot before it ended, as far as the agent can tell at the
	// start: prev_boot is its id (32 hex digits, "" when the agent saw
	// no boot before), prev_ended one of the Ended constants, with the
	// evidence (a panic's header and the line that names it, the
	// watchdog's flags, the agent's stop or crash; at most MaxEvidence
	// bytes), the wall time of the last record that boot left in the
	// rings (RFC 3339, "" when it left none) and the device's uptime then.
	DeviceBoot = Record{Name: "device.boot", Stream: StreamEvents, Source: SelfSource, Fields: []Field{
		{"bootn", Label, None}, {"prev_boot", Label, None}, {"prev_ended", Label, None}, {"prev_evidence", Text, None},
		{"prev_last", Label, None}, {"prev_uptime_s", Gauge, Seconds},
	}}
	// ClockStep is the wall clock moving away from the monotonic one: a
	// time sync, or a clock set by hand.
	ClockStep = Record{Name: "clock.step", Stream: StreamEvents, Source: SelfSource, Fields: []Field{
		{"step_s", Gauge, Seconds}, {"wall", Label, None},
	}}

	// ClockSync is whether the kernel's clock is synchronised (to NTP or
	// another time source), written to the itiny stream at each start
	// and when it changes, the change to synchronised at once and the
	// others at most once per SyncHold. synced is the kernel's word
	// (adjtimex: STA_UNSYNC clear or the maximum error below 16 s;
	// source "adjtimex") or, failing that, the time daemon's flag file
	// (systemd-timesyncd's; "timesyncd"); source is "unknown" when
	// neither could be read. maxerror_us and esterror_us are the
	// kernel's maximum and estimated error, 16 s (NTP_PHASE_LIMIT) when
	// nothing disciplines the clock or adjtimex failed. slept_s is the
	// time the device was suspended since boot (CLOCK_BOOTTIME minus
	// CLOCK_MONOTONIC), which mono does not count. The record's own
	// wall and mono are the point readers repair a boot's earlier wall
	// times by: its first synchronised record.
	ClockSync = Record{Name: "clock.sync", Stream: StreamSelf, Source: SelfSource, Fields: []Field{
		{"synced", Flag, None}, {"source", Label, None},
		{"maxerror_us", Gauge, Micros}, {"esterror_us", Gauge, Micros},
		{"slept_s", Gauge, Seconds},
	}}

	// StreamStats is one stream's figures, written every stats_every.
	// The counters count from the agent's start, or from the moment the
	// stream's ring opened when the storage kept it closed before. syncs
	// are the segments' fdatasyncs, whose time sync_avg_ms and
	// sync_max_ms tell; other_syncs those of the stage's header and the
	// ring's directory. What the ring wrote (docs/DESIGN.md section 30):
	// record_bytes are the records as their codec encoded them,
	// stored_bytes the same records as the segments hold them (packed,
	// for a stream that packs), framing_bytes the segment, frame and
	// block headers around them, so that stored_bytes plus framing_bytes
	// is what the ring put in its segments; handed_bytes is what it gave
	// the kernel: those bytes, and the stage's (its header, and each
	// frame copied into the mapped stage file). seg_writes counts the
	// writes to segments, each of which costs the file system its
	// metadata (the write budget counts 36 KiB for one); flush_s is a
	// periodic stream's flush interval now, as its write budget stretched
	// it (0: a continuous stream).
	StreamStats = Record{Name: "stream.stats", Stream: StreamMetrics, Source: SelfSource, Instance: "stream", Fields: []Field{
		{"stream", Label, None}, {"available", Flag, None},
		{"written", Counter, Count}, {"rejected", Counter, Count}, {"errors", Counter, Count},
		{"bytes", Gauge, Bytes}, {"segments", Gauge, Count},
		{"oldest_seq", Label, None}, {"next_seq", Label, None}, {"oldest_wall", Label, None},
		{"deleted_segments", Counter, Count}, {"syncs", Counter, Count},
		{"sync_avg_ms", Gauge, Ms}, {"sync_max_ms", Gauge, Ms},
		{"other_syncs", Counter, Count}, {"record_bytes", Counter, Bytes}, {"stored_bytes", Counter, Bytes},
		{"framing_bytes", Counter, Bytes}, {"handed_bytes", Counter, Bytes},
		{"seg_writes", Counter, Count}, {"flush_s", Gauge, Seconds},
	}}
	// AgentIO is the agent's writes in total, written with StreamStats:
	// the sums of the streams' counters of that name, and the bytes the
	// kernel wrote, or will write, to storage for the agent's process
	// (write_bytes of /proc/self/io, a page for each page the process
	// dirtied). write_error is "" when /proc/self/io was read, and else
	// why not (a kernel without task I/O accounting, a procfs that hides
	// it): write_bytes is then 0, and no figure.
	AgentIO = Record{Name: "agent.io", Stream: StreamMetrics, Source: SelfSource, Fields: []Field{
		{"record_bytes", Counter, Bytes}, {"stored_bytes", Counter, Bytes}, {"framing_bytes", Counter, Bytes},
		{"handed_bytes", Counter, Bytes}, {"syncs", Counter, Count}, {"other_syncs", Counter, Count},
		{"write_bytes", Counter, Bytes}, {"write_error", Text, None},
	}}
	// IngestPeer is one sender's figures on the socket, written with
	// StreamStats.
	IngestPeer = Record{Name: "ingest.peer", Stream: StreamMetrics, Source: SelfSource, Instance: "peer", Fields: []Field{
		{"peer", Label, None}, {"conns", Gauge, Count},
		{"accepted", Counter, Count}, {"rejected", Counter, Count}, {"dropped", Counter, Count},
	}}
	// IngestDropped is a sender's records dropped over its limits.
	IngestDropped = Record{Name: "ingest.dropped", Stream: StreamEvents, Source: SelfSource, Instance: "peer", Fields: []Field{
		{"peer", Label, None}, {"dropped", Gauge, Count}, {"first", Label, None}, {"span_s", Gauge, Seconds},
	}}
	// StreamUnavailable is a stream whose ring the storage would not let
	// the agent open (a full or read-only disk); StreamAvailable ends it.
	StreamUnavailable = Record{Name: "stream.unavailable", Stream: StreamSelf, Source: SelfSource, Instance: "stream", Fields: []Field{
		{"stream", Label, None}, {"since", Label, None}, {"error", Text, None},
	}}
	// StreamWriteBudget says a stream hands the kernel more than its
	// write_budget a day (over, at warning) though its flush interval is
	// stretched as far as it goes (flush_s; 0 for a continuous stream), or
	// that it is back within it (notice): bytes_per_day is the projection
	// of the last ten stats rounds.
	// RollupMark follows the summaries a rollup tier's Roller hands on
	// together, in the tier's ring: upto is the number of the last record
	// of the ring below, of (the base's, or the finer tier's), that they
	// fold. An agent restarted folds that ring again from the record
	// after it.
	RollupMark = Record{Name: "rollup.mark", Stream: StreamMetrics, Source: SelfSource, Fields: []Field{
		{"upto", Label, None}, {"of", Label, None},
	}}
	// RollupGap says that a rollup tier, rebuilt at the agent's start,
	// could not fold its ring below, of, from where it stopped: the
	// records after number after were gone (retention took them) up to
	// first, the first one left, so the tier has no summaries from its
	// last one to from, the start of the first interval it folds whole.
	RollupGap = Record{Name: "rollup.gap", Stream: StreamSelf, Source: SelfSource, Fields: []Field{
		{"tier", Label, None}, {"of", Label, None}, {"after", Label, None}, {"first", Label, None}, {"from", Label, None},
	}}
	StreamWriteBudget = Record{Name: "stream.write_budget", Stream: StreamSelf, Source: SelfSource, Instance: "stream", Fields: []Field{
		{"stream", Label, None}, {"over", Flag, None}, {"budget_bytes", Gauge, Bytes},
		{"bytes_per_day", Gauge, Bytes}, {"flush_s", Gauge, Seconds},
	}}
	StreamAvailable = Record{Name: "stream.available", Stream: StreamSelf, Source: SelfSource, Instance: "stream", Fields: []Field{
		{"stream", Label, None}, {"unavailable_s", Gauge, Seconds}, {"refused", Gauge, Count}, {"error", Text, None},
	}}
	// ForwardStatus is the forwarder's (itiny-migrate --follow) beside the
	// agent, sent on its socket: the one record a sender may put in the
	// agent's own stream, and only a sender of the agent's user or root.
	// state is following, or retrying and why; behind the messages the
	// rings hold that the store has not acknowledged, behind_s the age of
	// the oldest of them; sent what the store acknowledged since the
	// forwarder started. It comes when the state changes and every
	// --agent-status-every (10 minutes) between.
	ForwardStatus = Record{Name: "forward.status", Stream: StreamSelf, Source: "itiny-migrate", Fields: []Field{
		{"state", Text, None}, {"store", Label, None}, {"behind", Gauge, Count}, {"behind_s", Gauge, Seconds}, {"sent", Counter, Count},
	}}

	// StateChange is a state record at notice or worse that a rule
	// observes, made an event: the state's source and name, then its
	// fields (up to 16 in all) but for any named source or state.
	StateChange = Record{Name: "state.change", Stream: StreamEvents, Source: SelfSource, Fields: []Field{
		{"source", Label, None}, {"state", Label, None},
	}}
	// Alarm is a rule's event: its name is the rule's event name in the
	// configuration, so Lookup does not know it; the fields tell it.
	// cleared is true when the value came back past the rule's clear
	// level.
	Alarm = Record{Name: "", Stream: StreamEvents, Source: SelfSource, Fields: []Field{
		{"rule", Label, None}, {"instance", Label, None}, {"value", Gauge, None},
		{"limit", Gauge, None}, {"cleared", Flag, None},
	}}

	// AgentCrash is a crash of the agent (a Go panic, a fatal error, a
	// signal the runtime dies of, such as SIGABRT or SIGQUIT) that the
	// Go runtime wrote to the data directory's crash file, recorded at
	// the next start: version and pid are the crashed run's, text the
	// runtime's output, from its head (the panic and the goroutine that
	// panicked), in parts of at most MaxCrashText bytes, part 1 to parts
	// of at most MaxCrashParts; cut counts the bytes of the output not
	// kept, past the last part.
	AgentCrash = Record{Name: "agent.crash", Stream: StreamEvents, Source: SelfSource, Fields: []Field{
		{"version", Label, None}, {"pid", Label, None}, {"part", Label, None}, {"parts", Label, None},
		{"text", Text, None}, {"cut", Gauge, Bytes},
	}}
)

// MaxConfigText bounds agent.config's text: the default configuration's is
// under 2 KiB, and each start writes it to the itiny stream.
const MaxConfigText = 8 << 10

// RecoverAfter is the samples in a row that must succeed for a failing
// collector to be recovered: a collector that fails now and then stays
// failing, in one record, rather than writing two per flap.
const RecoverAfter = 3

// SyncHold is the least time between two clock.sync records of a run
// but for its first synchronised one, which is written at once: a clock
// whose synchronisation flaps cannot evict the agent's runs from the
// itiny stream.
const SyncHold = 3600 // seconds

// MaxCrashText and MaxCrashParts bound agent.crash: a panic's output
// (the panicking goroutine alone, as GOTRACEBACK=single prints it) is
// 1 to 3 KiB; a fatal signal's, every goroutine of the agent, about 10.
// A part is cut to a quarter of the events stream's segment if less.
const (
	MaxCrashText  = 4 << 10
	MaxCrashParts = 8
)

var all = []*Record{
	&CPU, &Memory, &Disk, &Filesystem, &Load, &Net, &Pressure, &Thermal, &Flash, &Uptime,
	&Process, &Snapshot, &ProcessExit, &ProcessExitsLost,
	&KernelLog, &KernelPanic, &KernelOOM, &KernelIOError, &KernelSegfault,
	&PstorePanic, &PstoreOops, &PstoreDmesg, &PstoreConsole, &PstorePmsg,
	&AgentStart, &AgentStop, &AgentReload, &AgentConfig, &AgentUnclean, &DeviceBoot, &ClockStep, &ClockSync,
	&CollectorOff, &CollectorFailing, &CollectorRecovered,
	&StreamStats, &AgentIO, &IngestPeer, &IngestDropped, &StreamUnavailable, &StreamAvailable, &ForwardStatus, &StreamWriteBudget, &RollupMark, &RollupGap,
	&StateChange, &Alarm,
	&AgentCrash,
	&WatchdogBootStatus,
	&KernelHungTask, &KernelDropped,
	&ProcessCrash, &ProcessCore, &ProcessCrashesDropped,
}
