package main

import (
	"bytes"
	"debug/elf"
	bin "encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/internal/corespool"
	"github.com/itiny/itiny/internal/testbin"
)

// crashC is the program that crashes: its main thread in crash_here,
// or in libc's abort given a second argument, after starting threads
// that spin in spin_worker until it dies.
const crashC = `#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
volatile int stop;
__attribute__((noinline)) void spin_worker(int n) { while (!stop) n++; }
void *worker(void *p) { spin_worker((int)(long)p); return 0; }
__attribute__((noinline)) void crash_here(int *volatile p) { *p = 42; }
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 0;
	pthread_t t;
	for (int i = 0; i < n; i++) pthread_create(&t, 0, worker, (void *)(long)i);
	if (n > 0) usleep(200000); /* the threads reach their loop */
	if (argc > 2) abort();
	crash_here(0);
	return 0;
}
`

// A crashKind is how the program crashes, and what gdb prints of it.
type crashKind struct {
	arg    string // the program's second argument
	signal int
	name   string         // the signal's, as itiny-read and gdb say it
	bt     *regexp.Regexp // gdb's bt of the minidump
	top    string         // the crashed thread's frame in gdb's info threads
}

var (
	segv = crashKind{"", 11, "SIGSEGV", regexp.MustCompile(`(?m)^#0 +crash_here \(p=0x0\) at .*crash\.c:7\n#1 +0x[0-9a-f]+ in main \(`), "crash_here (p=0x0)"}
	// A crash in a shared library: gdb unwinds through libc only with the
	// dynamic linker's list of the loaded objects.
	abrt = crashKind{"abort", 6, "SIGABRT", regexp.MustCompile(`(?s)\b(__GI_)?(abort|raise)\b.*\n#\d+ +0x[0-9a-f]+ in main \(`), " in "}
)

// tools returns gdb, or skips the test saying how to get it.
func tools(t *testing.T) (gdb string) {
	t.Helper()
	gdb, err := exec.LookPath("gdb")
	if err != nil {
		t.Skip("gdb not installed, needed to make the core and read the minidump: make deps (scripts/deps.sh) installs it")
	}
	return gdb
}

// proofTools builds the program that crashes and itiny-read, and
// returns them with gdb.
func proofTools(t *testing.T) (gdb, prog, reader string) {
	t.Helper()
	gdb = tools(t)
	prog = testbin.CC(t, t.TempDir(), "crash", crashC)
	reader, err := testbin.Build(t.TempDir(), "../itiny-read")
	if err != nil {
		t.Fatal(err)
	}
	return gdb, prog, reader
}

// TestCoreProof is the proof of itiny core: a real program crashes in a
// known function, gdb's gcore makes its core, laid out as the kernel
// lays one out (gcore writes its notes last); the real itiny core keeps
// its minidump from a pipe, the real agent stores it, the real itiny-read
// lists and extracts it, and Debian's gdb prints from it the backtrace
// that names the function, and every thread with the registers the whole
// core has.
func TestCoreProof(t *testing.T) {
	gdb, prog, reader := proofTools(t)
	for _, tc := range []struct {
		name    string
		threads int // besides the main one
		kind    crashKind
	}{{"one thread", 0, segv}, {"four threads", 3, segv}, {"abort in libc", 1, abrt}} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			core, pid, res := gcore(t, gdb, prog, tc.threads, tc.kind, data)
			if res.code != 0 || res.stderr != "" {
				t.Fatalf("itiny core: exit %d\n%s", res.code, res.stderr)
			}
			// The handler's memory, core of 25 MB or not: the Go runtime,
			// minicore's bounded buffers, and the runner's few MB.
			if res.maxRSS > 24<<20 {
				t.Errorf("itiny core's peak RSS: %d bytes", res.maxRSS)
			}
			t.Logf("itiny core: peak RSS %d KiB", res.maxRSS>>10)
			storeSpool(t, data)
			checkCrash(t, gdb, reader, prog, data, pid, 1+tc.threads, core, tc.kind)
		})
	}
}

