# itiny. `make run` runs the agent on its embedded default config;
# `make test` runs every test CI runs.
GO      ?= go
PKGS    := ./...
DATA    ?= ./itiny-data
FUZZTIME ?= 2m
LDFLAGS := -s -w
# No inlining in packages the agent uses only for errors, config printing
# and the times in its log, nor in the agent's own, whose samples' time is
# the kernel's, nor in syscall's wrappers (the kernel's time too), the
# command's own code (flags, the run loop, itiny core) and the core spool
# (once a crash), nor in those of its start, its log and its service
# manager (the event catalog, file replacement, opening regular files,
# paths): smaller, a sample's and a record's CPU time unchanged
# (docs/DESIGN.md section 14). Not rollup: a sample's fold into its tiers
# costs 0.35% more instructions without inlining, for 1.5 KB.
COLD_GCFLAGS := -gcflags=fmt=-l -gcflags=reflect=-l -gcflags=time=-l -gcflags=github.com/itiny/itiny/agent=-l \
	-gcflags=syscall=-l -gcflags=github.com/itiny/itiny/cmd/itiny=-l \
	-gcflags=github.com/itiny/itiny/internal/corespool=-l \
	-gcflags=github.com/itiny/itiny/internal/tinyfmt=-l -gcflags=github.com/itiny/itiny/catalog=-l \
	-gcflags=github.com/itiny/itiny/internal/atomicfile=-l -gcflags=github.com/itiny/itiny/internal/logfile=-l \
	-gcflags=github.com/itiny/itiny/internal/sdnotify=-l -gcflags=github.com/itiny/itiny/internal/regular=-l \
	-gcflags=path/filepath=-l
export CGO_ENABLED ?= 0

.PHONY: all build run test deps check generate bench bench-footprint bench-attack bench-read bench-migrate bench-hostile bench-flash fuzz test-cross firmware man install install-files deb deb-package clean

all: build

build:
	$(GO) build -trimpath -ldflags='$(LDFLAGS)' $(COLD_GCFLAGS) -o bin/ ./cmd/...

# RUN_FLAGS: more flags for itiny run, as in
# make run RUN_FLAGS='--path.sysfs /host/sys' (the README's test runs it
# on a sysfs root of its own, never the host's /sys/fs/pstore).
RUN_FLAGS ?=
run: build
	./bin/itiny run --data $(DATA) $(RUN_FLAGS)

# The tests CI runs: vet, generated code up to date, unit and property
# tests (fuzz seed corpora included), and the ring, the agent and migrate
# again under the race detector (which needs cgo), in -short mode. deps
# first installs what the tests need beyond Go (Chromium for the report
# test, nats-server for the migrate tests, jq for the README's examples).
#
# The race run starts first and runs beside the rest, its output shown
# when it ends: it compiles its own copy of every package, and the other
# steps leave a core idle much of the time (docs/BENCHMARKS.md section 7).
# -vet=off: check has run all of go vet, a superset of go test's.
RACE_PKGS := ./ringlog ./agent ./migrate ./view
test: deps
	@echo "CGO_ENABLED=1 $(GO) test -vet=off -count=1 -race -short $(RACE_PKGS) &"
	@log=$$(mktemp); \
	CGO_ENABLED=1 $(GO) test -vet=off -count=1 -race -short $(RACE_PKGS) >$$log 2>&1 & race=$$!; \
	$(MAKE) --no-print-directory check && \
	{ echo "$(GO) test -vet=off -count=1 $(PKGS)"; $(GO) test -vet=off -count=1 $(PKGS); }; rc=$$?; \
	wait $$race; race_rc=$$?; \
	echo "race detector:"; cat $$log; rm -f $$log; \
	exit $$((rc | race_rc))

# Idempotent: only checks when everything is installed.
deps:
	./scripts/deps.sh

check:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo "gofmt needed"; exit 1; }
	$(GO) generate ./codec/...
	@git diff --exit-code -- codec/internal/oracle/oracle_gen.go || { echo "codec/internal/oracle/oracle_gen.go is stale: run go generate ./codec/..."; exit 1; }

generate:
	$(GO) generate $(PKGS)

bench:
	$(GO) test -run=NONE -bench=. -benchmem ./codec ./ringlog
	cd bench && ./append.sh

# The agent's RSS, CPU per sample and bytes per sample beside sadc and
# collectd (bench/footprint.sh; installs sysstat and collectd-core):
# about 4 minutes. Not part of make test.
bench-footprint:
	./bench/footprint.sh

# The agent's VmHWM under hostile senders (bench/attack.sh) against its
# VmHWM at 1,000 records/s: about 2 minutes. Not part of make test.
bench-attack:
	./bench/attack.sh

# itiny-read against journalctl over the same 1,000,000 metrics records
# (bench/read.sh; installs systemd-journal-remote): about 3 minutes and
# 1.5 GB in a temp directory. Not part of make test.
bench-read:
	./bench/read.sh

# itiny-migrate against a minimal JetStream publisher on one nats-server
# (bench/migrate.sh: Debian's 2.9.10 and 2.15.2 from the module proxy),
# 500,000 records: about 10 minutes. Not part of make test.
bench-migrate:
	./bench/migrate.sh

