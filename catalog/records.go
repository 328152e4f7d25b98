package catalog

// The collectors' records, one per collector, in the order of their
// fields in the record (the instance first).
var (
	CPU = Record{Name: "cpu", Stream: StreamMetrics, Source: "cpu", Fields: []Field{
		{"user", Counter, Ticks}, {"nice", Counter, Ticks}, {"system", Counter, Ticks},
		{"idle", Counter, Ticks}, {"iowait", Counter, Ticks}, {"irq", Counter, Ticks},
		{"softirq", Counter, Ticks}, {"steal", Counter, Ticks},
		{"ctxt", Counter, Count}, {"intr", Counter, Count},
		{"procs_running", Gauge, Count}, {"procs_blocked", Gauge, Count},
		{"processes", Counter, Count}, // forks since boot
	}}

	Memory = Record{Name: "memory", Stream: StreamMetrics, Source: "memory", Fields: []Field{
		{"mem_total", Gauge, Bytes}, {"mem_free", Gauge, Bytes}, {"mem_available", Gauge, Bytes},
		{"buffers", Gauge, Bytes}, {"cached", Gauge, Bytes}, {"swap_total", Gauge, Bytes},
		{"swap_free", Gauge, Bytes}, {"dirty", Gauge, Bytes}, {"writeback", Gauge, Bytes},
		{"shmem", Gauge, Bytes}, {"slab", Gauge, Bytes}, {"sreclaimable", Gauge, Bytes},
	}}

	Disk = Record{Name: "disk", Stream: StreamMetrics, Source: "diskstats", Instance: "device", Fields: []Field{
		{"device", Label, None},
		{"reads", Counter, Count}, {"reads_merged", Counter, Count},
		{"sectors_read", Counter, Sectors}, {"read_ms", Counter, Ms},
		{"writes", Counter, Count}, {"writes_merged", Counter, Count},
		{"sectors_written", Counter, Sectors}, {"write_ms", Counter, Ms},
		{"in_flight", Gauge, Count}, {"io_ms", Counter, Ms}, {"weighted_io_ms", Counter, Ms},
	}}

	Filesystem = Record{Name: "filesystem", Stream: StreamMetrics, Source: "filesystem", Instance: "mount", Fields: []Field{
		{"mount", Label, None}, {"fstype", Label, None},
		{"size_bytes", Gauge, Bytes}, {"free_bytes", Gauge, Bytes}, {"avail_bytes", Gauge, Bytes},
		{"used_pct", Gauge, Percent}, {"files", Gauge, Count}, {"files_free", Gauge, Count},
		{"readonly", Flag, None},
	}}

	Load = Record{Name: "load", Stream: StreamMetrics, Source: "load", Fields: []Field{
		{"load1", Gauge, None}, {"load5", Gauge, None}, {"load15", Gauge, None},
		{"running", Gauge, Count}, {"tasks", Gauge, Count},
	}}

	Net = Record{Name: "net", Stream: StreamMetrics, Source: "netdev", Instance: "iface", Fields: []Field{
		{"iface", Label, None},
		{"rx_bytes", Counter, Bytes}, {"rx_packets", Counter, Count},
		{"rx_errs", Counter, Count}, {"rx_drop", Counter, Count},
		{"tx_bytes", Counter, Bytes}, {"tx_packets", Counter, Count},
		{"tx_errs", Counter, Count}, {"tx_drop", Counter, Count},
		{"oper", Label, None}, // operstate: up, down, unknown...
	}}

	// Pressure is a PSI sample of one resource (cpu, memory, io): the
	// share of time some (or all, "full") tasks stalled on it.
	Pressure = Record{Name: "pressure", Stream: StreamMetrics, Source: "pressure", Instance: "resource", Fields: []Field{
		{"resource", Label, None},
		{"some_avg10", Gauge, Percent}, {"some_avg60", Gauge, Percent}, {"some_total", Counter, Micros},
		{"full_avg10", Gauge, Percent}, {"full_avg60", Gauge, Percent}, {"full_total", Counter, Micros},
	}}

	Thermal = Record{Name: "thermal", Stream: StreamMetrics, Source: "thermal", Instance: "zone", Fields: []Field{
		{"zone", Label, None}, {"type", Label, None}, {"temp_c", Gauge, Celsius},
	}}

	// Flash is one flash device's wear, as its driver publishes it: kind
	// emmc, ubi or mtd; life_pct the used life's lower bound (the larger
	// of an eMMC's life_a_pct and life_b_pct, JEDEC's types A and B, in
	// 10% steps; 100: past it); reserve_used_pct the lower bound of the
	// blocks reserved for bad ones that are used (an eMMC's pre_eol_info:
	// 0, 80 or 90; UBI's bad against reserved); max_ec UBI's highest
	// erase count; bad_blocks UBI's or MTD's; ecc_failures and
	// ecc_corrected MTD's. -1: the device does not give it.
	Flash = Record{Name: "flash", Stream: StreamMetrics, Source: "flash", Instance: "device", Fields: []Field{
		{"device", Label, None}, {"kind", Label, None},
		{"life_pct", Gauge, Percent}, {"life_a_pct", Gauge, Percent}, {"life_b_pct", Gauge, Percent},
		{"reserve_used_pct", Gauge, Percent}, {"max_ec", Gauge, Count}, {"bad_blocks", Gauge, Count},
		{"ecc_failures", Counter, Count}, {"ecc_corrected", Counter, Count},
	}}

	Uptime = Record{Name: "uptime", Stream: StreamMetrics, Source: "uptime", Fields: []Field{
		{"uptime_s", Gauge, Seconds}, {"idle_s", Counter, Seconds},
	}}

	// Process is a watched process's state, written when it changes and
	// at each snapshot (processFields).
	Process = Record{Name: "process", Stream: StreamState, Source: "process", Instance: "process", Fields: processFields}

	// ProcessExit is a watched process that exited with a code other than
	// 0 or was killed by a signal, as the kernel's process events tell
	// (docs/CONFIG.md), with the fields of its last Process record: at
	// crit for a core dumped or a signal whose default action dumps one
	// (SIGSEGV, SIGABRT...), at warning for SIGTERM and SIGINT, at err
	// otherwise. Stamped at the exit.
	ProcessExit = Record{Name: "process.exit", Stream: StreamEvents, Source: "process", Instance: "process", Fields: processFields}

	// ProcessExitsLost is the kernel's process events lost: its queue of
	// them overflowed (ENOBUFS) overflows times since the last such
	// record, so an exit in between may read "vanished". At most one a
	// sample.
	ProcessExitsLost = Record{Name: "process.exits_lost", Stream: StreamEvents, Source: "process", Fields: []Field{
		{"overflows", Gauge, Count},
	}}

	// Snapshot is a command's or a file's output, written when it changes.
	// exit_code is left out for a file.
	Snapshot = Record{Name: "snapshot", Stream: StreamState, Source: "snapshot", Instance: "snapshot", Fields: []Field{
		{"snapshot", Label, None}, {"output", Text, None}, {"exit_code", Gauge, None},
		{"truncated", Flag, None}, {"changed", Flag, None},
	}}
)

