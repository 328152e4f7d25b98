package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/itiny/itiny/agent"
	"github.com/itiny/itiny/internal/datadir"
	"github.com/itiny/itiny/internal/logfile"
	"github.com/itiny/itiny/internal/sdnotify"
	"github.com/itiny/itiny/internal/tinyfmt"
)

// runCmd runs the agent until SIGTERM or SIGINT (flush, close, exit 0).
// SIGHUP reloads the config file, keeping the running config if the new
// one is invalid; SIGUSR1 flushes buffered records now.
func runCmd(fs *flags, args []string) error {
	data := fs.String("data", datadir.Default(), "data directory: one ring per stream ($"+datadir.Env+", else "+datadir.Fallback+")")
	file := fs.String("config", "", "config file (default: the embedded default config)")
	logFile := fs.String("log-file", "", "write the diagnostic log to this file, rotated by size, instead of stderr")
	roots := rootFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errUsage
	}
	cfg, err := agent.LoadConfig(*file)
	if err != nil {
		return err
	}
	cfg.Data = *data
	tuneRuntime()
	dropBinaryPages() // what init and config parsing touched (resident_linux.go)
	if *logFile != "" {
		cfg.LogFile = *logFile
	}
	// The diagnostic log: by size, two backups, numbered, not named by
	// the clock (internal/logfile; docs/DESIGN.md section 1).
	var out io.Writer = os.Stderr
	if cfg.LogFile != "" {
		// A log file the storage refuses (full, read-only) or that is
		// not a regular file costs the log, not the agent: stderr, said.
		if lf, err := logfile.Open(cfg.LogFile, int64(cfg.LogMaxSize)<<20, 2); err != nil {
			agent.LineLogger{W: out, Prefix: "itiny: "}.Printf("log file not used, logging to stderr: %v", err)
		} else {
			defer lf.Close()
			out = lf
		}
	}
	logger := agent.LineLogger{W: out, Prefix: "itiny: "}
	// Signals are caught before the agent opens its rings and says it
	// runs: a SIGTERM from a supervisor that saw the line, or one during
	// startup, is a clean shutdown, not the runtime's default exit.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1)
	// Under systemd (Type=notify): readiness, reloads, shutdown and the
	// watchdog, told from the scheduler's own goroutine so that a hung
	// scheduler stops the pings and systemd restarts the agent.
	sd := sdnotify.New()
	defer sd.Close()
	house := newHousekeeping(newResidency(), sd)
	a, err := agent.New(cfg, agent.Options{Proc: *roots.proc, Sys: *roots.sys, Dev: *roots.dev, Log: logger, KeepCrash: true, Housekeeping: house.run, HousekeepingEvery: house.every})
	if err != nil {
		sd.Stopping("start failed: " + err.Error())
		return err
	}
	// The agent takes records now: its rings are open and its sockets
	// listen, or the line says they wait for the storage.
	running := tinyfmt.Sprintf("running: data %s, streams %v, %s, pid %d", cfg.Data, a.Streams(), a.Listening(), os.Getpid())
	logger.Printf("%s", running)
	sd.Ready(running)
	dropBinaryPages() // and what opening the rings touched

	stop := make(stopCtx)
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(stop) }()
	for {
		select {
		case err := <-runErr:
			sd.Stopping("error: " + err.Error())
			a.Shutdown("error: " + err.Error())
			return err
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				sd.Reloading()
				// A reload that fails is logged and is the service's status.
				refused := func(line string) {
					logger.Printf("%s", line)
					sd.Ready(line)
				}
				next, err := agent.LoadConfig(*file)
				if err != nil {
					refused("reload refused, keeping the running config: " + err.Error())
					continue
				}
				if err := a.Reload(next); err != nil {
					refused("reload: " + err.Error())
					continue
				}
				logger.Printf("reloaded %s", configName(*file))
				sd.Ready("reloaded " + configName(*file) + "; " + running)
			case syscall.SIGUSR1:
				if err := a.Flush(); err != nil {
					logger.Printf("flush: %v", err)
				}
			default:
				logger.Printf("%v: flushing and closing", sig)
				sd.Stopping(signalName(sig) + ": flushing and closing")
				close(stop)
				<-runErr
				return a.Shutdown(signalName(sig))
			}
		}
	}
}

// housekeeping is the agent's periodic chores on its scheduler: the
// residency check every residencyEvery, and WATCHDOG=1 at every call,
// which comes at least every half of the unit's WatchdogSec.
type housekeeping struct {
	res   *residency
	sd    *sdnotify.Notifier
	every time.Duration
	next  time.Time // of the residency check
}

func newHousekeeping(res *residency, sd *sdnotify.Notifier) *housekeeping {
	h := &housekeeping{res: res, sd: sd, every: residencyEvery, next: time.Now().Add(residencyEvery)}
	if wd := sd.Watchdog(); wd > 0 {
		h.every = min(h.every, wd/2)
	}
	return h
}

func (h *housekeeping) run(now time.Time) {
	h.sd.Alive()
	if !now.Before(h.next) {
		h.res.check(now)
		h.next = now.Add(residencyEvery)
	}
}

// A stopCtx is the context Run runs under, done when closed: what
// context.WithCancel would give, without linking package context's
// cancellation tree (6 KB of the agent; docs/DESIGN.md section 14).
type stopCtx chan struct{}

func (c stopCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c stopCtx) Done() <-chan struct{}       { return c }
func (c stopCtx) Value(any) any               { return nil }

func (c stopCtx) Err() error {
	select {
	case <-c:
		return context.Canceled
	default:
		return nil
	}
}

// roots are where the collectors find procfs, sysfs and devfs, named as
// node_exporter names them: in a container the host's are mounted
// elsewhere, and tests point them at fixtures, never at the host's
// /sys/fs/pstore, whose entries the pstore collector removes.
type roots struct{ proc, sys, dev *string }

func rootFlags(fs *flags) roots {
	return roots{
		proc: fs.String("path.procfs", "/proc", "procfs root the collectors read (for containers, where the host's is mounted elsewhere, and for tests)"),
		sys:  fs.String("path.sysfs", "/sys", "sysfs root the collectors read, pstore's entries included"),
		dev:  fs.String("path.devfs", "/dev", "devfs root the collectors read (kmsg)"),
	}
}

// tuneRuntime sizes the Go runtime for a small, mostly single-threaded
// daemon, unless GOMAXPROCS is set in the environment. Measured beside
// sadc (bench/footprint.sh, docs/BENCHMARKS.md): one P lowers idle CPU per
// sample and idle RSS (4.2 to 3.9 MiB). GOGC stays at the runtime's
// default: the agent makes no garbage in steady state, and a lower GOGC
// only made startup reach a collection, which costs more memory than it
// frees (resident_linux.go).
func tuneRuntime() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// signalName names the signals that stop the agent as kill(1) does.
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}

func configName(file string) string {
	if file == "" {
		return "the default config"
	}
	return file
}