# itiny-read and itiny-migrate before (BEFORE, default 76ca382) and after
# on bundles made to take memory or time (bench/hostile.sh): peak RSS and
# time; about 10 minutes. Not part of make test.
bench-hostile:
	./bench/hostile.sh

# Bytes written a day to the block device by the agent (default config,
# every collector at 1 s, events) against sadc, collectd (CSV, RRD) and
# systemd-journal-remote, each on its own loop-mounted ext4 image
# (bench/flashwrite.sh; as root; installs the peers): about 6 minutes
# (DURATION=300, WARMUP=30). Not part of make test.
bench-flash:
	./bench/flashwrite.sh

# Long fuzzing: every fuzz target of the module (scripts/fuzz.sh finds
# them, 28 today), each for FUZZTIME (default 2m); FUZZ picks by name.
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# The format and agent packages' tests under qemu-user-static (installed
# by the script) on mips (32-bit big-endian), armv7, arm64, riscv64 and
# s390x (64-bit big-endian).
test-cross:
	./scripts/test-cross.sh

# Stripped static binaries for every common device architecture (amd64,
# arm64, armv7, armv6, armv5, 386, mips and mipsle softfloat, mips64le,
# riscv64) into bin/firmware, with each size, its xz size and its size
# from a plain go build; fails past the limits scripts/firmware.sh names
# (itiny 3.0 MiB, 3.5 MiB on the mips family, 1.1 MiB xz-compressed;
# itiny-read 4.0 MiB on amd64, arm64, armv7). TARGETS="amd64 mips" builds
# a subset.
firmware:
	GO=$(GO) LDFLAGS='$(LDFLAGS)' COLD_GCFLAGS='$(COLD_GCFLAGS)' ./scripts/firmware.sh

# The manual pages, from the binaries' --help (internal/mangen; its test
# fails when docs/man is stale).
man: build
	$(GO) run ./internal/mangen -bin bin -out docs/man

# make install [DESTDIR=] [PREFIX=/usr/local] [SYSCONFDIR=/etc]: the three
# binaries, /etc/itiny.conf (the embedded default, with its comments),
# the systemd units and the SysV/BusyBox init script with their paths
# made PREFIX's and SYSCONFDIR's, and the manual pages. install-files
# installs the binaries already in BIN without building them.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BIN        ?= bin
UNITDIR    ?= $(PREFIX)/lib/systemd/system
install: build install-files

install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/init.d $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BIN)/itiny $(BIN)/itiny-read $(BIN)/itiny-migrate $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 agent/default.conf $(DESTDIR)$(SYSCONFDIR)/itiny.conf
	install -m 0644 docs/man/itiny.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/man/itiny-read.1 docs/man/itiny-migrate.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	for u in itiny itiny-forward; do \
		sed -e 's|/usr/bin/|$(PREFIX)/bin/|g' -e 's|/etc/itiny|$(SYSCONFDIR)/itiny|g' packaging/systemd/$$u.service \
			>$(DESTDIR)$(UNITDIR)/$$u.service && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done
	sed -e 's|/usr/bin/itiny|$(PREFIX)/bin/itiny|' -e 's|/etc/itiny.conf|$(SYSCONFDIR)/itiny.conf|' \
		-e 's|/etc/default/itiny|$(SYSCONFDIR)/default/itiny|g' packaging/sysv/itiny >$(DESTDIR)$(SYSCONFDIR)/init.d/itiny
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/init.d/itiny

# make deb: bin/itiny_VERSION_ARCH.deb, with dpkg-deb, for Debian-based
# devices: the install above (PREFIX /usr) and packaging/debian's
# maintainer scripts (the user and group itiny, /var/lib/itiny, the
# service enabled and started; purge removes the rings and the user).
# deb-package packages the binaries already in BIN, into DEBDIR.
DEB_VERSION = $(shell sed -n 's/^const String = "\(.*\)"/\1/p' internal/version/version.go | tr - '~')
DEB_ARCH   ?= $(shell dpkg --print-architecture 2>/dev/null || $(GO) env GOARCH)
DEBDIR     ?= bin
deb: build deb-package

deb-package:
	rm -rf $(DEBDIR)/deb-root
	$(MAKE) --no-print-directory install-files DESTDIR=$(abspath $(DEBDIR))/deb-root PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/usr/lib/systemd/system
	gzip -9n $(DEBDIR)/deb-root/usr/share/man/man*/*
	install -d $(DEBDIR)/deb-root/DEBIAN
	sed -e 's/@VERSION@/$(DEB_VERSION)/' -e 's/@ARCH@/$(DEB_ARCH)/' -e "s/@SIZE@/$$(du -sk $(DEBDIR)/deb-root | cut -f1)/" \
		packaging/debian/control >$(DEBDIR)/deb-root/DEBIAN/control
	install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm $(DEBDIR)/deb-root/DEBIAN/
	printf '/etc/itiny.conf\n/etc/init.d/itiny\n' >$(DEBDIR)/deb-root/DEBIAN/conffiles
	dpkg-deb --root-owner-group -Zxz --build $(DEBDIR)/deb-root $(DEBDIR)/itiny_$(DEB_VERSION)_$(DEB_ARCH).deb
	rm -rf $(DEBDIR)/deb-root

clean:
	rm -rf bin
