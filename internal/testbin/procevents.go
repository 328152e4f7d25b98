package testbin

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// NeedProcEvents skips a test of the kernel's process events (the netlink
// proc connector) when the agent, whose process_exits (agent.start) is
// exits, does not use them because it may not: outside the initial PID
// and user namespaces, or before Linux 6.6 without CAP_NET_ADMIN. Where
// it may, it fails the test instead: a skip there would hide a
// regression.
func NeedProcEvents(tb testing.TB, exits string) {
	tb.Helper()
	if exits == "netlink" {
		return
	}
	if why := procEventsDenied(); why != "" {
		tb.Skipf("no process events (process_exits %q): %s", exits, why)
	}
	tb.Fatalf("process_exits %q in the initial PID and user namespaces, with CAP_NET_ADMIN or Linux 6.6 or later: the kernel gives its process events there (unless built without CONFIG_PROC_EVENTS)", exits)
}

// QemuEnv is set (to the emulated architecture) by scripts/test-cross.sh
// for the test binaries it runs under qemu-user, which does not emulate
// netlink's proc connector ("protocol not supported").
const QemuEnv = "ITINY_QEMU_USER"

// procEventsDenied says why this process may not listen to the kernel's
// process events, or "" if it may.
func procEventsDenied() string {
	if arch := os.Getenv(QemuEnv); arch != "" {
		return "qemu-user (" + arch + ") does not emulate netlink's proc connector"
	}
	// The initial namespaces' inode numbers are fixed
	// (PROC_PID_INIT_INO, PROC_USER_INIT_INO).
	for _, ns := range [...]struct{ name, init string }{{"pid", "pid:[4026531836]"}, {"user", "user:[4026531837]"}} {
		if l, err := os.Readlink("/proc/self/ns/" + ns.name); err != nil || l != ns.init {
			return "not in the initial " + ns.name + " namespace (" + l + "), where alone the kernel gives them"
		}
	}
	if capNetAdmin() || kernelAtLeast(6, 6) {
		return ""
	}
	return "without CAP_NET_ADMIN, which Linux before 6.6 requires"
}

// capNetAdmin reports whether this process has CAP_NET_ADMIN (12) in its
// effective set.
func capNetAdmin() bool {
	b, _ := os.ReadFile("/proc/self/status")
	_, rest, _ := strings.Cut(string(b), "\nCapEff:")
	hex, _, _ := strings.Cut(strings.TrimSpace(rest), "\n")
	caps, err := strconv.ParseUint(hex, 16, 64)
	return err == nil && caps&(1<<12) != 0
}

// kernelAtLeast reports whether the running kernel's version is at least
// major.minor.
func kernelAtLeast(major, minor int) bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	// "6.18.44-generic": the leading digits of the first two parts.
	var v [2]int
	i := 0
	for _, c := range u.Release {
		if c == '.' && i == 0 {
			i++
		} else if c >= '0' && c <= '9' {
			v[i] = v[i]*10 + int(c-'0')
		} else {
			break
		}
	}
	return v[0] > major || v[0] == major && v[1] >= minor
}