// checkCrash checks the crash of prog (pid, threads threads) the agent
// stored in data: itiny-read lists it and extracts its minidump, from
// which gdb prints the backtrace naming crash_here, every thread, and,
// given the whole core, the registers it holds.
func checkCrash(t *testing.T, gdb, reader, prog, data string, pid, threads int, core string, k crashKind) {
	t.Helper()
	out, err := exec.Command(reader, "cores", data).Output()
	if err != nil {
		t.Fatalf("itiny-read cores: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	// TIME (2 fields) EXE PID TID SIGNAL THREADS STACKS SIZE SEQ NOTE
	if len(lines) != 2 || len(f) != 11 || f[2] != prog || f[3] != strconv.Itoa(pid) || f[5] != k.name ||
		f[6] != strconv.Itoa(threads) || f[7] != f[6] || f[10] != "-" {
		t.Fatalf("itiny-read cores:\n%s", out)
	}
	mini := filepath.Join(t.TempDir(), "mini.core")
	if out, err := exec.Command(reader, "cores", "--extract", f[9], "-o", mini, data).CombinedOutput(); err != nil {
		t.Fatalf("itiny-read cores --extract %s: %v\n%s", f[9], err, out)
	}
	bt := gdbBatch(t, gdb, prog, mini, "bt")
	if !k.bt.MatchString(bt) {
		t.Errorf("gdb bt of the minidump, want %s:\n%s", k.bt, bt)
	}
	info := gdbBatch(t, gdb, prog, mini, "info threads")
	if n := strings.Count(info, " in spin_worker (n="); n != threads-1 || !strings.Contains(info, k.top) {
		t.Errorf("gdb info threads of the minidump: %d threads in spin_worker, want %d:\n%s", n, threads-1, info)
	}
	if core == "" {
		return
	}
	st, _ := os.Stat(mini)
	full, _ := os.Stat(core)
	t.Logf("minidump of %d bytes, of a %d-byte core", st.Size(), full.Size())
	if st.Size() > full.Size()/10 {
		t.Errorf("minidump of %d bytes, of a %d-byte core", st.Size(), full.Size())
	}
	// Every thread's registers, as the whole core has them.
	const regs = "thread apply all info registers"
	if got, want := gdbBatch(t, gdb, prog, mini, regs), gdbBatch(t, gdb, prog, core, regs); got != want {
		t.Errorf("registers in the minidump:\n%s\nin the core:\n%s", got, want)
	}
}

// TestCoreKernel is the proof with the kernel's own core: it sets
// kernel.core_pattern to the real itiny core, crashes the program, and
// puts the machine's pattern back. The pattern is the whole machine's,
// so the test runs only when asked: ITINY_TEST_CORE_PATTERN=1, as root.
func TestCoreKernel(t *testing.T) {
	if os.Getenv("ITINY_TEST_CORE_PATTERN") != "1" || os.Geteuid() != 0 {
		t.Skip("sets the machine's kernel.core_pattern: run as root with ITINY_TEST_CORE_PATTERN=1")
	}
	gdb, prog, reader := proofTools(t)
	const pattern = "/proc/sys/kernel/core_pattern"
	old, err := os.ReadFile(pattern)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	os.Chmod(data, 0o755)
	if err := os.WriteFile(pattern, []byte("|"+binary+" core --data "+data+" %P %I %s %t %e"), 0o644); err != nil {
		t.Skipf("cannot set the core pattern: %v", err)
	}
	defer os.WriteFile(pattern, old, 0o644)
	cmd := exec.Command("/bin/sh", "-c", "ulimit -c unlimited; exec \"$0\" 3", prog)
	err = cmd.Run()
	if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.CoreDump() {
		t.Fatalf("the program did not dump core: %v", err)
	}
	// The handler may run on after the program is reaped (with
	// kernel.core_pipe_limit 0 the kernel does not wait for it).
	deadline := time.Now().Add(30 * time.Second)
	for spooled(t, data) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("itiny core left no crash in the spool")
		}
		time.Sleep(20 * time.Millisecond)
	}
	os.WriteFile(pattern, old, 0o644)
	storeSpool(t, data)
	checkCrash(t, gdb, reader, prog, data, cmd.Process.Pid, 4, "", segv)
}