// processFields are a watched process's: restarts counts the new
// processes seen in this boot, across the agent's restarts and reloads;
// runtime_s is how long the process has run, or ran once it ended.
// The fields after it say how it ended, and are "", -1 and false while it
// runs: reason is "exited" (with exit_code), "killed" (by signal, a name
// such as "SIGSEGV"; core when it dumped one), "stopped" (it removed its
// pidfile; how it ended is not known) or "vanished" (it is gone, how is
// not known: the kernel's process events were not available, or lost,
// or it ended while the agent was down).
// The runtime of one that stopped or vanished runs to the last sample
// that saw it; 0 for one that ended while the agent was down, whose
// runtime the agent did not see.
var processFields = []Field{
	{"process", Label, None}, {"running", Flag, None}, {"pid", Label, None},
	{"restarts", Counter, Count}, {"rss_bytes", Gauge, Bytes}, {"cpu_ticks", Counter, Ticks},
	{"fds", Gauge, Count}, {"state", Label, None},
	{"runtime_s", Gauge, Seconds}, {"reason", Label, None}, {"exit_code", Gauge, None},
	{"signal", Label, None}, {"core", Flag, None},
}

// Kernel messages: kernel.log for a message at err or worse, or the name
// of the known pattern a message matched, with the fields parsed from it
// after the ones all share. usec is the kernel's time of the message, in
// microseconds since boot; kseq its sequence number.
var kernelFields = []Field{{"msg", Text, None}, {"kseq", Label, None}, {"usec", Gauge, Micros}}

