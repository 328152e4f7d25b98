//go:build !nokmsg

package agent

import (
	"bytes"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/codec"
)

// A kmsgPattern is a kind of kernel message made an event of its own.
// parse reports whether msg is one and, if so, sets the record's fields
// after the three all kernel records share (msg, kseq, usec), in the
// catalogue's order. The values alias msg.
type kmsgPattern struct {
	rec   *catalog.Record
	parse func(msg []byte, f codec.Fields) bool
}

// kmsgPatterns, most severe first: a panic on OOM is a panic. The formats
// are the kernel's (file and function of each below); a line that looks
// like one but does not parse is not one, and is kernel.log at err or
// worse.
var kmsgPatterns = []kmsgPattern{
	{&catalog.KernelPanic, parsePanic},
	{&catalog.KernelOOM, parseOOMKill},
	{&catalog.KernelHungTask, parseHungTask},
	{&catalog.KernelIOError, parseIOError},
	{&catalog.KernelSegfault, parseSegfault},
}

// parsePanic: kernel/panic.c panic() "Kernel panic - not syncing: %s",
// die()'s "Oops: ..." (arm, arm64: "Internal error: Oops: ..."), "BUG:
// ..." (the page fault handlers, lockdep) and lib/bug.c's "kernel BUG at
// FILE:LINE!". Each begins the message: a driver's line that only holds
// the word ("... Oops, retrying") is no crash.
func parsePanic(msg []byte, f codec.Fields) bool {
	for _, p := range [...]string{"Kernel panic - not syncing", "Oops", "Internal error: Oops", "BUG:", "kernel BUG at"} {
		if bytes.HasPrefix(msg, []byte(p)) {
			reason := msg[len(p):]
			if p[0] == 'k' {
				reason = msg // "kernel BUG at FILE:LINE!": the place is the reason
			}
			for len(reason) > 0 && (reason[0] == ':' || reason[0] == ' ') {
				reason = reason[1:] // not bytes.TrimLeft: 720 bytes of firmware
			}
			setValue(f, 3, alias(reason))
			return true
		}
	}
	return false
}

// parseOOMKill: mm/oom_kill.c __oom_kill_process "%s: Killed process %d
// (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB,
// ..." (%s: "Out of memory", "Memory cgroup out of memory"). The kill's
// other lines, "invoked oom-killer" (warning), "oom-kill:constraint=..."
// and "oom_reaper: reaped process" (info), say nothing more about the
// victim and are not events: one kill, one event.
func parseOOMKill(msg []byte, f codec.Fields) bool {
	_, rest, ok := bytes.Cut(msg, []byte("Killed process "))
	if !ok {
		return false
	}
	pid, rest, ok := bytes.Cut(rest, []byte(" ("))
	if _, err := parseUint(pid); !ok || err != nil {
		return false
	}
	// The name (comm) may hold ") ": the end is the last before the sizes.
	end := bytes.Index(rest, []byte(") total-vm:"))
	if end < 0 {
		return false
	}
	var kb uint64
	for _, k := range [...]string{"anon-rss:", "file-rss:", "shmem-rss:"} {
		if v, ok := word(rest[end:], k, 'k'); ok {
			n, _ := parseUint(v)
			kb += n
		}
	}
	setValue(f, 3, alias(pid))
	setValue(f, 4, alias(rest[:end]))
	f.SetUint(5, kb<<10)
	return true
}

// parseHungTask: kernel/hung_task.c check_hung_task "INFO: task %s:%d
// blocked for more than %ld seconds." (err).
func parseHungTask(msg []byte, f codec.Fields) bool {
	_, rest, ok := bytes.Cut(msg, []byte("INFO: task "))
	if !ok {
		return false
	}
	task, rest, ok := bytes.Cut(rest, []byte(" blocked for more than "))
	c := bytes.LastIndexByte(task, ':')
	if !ok || c < 0 {
		return false
	}
	pid := task[c+1:]
	secs, _, _ := bytes.Cut(rest, []byte(" "))
	s, err := parseUint(secs)
	if _, perr := parseUint(pid); err != nil || perr != nil {
		return false
	}
	setValue(f, 3, alias(pid))
	setValue(f, 4, alias(task[:c]))
	f.SetUint(5, s)
	return true
}