// gcore runs prog with threads threads under gdb until it crashes,
// makes its core with gcore and, the crashed process still alive as
// under the kernel's dump, runs itiny core on it, laid out as the kernel
// lays one out, keeping the crash in data (coreHelper). It returns the
// core, the program's pid, and how itiny core ended.
func gcore(t *testing.T, gdb, prog string, threads int, k crashKind, data string) (string, int, helperResult) {
	t.Helper()
	dir := t.TempDir()
	raw, core, result := filepath.Join(dir, "gcore"), filepath.Join(dir, "core"), filepath.Join(dir, "result")
	helper := fmt.Sprintf("shell %s=1 %s %s %s %s %s %d %s", coreHelperEnv, os.Args[0], raw, core, binary, data, k.signal, result)
	script := []string{"-batch", "-nx", "-ex", "run", "-ex", "gcore " + raw,
		"-ex", "python import gdb, os; os.environ['ITINY_PID'] = str(gdb.selected_inferior().pid)",
		"-ex", helper, "-ex", "info inferiors", "-ex", "kill"}
	args := append(script, "--args", prog, strconv.Itoa(threads))
	if k.arg != "" {
		args = append(args, k.arg)
	}
	cmd := exec.Command(gdb, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir} // the inferior's environment, on its stack
	out, err := cmd.CombinedOutput()
	m := regexp.MustCompile(`process (\d+)`).FindSubmatch(out)
	if err != nil || m == nil || !bytes.Contains(out, []byte(k.name)) {
		t.Fatalf("gdb gcore: %v\n%s", err, out)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	b, err := os.ReadFile(result)
	if err != nil {
		t.Fatalf("the helper gdb ran left no result: %v\n%s", err, out)
	}
	var res helperResult
	head, stderr, _ := strings.Cut(string(b), "\n")
	if _, err := fmt.Sscan(head, &res.code, &res.maxRSS); err != nil {
		t.Fatalf("helper: %s", b)
	}
	res.stderr = stderr
	if skip, ok := strings.CutPrefix(stderr, "skip: "); ok {
		t.Skip(skip)
	}
	return core, pid, res
}

// coreHelperEnv, set, makes the test binary coreHelper, which gdb's
// shell command runs while it holds the crashed program stopped.
const coreHelperEnv = "ITINY_TEST_CORE_HELPER"

func init() {
	if os.Getenv(coreHelperEnv) != "" {
		coreHelper(os.Args[1:])
		os.Exit(0)
	}
}

// helperResult is how itiny core ended under coreHelper.
type helperResult struct {
	code   int
	maxRSS int64
	stderr string
}

// coreHelper lays out gcore's core raw as the kernel does into core and
// runs the real itiny core on it, as the kernel would: pid ITINY_PID,
// the process alive. It writes how it ended to result: "code maxrss\n"
// then itiny core's standard error.
func coreHelper(args []string) {
	raw, core, itiny, data, sig, result := args[0], args[1], args[2], args[3], args[4], args[5]
	var res helperResult
	if err := kernelOrderFile(raw, core); err != nil {
		res.code, res.stderr = 1, err.Error()
	} else if in, err := os.Open(core); err != nil {
		res.code, res.stderr = 1, err.Error()
	} else {
		pid := os.Getenv("ITINY_PID")
		cmd := exec.Command(itiny, "core", "--data", data, pid, pid, sig, "1796331474", "a-thread") // %e: the thread's name
		var stderr bytes.Buffer
		cmd.Stdin, cmd.Stderr = in, &stderr
		if err := cmd.Run(); err != nil {
			res.code = 1
			stderr.WriteString(err.Error())
		}
		res.stderr = stderr.String()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.maxRSS = int64(ru.Maxrss) << 10
		}
	}
	os.WriteFile(result, fmt.Appendf(nil, "%d %d\n%s", res.code, res.maxRSS, res.stderr), 0o600)
}

