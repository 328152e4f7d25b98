package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itiny/itiny/catalog"
	"github.com/itiny/itiny/internal/testbin"
)

// bootEndConfig runs the agent with the collectors that witness a boot's
// end, on the test's own procfs and sysfs roots.
const bootEndConfig = `
socket = itiny.sock
[collector pstore]
remove = %s
`

// TestDeviceBootEnded: the real agent, started in a new boot (its procfs
// root's boot_id changed), says in device.boot how the boot before ended
// (the previous run stopped by SIGTERM, killed, crashed; the kernel's
// panic log in pstore; the watchdog's card_reset), with the time of the
// boot's last record and the uptime then; itiny-read boots shows it. A
// panic log kept in pstore (remove = false) is the evidence of one boot
// only.
func TestDeviceBootEnded(t *testing.T) {
	const panicLog = "Panic#1 Part1\n<6>[    7.1] sysrq: Trigger a crash\n<0>[    7.5] Kernel panic - not syncing: sysrq triggered crash\n"
	const oopsLog = "Oops#1 Part1\n<1>[    3.2] BUG: kernel NULL pointer dereference, address: 0000000000000000\n<4>[    3.2] Oops: 0002 [#1] SMP\n"
	for _, tc := range []struct {
		name         string
		sig          syscall.Signal // how the boot's last run ends
		pstore       string         // the next boot's dmesg-ramoops-0, "" none
		bootstatus   string         // the next boot's watchdog0 bootstatus, "" none
		ended, proof string
	}{
		{"shutdown", syscall.SIGTERM, "", "", "clean shutdown", "agent.stop reason SIGTERM"},
		{"power", syscall.SIGKILL, "", "", "power loss or unknown", "the agent did not stop"},
		{"crash", syscall.SIGABRT, "", "", "agent crashed", "agent.crash: SIGABRT: abort"},
		{"panic", syscall.SIGKILL, panicLog, "", "kernel panic", "pstore Panic#1 Part1: Kernel panic - not syncing: sysrq triggered crash"},
		{"watchdog", syscall.SIGKILL, "", "32\n", "watchdog reset", "watchdog0 flags card_reset"},
		{"watchdog-clear", syscall.SIGTERM, "", "0\n", "clean shutdown", "agent.stop reason SIGTERM"},
		// The kernel's word outranks the agent's stop or crash; an oops
		// does not end a boot, and tells only where nothing else does.
		{"panic-after-stop", syscall.SIGTERM, panicLog, "", "kernel panic", "pstore Panic#1 Part1: Kernel panic - not syncing: sysrq triggered crash"},
		{"watchdog-after-crash", syscall.SIGABRT, "", "32\n", "watchdog reset", "watchdog0 flags card_reset"},
		{"oops-after-stop", syscall.SIGTERM, oopsLog, "", "clean shutdown", "agent.stop reason SIGTERM"},
		{"oops", syscall.SIGKILL, oopsLog, "", "kernel oops", "pstore Oops#1 Part1: BUG: kernel NULL pointer dereference, address: 0000000000000000"},
		// A crash line of any length is quoted up to catalog.MaxEvidence.
		{"long", syscall.SIGKILL, "Panic#1 Part1\n<0>[ 7.5] Kernel panic - not syncing: " + strings.Repeat("x", 30000) + "\n", "", "kernel panic",
			("pstore Panic#1 Part1: Kernel panic - not syncing: " + strings.Repeat("x", 300))[:catalog.MaxEvidence]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBootRoots(t, "keep")
			b.boot(t, "aaaaaaaa-0000-0000-0000-000000000001")
			began := time.Now()
			p := b.start(t) // agent.start is in the ring once it listens
			p.cmd.Process.Signal(tc.sig)
			p.cmd.Wait()
			ended := time.Now()

			b.boot(t, "bbbbbbbb-0000-0000-0000-000000000002")
			if tc.pstore != "" {
				b.file(t, "fs/pstore/dmesg-ramoops-0", tc.pstore)
			}
			if tc.bootstatus != "" {
				b.file(t, "class/watchdog/watchdog0/bootstatus", tc.bootstatus)
			}
			p = b.start(t)
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()

			d := b.deviceBoots(t)
			if len(d) != 2 {
				t.Fatalf("%d device.boot records, want 2: %+v\n%s", len(d), d, p.logText())
			}
			if d[0].Fields.PrevEnded != "" {
				t.Errorf("first boot the agent sees: prev_ended %q, want none", d[0].Fields.PrevEnded)
			}
			f := d[1].Fields
			last, err := time.Parse(time.RFC3339Nano, f.PrevLast)
			if f.PrevEnded != tc.ended || f.PrevEvidence != tc.proof || err != nil || last.Before(began) || last.After(ended) || f.PrevUptime <= 0 {
				t.Errorf("device.boot: ended %q evidence %q last %q uptime %v,\nwant %q %q, last within [%v, %v]",
					f.PrevEnded, f.PrevEvidence, f.PrevLast, f.PrevUptime, tc.ended, tc.proof, began, ended)
			}
			out := b.read(t, "boots")
			if !strings.Contains(out, tc.ended) || !strings.Contains(out, tc.proof[:min(len(tc.proof), 100)]) {
				t.Errorf("itiny-read boots does not say %q, %q:\n%s", tc.ended, tc.proof, out)
			}
		})
	}

	// A panic log kept in pstore is stored once: the boot after the one
	// it ended ended by a shutdown, not by the same panic.
	t.Run("pstore-kept", func(t *testing.T) {
		b := newBootRoots(t, "false")
		b.boot(t, "aaaaaaaa-0000-0000-0000-000000000001")
		p := b.start(t)
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		b.file(t, "fs/pstore/dmesg-ramoops-0", panicLog)
		for _, id := range []string{"bbbbbbbb-0000-0000-0000-000000000002", "cccccccc-0000-0000-0000-000000000003"} {
			b.boot(t, id)
			p = b.start(t)
			// The pstore collector stores at its first sample, just after
			// the socket listens: a stop before it would leave the entry
			// for the next boot, as it should.
			for deadline := time.Now().Add(eventWait); ; time.Sleep(5 * time.Millisecond) {
				if _, err := os.Stat(filepath.Join(b.data, "pstore-stored")); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("pstore-stored never written:\n%s", p.logText())
				}
			}
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
		}
		if _, err := os.Stat(filepath.Join(b.sys, "fs/pstore/dmesg-ramoops-0")); err != nil {
			t.Fatalf("remove = false removed the entry: %v", err)
		}
		d := b.deviceBoots(t)
		if len(d) != 3 || d[1].Fields.PrevEnded != "kernel panic" || d[2].Fields.PrevEnded != "clean shutdown" {
			t.Fatalf("device.boot records: %+v, want the second after a panic, the third after a shutdown", d)
		}
		if n := strings.Count(b.read(t, "--stream", "events", "-o", "json", "name=pstore.panic"), "\n"); n != 1 {
			t.Errorf("the kept entry stored %d times, want once", n)
		}
	})
}