// parseIOError: block/blk-mq.c blk_print_req_error "I/O error, dev %s,
// sector %llu ..." (before 5.x "blk_update_request: I/O error, dev ...");
// fs/buffer.c "Buffer I/O error on dev %pg, logical block %llu, ...";
// fs/ext4/super.c __ext4_error "EXT4-fs error (device %s): ..." (ext2
// and ext3 alike) and ext4_handle_error's "EXT4-fs (%s): Remounting
// filesystem read-only"; and any other "I/O error", device unknown.
func parseIOError(msg []byte, f codec.Fields) bool {
	var dev []byte
	readonly := false
	if d, ok := word(msg, "-fs error (device ", ')'); ok {
		dev = d
	} else if bytes.Contains(msg, []byte("Remounting filesystem read-only")) {
		dev, _ = word(msg, "-fs (", ')')
		readonly = true
	} else if d, ok := word(msg, "I/O error on dev ", ','); ok {
		dev = d
	} else if d, ok := word(msg, "I/O error, dev ", ','); ok {
		dev = d
	} else if !bytes.Contains(msg, []byte("I/O error")) {
		return false
	}
	setValue(f, 3, alias(dev))
	f.SetBool(4, readonly)
	return true
}

// parseSegfault: arch/x86/mm/fault.c show_signal_msg "%s[%d]: segfault
// at %lx ip %px sp %px error %lx" and print_vma_addr's " in %s[%lx+%lx]"
// (info; emerg for init); arch/arm64/kernel/traps.c arm64_show_signal
// "%s[%d]: unhandled exception: %s, ESR 0x%016lx, %s in ..." (5.0 on; the
// fault's address is in the register dump that follows, not the line)
// and, before 5.0, "%s[%d]: unhandled %s (%d) at 0x%016lx, esr 0x%08x,
// in ...". On arm64, error is the ESR.
func parseSegfault(msg []byte, f codec.Fields) bool {
	j := bytes.Index(msg, []byte("]: segfault at "))
	arm := j < 0
	if arm {
		j = bytes.Index(msg, []byte("]: unhandled "))
	}
	if j < 0 {
		return false
	}
	b := bytes.LastIndexByte(msg[:j], '[')
	if b < 0 {
		return false
	}
	rest := msg[j+len("]: "):]
	var addr, ip, sp, code []byte
	if arm {
		addr, _ = word(rest, ") at ", ',')
		if code, _ = word(rest, ", ESR ", ','); code == nil {
			code, _ = word(rest, ", esr ", ',')
		}
	} else {
		addr, _ = word(rest, "segfault at ", ' ')
		ip, _ = word(rest, " ip ", ' ')
		sp, _ = word(rest, " sp ", ' ')
		code, _ = word(rest, " error ", ' ')
	}
	obj, _ := word(rest, " in ", '[')
	setValue(f, 3, alias(msg[b+1:j]))
	setValue(f, 4, alias(msg[:b]))
	setValue(f, 5, alias(addr))
	setValue(f, 6, alias(ip))
	setValue(f, 7, alias(sp))
	setValue(f, 8, alias(code))
	setValue(f, 9, alias(obj))
	return true
}

// word returns what follows key in msg up to end (or the end of msg).
func word(msg []byte, key string, end byte) ([]byte, bool) {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return nil, false
	}
	w := msg[i+len(key):]
	if e := bytes.IndexByte(w, end); e >= 0 {
		w = w[:e]
	}
	return w, true
}

// alias is b as a string value without a copy: the record is encoded
// before the read buffer b lies in is touched again.
func alias(b []byte) codec.Value { return codec.String(view(b)) }