// kernelOrder writes the core in, made by gcore, as the kernel writes a
// core (fs/binfmt_elf.c): the ELF header, the program headers, the
// PT_NOTE segment, then the PT_LOAD segments' data, page-aligned. gcore
// writes the notes after the memory, which a stream read once cannot
// use: the kernel's order is what itiny core reads on a device.
func kernelOrderFile(in, out string) error {
	f, err := elf.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return fmt.Errorf("skip: a %v %v core: the test lays out only little-endian ELF64 ones", f.Class, f.Data)
	}
	var progs []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_NOTE {
			progs = append([]*elf.Prog{p}, progs...)
		} else if p.Type == elf.PT_LOAD {
			progs = append(progs, p)
		}
	}
	o := bin.LittleEndian
	hdr := make([]byte, 64)
	// Streamed, not read whole: the helper's memory is its child's
	// peak RSS too (exec keeps the high-water mark).
	raw, err := os.Open(in)
	if err != nil {
		return err
	}
	defer raw.Close()
	if _, err := raw.ReadAt(hdr, 0); err != nil {
		return err
	}
	o.PutUint64(hdr[32:], 64) // e_phoff
	o.PutUint64(hdr[40:], 0)  // e_shoff
	o.PutUint16(hdr[56:], uint16(len(progs)))
	o.PutUint16(hdr[60:], 0) // e_shnum
	o.PutUint16(hdr[62:], 0) // e_shstrndx
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer w.Close()
	off := uint64(64 + 56*len(progs))
	phdrs := hdr
	for i, p := range progs {
		if i == 1 { // the memory starts on a page
			off = (off + 4095) &^ 4095
		}
		ph := make([]byte, 56)
		o.PutUint32(ph, uint32(p.Type))
		o.PutUint32(ph[4:], uint32(p.Flags))
		o.PutUint64(ph[8:], off)
		o.PutUint64(ph[16:], p.Vaddr)
		o.PutUint64(ph[32:], p.Filesz)
		o.PutUint64(ph[40:], p.Memsz)
		o.PutUint64(ph[48:], p.Align)
		phdrs = append(phdrs, ph...)
		if _, err := io.Copy(io.NewOffsetWriter(w, int64(off)), io.NewSectionReader(raw, int64(p.Off), int64(p.Filesz))); err != nil {
			return err
		}
		off += p.Filesz
	}
	if _, err := w.WriteAt(phdrs, 0); err != nil {
		return err
	}
	return w.Close()
}

// gdbBatch runs gdb on prog and core with one command and returns what
// it printed, the lines that vary with the machine's libraries left out.
func gdbBatch(t *testing.T, gdb, prog, core, command string) string {
	t.Helper()
	// Auto-loading off: the scripts of the libraries gdb now loads are
	// declined with a page of advice.
	out, err := exec.Command(gdb, "-batch", "-nx", "-iex", "set auto-load off", "-ex", command, prog, core).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb %s: %v\n%s", command, err, out)
	}
	var keep []string
	for l := range strings.SplitSeq(string(out), "\n") {
		// libthread_db, which gdb loads with libc, fails on a minidump
		// with a warning and a blank line.
		if l != "" && !strings.HasPrefix(l, "warning:") && !strings.Contains(l, "libthread_db") && !strings.Contains(l, "Core was generated") {
			keep = append(keep, l)
		}
	}
	// With the whole core gdb names a thread by its pthread_t too, which
	// it reads from the thread library's memory, not in the minidump.
	return pthreadName.ReplaceAllString(strings.Join(keep, "\n"), "($1)")
}

var pthreadName = regexp.MustCompile(`\(Thread 0x[0-9a-f]+ \((LWP \d+)\)\)`)

// storeSpool runs the agent on data until the cores collector has taken
// the spool's crashes, and stops it.
func storeSpool(t *testing.T, data string) {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "itiny.conf")
	os.WriteFile(conf, []byte(e2eConfig), 0o644)
	storeConf(t, data, conf)
}

// storeConf is storeSpool with the agent's configuration file conf.
func storeConf(t *testing.T, data, conf string) {
	t.Helper()
	p := start(t, data, conf)
	defer p.stop()
	deadline := time.Now().Add(30 * time.Second)
	for spooled(t, data) > 0 || droppedPending(t, data) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not take the spool's crashes:\n%s", p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("agent: %v\n%s", err, p.logText())
	}
}