// TestDamagedBootFile: a boot counter's file of the wrong shape is read
// as no boot seen before, never a crash of the agent at every start.
func TestDamagedBootFile(t *testing.T) {
	for _, content := range []string{"3 " + strings.Repeat("ab", 18) + "\n", "3 zz\n", "garbage", ""} {
		b := newBootRoots(t, "keep")
		b.boot(t, "aaaaaaaa-0000-0000-0000-000000000001")
		os.MkdirAll(b.data, 0o750)
		os.WriteFile(filepath.Join(b.data, "boot"), []byte(content), 0o640)
		p := b.start(t)
		p.cmd.Process.Signal(syscall.SIGTERM)
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("boot file %q: %v\n%s", content, err, p.logText())
		}
		if d := b.deviceBoots(t); len(d) != 1 || d[0].Fields.PrevEnded != "" {
			t.Errorf("boot file %q: device.boot %+v, want one, of no boot before", content, d)
		}
	}
}

// bootRoots is an agent's data directory with procfs and sysfs roots of
// the test's own: a boot is a boot_id.
type bootRoots struct {
	data, proc, sys, conf string
}

func newBootRoots(t *testing.T, remove string) *bootRoots {
	dir := t.TempDir()
	b := &bootRoots{data: filepath.Join(dir, "data"), proc: filepath.Join(dir, "proc"), sys: filepath.Join(dir, "sys"), conf: filepath.Join(dir, "itiny.conf")}
	if remove == "keep" {
		remove = "true"
	}
	os.WriteFile(b.conf, []byte(strings.Replace(bootEndConfig, "%s", remove, 1)), 0o644)
	os.MkdirAll(filepath.Join(b.sys, "fs/pstore"), 0o755)
	return b
}

func (b *bootRoots) boot(t *testing.T, id string) {
	b.file(t, "../proc/sys/kernel/random/boot_id", id+"\n")
}

// file writes a file under the sysfs root.
func (b *bootRoots) file(t *testing.T, name, content string) {
	t.Helper()
	path := filepath.Join(b.sys, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (b *bootRoots) start(t *testing.T) *proc {
	t.Helper()
	cmd := runAgent(t, "--path.procfs", b.proc, "--path.sysfs", b.sys, "--data", b.data, "--config", b.conf)
	p := &proc{cmd: cmd, log: &syncWriter{}, sock: filepath.Join(b.data, "itiny.sock")}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitListening(t, p)
	return p
}

// deviceBoot is a device.boot record as itiny-read -o json prints it.
type deviceBoot struct {
	Fields struct {
		Bootn        int     `json:"bootn"`
		PrevEnded    string  `json:"prev_ended"`
		PrevEvidence string  `json:"prev_evidence"`
		PrevLast     string  `json:"prev_last"`
		PrevUptime   float64 `json:"prev_uptime_s"`
	}
}

func (b *bootRoots) deviceBoots(t *testing.T) []deviceBoot {
	t.Helper()
	var d []deviceBoot
	for _, line := range strings.Split(strings.TrimSpace(b.read(t, "--stream", "events", "-o", "json", "name=device.boot")), "\n") {
		var r deviceBoot
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		d = append(d, r)
	}
	return d
}

var readerBin string

// itinyRead returns the itiny-read binary, built once for the tests.
func itinyRead(t *testing.T) string {
	t.Helper()
	if readerBin == "" {
		bin, err := testbin.Build(os.TempDir(), "../itiny-read")
		if err != nil {
			t.Fatal(err)
		}
		readerBin = bin
	}
	return readerBin
}

func (b *bootRoots) read(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(itinyRead(t), append(args, b.data)...).Output()
	if err != nil {
		t.Fatalf("itiny-read %s: %v\n%s", strings.Join(args, " "), err, stderrOf(err))
	}
	return string(out)
}

func stderrOf(err error) []byte {
	if x, ok := err.(*exec.ExitError); ok {
		return x.Stderr
	}
	return nil
}