func kernelRecord(name string, fields ...Field) Record {
	return Record{Name: name, Stream: StreamEvents, Source: "kmsg", Fields: append(kernelFields[:len(kernelFields):len(kernelFields)], fields...)}
}

var (
	KernelLog = kernelRecord("kernel.log")
	// KernelPanic is a panic, an oops or a BUG: reason is what follows
	// "Kernel panic - not syncing: ", "Oops: " or "BUG: " at the start of
	// the message, or the whole "kernel BUG at FILE:LINE!".
	KernelPanic = kernelRecord("kernel.panic", Field{"reason", Text, None})
	// KernelOOM is one OOM kill: the victim and the memory it held
	// (anon-rss + file-rss + shmem-rss), from the "Killed process" line;
	// the kill's other lines are not events.
	KernelOOM = kernelRecord("kernel.oom",
		Field{"pid", Label, None}, Field{"process", Label, None}, Field{"rss_bytes", Gauge, Bytes})
	// KernelIOError is a block device's or a filesystem's error; readonly
	// is a filesystem remounted read-only by it.
	KernelIOError = kernelRecord("kernel.io_error", Field{"device", Label, None}, Field{"readonly", Flag, None})
	// KernelSegfault is a user process's invalid memory access: where
	// (addr), from which instruction and stack (ip, sp, in hex), the
	// page fault's error code and the file mapped at ip.
	KernelSegfault = kernelRecord("kernel.segfault",
		Field{"pid", Label, None}, Field{"process", Label, None}, Field{"addr", Label, None},
		Field{"ip", Label, None}, Field{"sp", Label, None}, Field{"error", Label, None}, Field{"object", Label, None})
)

// The previous boot's crash logs, read from pstore (/sys/fs/pstore) at the
// agent's start. file is the entry's name (dmesg-ramoops-0); header the
// kernel's first line of a dmesg entry ("Panic#1 Part1"), empty for the
// others. An entry's text is stored in parts of at most PstorePart bytes,
// numbered part of parts; past PstoreParts parts its head is dropped, and
// dropped says how many bytes: the tail, a panic's last lines, is kept.
// pstore.panic and pstore.oops are dmesg entries whose header says Panic
// or Oops, pstore.dmesg any other (a dump at shutdown), pstore.console the
// console's last lines and pstore.pmsg what user space wrote to
// /dev/pmsg0.
var pstoreFields = []Field{
	{"file", Label, None}, {"header", Label, None}, {"part", Label, None}, {"parts", Label, None},
	{"dropped", Gauge, Bytes}, {"text", Text, None},
}

var (
	PstorePanic   = Record{Name: "pstore.panic", Stream: StreamEvents, Source: "pstore", Instance: "file", Fields: pstoreFields}
	PstoreOops    = Record{Name: "pstore.oops", Stream: StreamEvents, Source: "pstore", Instance: "file", Fields: pstoreFields}
	PstoreDmesg   = Record{Name: "pstore.dmesg", Stream: StreamEvents, Source: "pstore", Instance: "file", Fields: pstoreFields}
	PstoreConsole = Record{Name: "pstore.console", Stream: StreamEvents, Source: "pstore", Instance: "file", Fields: pstoreFields}
	PstorePmsg    = Record{Name: "pstore.pmsg", Stream: StreamEvents, Source: "pstore", Instance: "file", Fields: pstoreFields}
)

// PstorePart bounds the text of one pstore record, PstoreParts the parts
// of one entry by default (the collector's max_parts option).
const (
	PstorePart  = 8 << 10
	PstoreParts = 4
)