// droppedPending says whether data's spool holds a count of crashes
// dropped that the agent has not taken.
func droppedPending(t *testing.T, data string) bool {
	marks, err := filepath.Glob(filepath.Join(data, corespool.Dir, ".late-*"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(data, corespool.Dir, ".dropped"))
	return len(marks) > 0 || err == nil
}

// spooled counts the crash files in data's spool.
func spooled(t *testing.T, data string) int {
	names, err := filepath.Glob(filepath.Join(data, corespool.Dir, "core-*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

// countingReader counts the bytes read from it.
type countingReader struct {
	n, size int64
}

func (r *countingReader) Read(b []byte) (int, error) {
	if r.n == r.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), r.size-r.n))
	clear(b[:n])
	r.n += int64(n)
	return n, nil
}

// TestCoreNeverFails: whatever it is given, itiny core reads its input
// to the end and exits 0, keeping what it can: the kernel's dump must
// not block or fail on its handler. Input a stream of zeros.
func TestCoreNeverFails(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	for _, tc := range []struct {
		name  string
		data  string // "": a directory of the test's
		args  []string
		err   string // the crash file's, or itiny core's stderr
		kept  bool
		input int64
	}{
		{"zeros", "", []string{"1", "1", "11", "0", "z"}, "not an ELF core: e_ident 00 00 00 00 00 00", true, 8 << 20},
		{"no arguments", "", nil, `, want [--data DIR] PID TID SIGNAL TIME EXE (core_pattern's %P %I %s %t %e); not an ELF core`, true, 1 << 20},
		{"bad numbers", "", []string{"x", "1", "y", "0", "appd", "worker"}, `itiny core: "x" is not a number; "y" is not a number`, true, 1 << 10},
		{"data directory unusable", notDir, []string{"1", "1", "11", "0", "z"}, "itiny core: crash of z (pid 1, signal 11) not kept: mkdir " + notDir + "/core-spool: not a directory", false, 8 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if data == "" {
				data = t.TempDir()
			}
			in := &countingReader{size: tc.input}
			res := testbin.RunInput(t, in, nil, binary, append([]string{"core", "--data", data}, tc.args...)...)
			if res.Code != 0 || in.n != in.size {
				t.Fatalf("exit %d, %d of %d bytes read\n%s", res.Code, in.n, in.size, res.Stderr)
			}
			if !tc.kept {
				if !strings.Contains(res.Stderr, tc.err) {
					t.Errorf("stderr %q, want %q", res.Stderr, tc.err)
				}
				return
			}
			names, _ := filepath.Glob(filepath.Join(data, corespool.Dir, "core-*"))
			if len(names) != 1 {
				t.Fatalf("crash files %v", names)
			}
			b, _ := os.ReadFile(names[0])
			if !strings.Contains(string(b), tc.err) {
				t.Errorf("crash file without error %q:\n%.400s", tc.err, b)
			}
			if tc.name == "bad numbers" && !strings.Contains(string(b), "\nexe appd worker\n") {
				t.Errorf("a command name split by the kernel is not joined again:\n%.200s", b)
			}
		})
	}
}

// TestCoreConcurrent: crashes at once, past the per-hour cap the agent
// wrote, each in its own handler: as many as the cap are kept, the
// others counted as dropped for the next one kept to say.
func TestCoreConcurrent(t *testing.T) {
	data := t.TempDir()
	s, err := corespool.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	err = s.SetLimits(corespool.Limits{ThreadBytes: 4096, Threads: 4, PerHour: 4, Size: 256 << 10, Spool: 8 << 20})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	core, err := os.ReadFile("../../minicore/testdata/x86_64.core")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 7 {
		wg.Go(func() {
			res := testbin.RunInput(t, bytes.NewReader(core), nil, binary, "core", "--data", data, strconv.Itoa(100+i), "1", "6", "0", "appd")
			if res.Code != 0 || res.Stderr != "" {
				t.Errorf("itiny core %d: exit %d, %s", i, res.Code, res.Stderr)
			}
		})
	}
	wg.Wait()
	state, _ := os.ReadFile(filepath.Join(data, corespool.Dir, "state"))
	if n := spooled(t, data); n != 4 || !strings.HasSuffix(string(state), "count 4\ndropped 3\n") {
		t.Errorf("%d crashes kept, state %q: want 4 kept and 3 dropped", n, state)
	}
	// The agent stores the four and tells the three dropped, which no
	// crash after them tells: all seven are in the events, once.
	storeSpool(t, data)
	var kept, dropped int64
	for _, r := range readRing(t, filepath.Join(data, "events")) {
		switch f := procFields(r); r.Name {
		case catalog.ProcessCrash.Name:
			kept++
			dropped += f["dropped"].Int()
		case catalog.ProcessCrashesDropped.Name:
			dropped += f["dropped"].Int()
		}
	}
	if kept != 4 || dropped != 3 {
		t.Errorf("events of %d crashes kept, %d dropped; want 4 and 3", kept, dropped)
	}
}