// WatchdogBootStatus is what a hardware watchdog says of the last reset,
// written once when the collector starts (the agent's start, a reload):
// bootstatus is the driver's raw WDIOF_* bits (linux/watchdog.h) and
// flags names them ("card_reset" for a reset by the watchdog itself,
// "power_under", "overheat"...), comma-separated, "" when none is set.
// Such a record is at warning level, else at info. identity and state
// are "" and timeout_s 0 where the driver does not say; reset_reason is
// the board's reset-reason file (option reset_reason), "" without one.
var (
	WatchdogBootStatus = Record{Name: "watchdog.bootstatus", Stream: StreamState, Source: "watchdog", Instance: "watchdog", Fields: []Field{
		{"watchdog", Label, None}, {"identity", Label, None}, {"bootstatus", Label, None}, {"flags", Label, None},
		{"timeout_s", Gauge, Seconds}, {"state", Label, None}, {"reset_reason", Text, None},
	}}
)

// KernelHungTask is a task blocked in the kernel (state D) for longer
// than kernel.hung_task_timeout_secs: blocked_s is the kernel's figure.
var KernelHungTask = kernelRecord("kernel.hung_task",
	Field{"pid", Label, None}, Field{"process", Label, None}, Field{"blocked_s", Gauge, Seconds})

// KernelDropped is kernel messages the kmsg collector's rate limit
// dropped: how many, the first one's kseq, and the kernel time from the
// first to the last; stamped at the first. At most one a minute.
var KernelDropped = Record{Name: "kernel.dropped", Stream: StreamEvents, Source: "kmsg", Fields: []Field{
	{"dropped", Gauge, Count}, {"kseq", Label, None}, {"span_s", Gauge, Seconds},
}}

// A crashed process, as the cores collector stores what itiny core, the
// kernel's core_pattern handler, left in the spool (package
// internal/corespool). ProcessCrash is the event, stamped when the
// handler ran: the executable and pid the kernel named, the thread that
// crashed (tid), the signal's name ("SIGSEGV"), the threads in the core
// and those whose stacks the minidump holds, its size, and minidump, the
// sequence number of its first part in the cores stream (0 when none was
// kept); dropped counts the crashes before it that were not kept (over
// the per-hour cap, or the spool full), and error says what failed ("" if
// nothing did: a truncated core, a spool file that does not read); boot
// and time are the crash's own (the boot id as
// /proc/sys/kernel/random/boot_id has it, and the kernel's %t in Unix
// seconds), which differ from the event's stamp when the crash was
// stored in a later boot.
// ProcessCore is one part of a minidump, an ELF core file: part of parts,
// first the sequence number of part 1 (0 in part 1 itself), size the
// whole minidump's bytes, crc the CRC-32C of its bytes up to the end of
// this part (the last part's is the whole's), data at most CorePart
// bytes of it.
var (
	ProcessCrash = Record{Name: "process.crash", Stream: StreamEvents, Source: "cores", Fields: []Field{
		{"exe", Label, None}, {"pid", Label, None}, {"tid", Label, None}, {"signal", Label, None},
		{"threads", Gauge, Count}, {"stacks", Gauge, Count}, {"size", Gauge, Bytes},
		{"minidump", Label, None}, {"dropped", Gauge, Count}, {"error", Text, None},
		{"boot", Label, None}, {"time", Label, None},
	}}
	ProcessCore = Record{Name: "process.core", Stream: StreamCores, Source: "cores", Fields: []Field{
		{"pid", Label, None}, {"part", Label, None}, {"parts", Label, None}, {"first", Label, None},
		{"size", Gauge, Bytes}, {"crc", Label, None}, {"data", Blob, None},
	}}
	// ProcessCrashesDropped counts crashes not kept (over the per-hour
	// cap, the spool full, or its lock held too long) that no kept
	// crash's dropped told: the agent writes it when it finds such a
	// count, so that a crash storm that ends says how many it lost.
	ProcessCrashesDropped = Record{Name: "process.crashes_dropped", Stream: StreamEvents, Source: "cores", Fields: []Field{
		{"dropped", Gauge, Count},
	}}
)

// CorePart bounds a process.core record's data; a part is cut so that
// four fill a segment of the cores stream (agent's corePart).
const CorePart = 32 << 10
