#!/usr/bin/env bash
# test-cross.sh: run the tests of the format and agent packages on foreign
# architectures under qemu-user-static.
#
#   scripts/test-cross.sh [-- test-binary flags...]
#
# Targets (default): linux/mips (32-bit big-endian, the routers' MIPS),
# linux/arm with GOARM=7, linux/arm64, linux/riscv64, and linux/s390x
# (64-bit big-endian; linux/mips again if s390x cannot be emulated here).
# 32-bit targets catch 64-bit atomics that are not aligned, big-endian
# ones byte-order slips, and arm64's 64 KiB pages and riscv64 the rest.
#
# binfmt_misc is often unavailable (containers, sandboxes), so nothing here
# relies on it: each package's tests are cross-compiled into a static test
# binary (go test -c, CGO_ENABLED=0) and run explicitly as
# `qemu-<arch>-static <binary> ...` from inside the package directory, so
# relative testdata/ paths resolve as under `go test` (through a small
# wrapper script, so that tests can re-execute their own binary).
#
# Before the tests of each arch, a small probe program exercises the
# syscalls ringlog depends on (OFD locks through fcntl 36/37, fallocate,
# shared mmap, fdatasync) and checks the byte order, so that a syscall qemu
# does not emulate is reported as such, not only as a failing test.
#
# Environment:
#   GO             go command (default: go)
#   CROSS_ARCHES   GOARCH list (default: "mips arm arm64 riscv64 s390x");
#                  s390x falls back to mips when qemu cannot run s390x
#   CROSS_PKGS     package directories (default: "codec ringlog pack agent
#                  view bundle rollup")
#   CROSS_TIMEOUT  per test binary -test.timeout (default: 20m)
#   GOARM          used for arm (default: 7)
# Arguments after "--" go to every test binary, e.g.
#   scripts/test-cross.sh -- -test.run 'RoundTrip' -test.v
#
# Prints one line per arch and package (ok/FAIL, time), the output of every
# failing test binary, and exits non-zero if anything failed.

set -euo pipefail

GO=${GO:-go}
CROSS_ARCHES=${CROSS_ARCHES:-mips arm arm64 riscv64 s390x}
CROSS_PKGS=${CROSS_PKGS:-codec ringlog pack agent view bundle rollup}
CROSS_TIMEOUT=${CROSS_TIMEOUT:-20m}
GOARM_ARM=${GOARM:-7}

if [[ ${1:-} == "--" ]]; then
	shift
fi
EXTRA_FLAGS=("$@")

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/itiny-cross.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# qemu_for GOARCH prints the name of the qemu-user binary for GOARCH.
qemu_for() {
	case $1 in
	arm64) echo qemu-aarch64-static ;;
	386) echo qemu-i386-static ;;
	amd64) echo qemu-x86_64-static ;;
	mipsle) echo qemu-mipsel-static ;;
	mips64le) echo qemu-mips64el-static ;;
	*) echo "qemu-$1-static" ;;
	esac
}

# indent copies stdin to stdout, indented, for output under a FAIL line.
indent() {
	sed 's/^/    /'
}

# now prints the wall clock in microseconds.
now() {
	local t=${EPOCHREALTIME//[.,]/}
	echo "$((10#$t))"
}

# secs START prints the time elapsed since START (from now) as "12.3s".
secs() {
	local d=$(($(now) - $1))
	printf '%d.%ds' $((d / 1000000)) $((d / 100000 % 10))
}

# install_qemu installs qemu-user-static unless every qemu binary the
# targets need (the mips fallback included) is already there.
install_qemu() {
	local arch missing=0
	for arch in $CROSS_ARCHES mips; do
		command -v "$(qemu_for "$arch")" >/dev/null || missing=1
	done
	((missing)) || return 0

	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || {
			echo "test-cross: qemu-user-static is missing and neither root nor sudo is available" >&2
			exit 1
		}
		sudo=(sudo)
	fi
	command -v apt-get >/dev/null || {
		echo "test-cross: qemu-user-static is missing and apt-get is not available; install it by hand" >&2
		exit 1
	}
	echo "test-cross: installing qemu-user-static" >&2
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends qemu-user-static >&2
}

# The syscall probe: a standalone module (no dependencies) built per arch.
# It prints "endian=<order>" first (proof that qemu runs the binary at all),
# then one "ok <what>" or "FAIL <what>: <error>" line per check, and exits
# 1 if a check failed. The fcntl commands and flags are those of
# ringlog/stage.go.
write_probe() {
	mkdir -p "$TMP/probe"
	printf 'module probe\n\ngo 1.21\n' >"$TMP/probe/go.mod"
	cat >"$TMP/probe/main.go" <<'EOF'
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

const fOFDGetlk, fOFDSetlk = 36, 37

var failed bool

func check(what string, err error) {
	if err != nil {
		failed = true
		fmt.Printf("FAIL %s: %v\n", what, err)
		return
	}
	fmt.Printf("ok %s\n", what)
}

func wrlck() *syscall.Flock_t {
	return &syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
}

func main() {
	x := uint16(1)
	if *(*byte)(unsafe.Pointer(&x)) == 0 {
		fmt.Println("endian=big")
	} else {
		fmt.Println("endian=little")
	}
	dir, err := os.MkdirTemp("", "probe")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "stage")
	f1, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		panic(err)
	}
	f2, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		panic(err)
	}

	check("fcntl(F_OFD_SETLK) on a free file", syscall.FcntlFlock(f1.Fd(), fOFDSetlk, wrlck()))
	err = syscall.FcntlFlock(f2.Fd(), fOFDSetlk, wrlck())
	if err == syscall.EAGAIN || err == syscall.EACCES {
		err = nil
	} else if err == nil {
		err = fmt.Errorf("second open file description got the lock too")
	}
	check("fcntl(F_OFD_SETLK) conflict -> EAGAIN", err)
	lk := wrlck()
	err = syscall.FcntlFlock(f2.Fd(), fOFDGetlk, lk)
	if err == nil && lk.Type != syscall.F_WRLCK {
		err = fmt.Errorf("l_type = %d, want F_WRLCK (%d)", lk.Type, syscall.F_WRLCK)
	}
	check("fcntl(F_OFD_GETLK) sees the lock", err)

	check("fallocate", syscall.Fallocate(int(f1.Fd()), 0, 0, 8192))
	mem, err := syscall.Mmap(int(f1.Fd()), 0, 8192, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err == nil {
		mem[4100] = 42
		err = syscall.Munmap(mem)
		b := []byte{0}
		if _, rerr := f2.ReadAt(b, 4100); err == nil && (rerr != nil || b[0] != 42) {
			err = fmt.Errorf("write through MAP_SHARED not visible to read: %v %d", rerr, b[0])
		}
	}
	check("mmap(MAP_SHARED)", err)
	check("fdatasync", syscall.Fdatasync(int(f1.Fd())))

	f1.Close()
	lk = wrlck()
	err = syscall.FcntlFlock(f2.Fd(), fOFDGetlk, lk)
	if err == nil && lk.Type != syscall.F_UNLCK {
		err = fmt.Errorf("l_type = %d after close, want F_UNLCK (%d)", lk.Type, syscall.F_UNLCK)
	}
	check("fcntl(F_OFD_GETLK) after the holder closed", err)
	if failed {
		os.Exit(1)
	}
}
EOF
}

# goenv ARCH prints the environment assignments to build for ARCH.
goenv() {
	echo CGO_ENABLED=0 GOOS=linux "GOARCH=$1"
	if [[ $1 == arm ]]; then
		echo "GOARM=$GOARM_ARM"
	fi
}

# platform ARCH prints e.g. "linux/arm (GOARM=7)" for messages.
platform() {
	if [[ $1 == arm ]]; then
		echo "linux/arm(v$GOARM_ARM)"
	else
		echo "linux/$1"
	fi
}

# probe ARCH builds and runs the syscall probe for ARCH. Returns 2 if qemu
# cannot run the binary at all, 1 if a syscall check failed, else 0.
probe() {
	local arch=$1 qemu bin out rc=0
	qemu=$(qemu_for "$arch")
	bin=$TMP/probe.$arch
	command -v "$qemu" >/dev/null || {
		echo "$qemu not found"
		return 2
	}
	# shellcheck disable=SC2046 # goenv's words are separate assignments
	(cd "$TMP/probe" && env GOWORK=off GOFLAGS= $(goenv "$arch") "$GO" build -o "$bin" .) 2>&1 || return 2
	out=$("$qemu" "$bin" 2>&1) || rc=$?
	echo "$out"
	if ! grep -q '^endian=' <<<"$out"; then
		return 2
	fi
	return $((rc == 0 ? 0 : 1))
}

FAILED=()  # "pkg arch" of every failure
SUMMARY=() # per-arch totals

# run_arch ARCH probes ARCH, then builds and runs the tests of every package.
run_arch() {
	local arch=$1 plat qemu pkg bin run log t0 tarch rc out
	plat=$(platform "$arch")
	qemu=$(qemu_for "$arch")
	tarch=$(now)

	out=$(probe "$arch") && rc=0 || rc=$?
	if ((rc == 0)); then
		printf 'ok    %-8s %-16s (%s; OFD locks, fallocate, mmap, fdatasync)\n' \
			syscalls "$plat" "$(grep '^endian=' <<<"$out" | cut -d= -f2)-endian"
	else
		printf 'FAIL  %-8s %-16s\n' syscalls "$plat"
		indent <<<"$out"
		FAILED+=("syscalls $plat")
	fi

	for pkg in $CROSS_PKGS; do
		bin=$TMP/$pkg.$arch.test
		log=$TMP/$pkg.$arch.log
		t0=$(now)
		# shellcheck disable=SC2046 # goenv's words are separate assignments
		if ! env $(goenv "$arch") "$GO" test -c -o "$bin" "./$pkg" >"$log" 2>&1; then
			printf 'FAIL  %-8s %-16s (build failed)\n' "$pkg" "$plat"
			indent <"$log"
			FAILED+=("$pkg $plat (build)")
			continue
		fi
		if [[ ! -x $bin ]]; then # go test -c writes nothing without tests
			printf '?     %-8s %-16s [no test files]\n' "$pkg" "$plat"
			continue
		fi
		# Tests may re-execute their own binary (exec.Command(os.Args[0],
		# ...)) to run child processes; without binfmt_misc that exec would
		# fail with "exec format error". So the binary runs through a
		# wrapper script, and qemu's -0 makes the wrapper its os.Args[0]: a
		# child exec'd from the tests goes through qemu again.
		# (os.Executable() would still name the bare binary.)
		run=$TMP/$pkg.$arch.run
		# shellcheck disable=SC2016 # $0 and $@ are for the wrapper
		printf '#!/bin/sh\nexec %q -0 "$0" %q "$@"\n' "$(command -v "$qemu")" "$bin" >"$run"
		chmod +x "$run"
		t0=$(now)
		# ITINY_QEMU_USER: what qemu-user cannot emulate (netlink's proc
		# connector) is skipped, not failed (internal/testbin).
		if (cd "$ROOT/$pkg" && ITINY_QEMU_USER=$arch "$run" -test.short -test.timeout="$CROSS_TIMEOUT" \
			${EXTRA_FLAGS[@]+"${EXTRA_FLAGS[@]}"}) >"$log" 2>&1; then
			printf 'ok    %-8s %-16s (%s)\n' "$pkg" "$plat" "$(secs "$t0")"
			# With -test.v in the extra flags, show the output anyway.
			if [[ " ${EXTRA_FLAGS[*]-} " == *" -test.v "* || " ${EXTRA_FLAGS[*]-} " == *" -test.v=true "* ]]; then
				indent <"$log"
			fi
		else
			printf 'FAIL  %-8s %-16s (%s)\n' "$pkg" "$plat" "$(secs "$t0")"
			indent <"$log"
			FAILED+=("$pkg $plat")
		fi
		rm -f "$bin" "$run"
	done
	SUMMARY+=("$(printf '%-16s %s' "$plat" "$(secs "$tarch")")")
}

command -v "$GO" >/dev/null || {
	echo "test-cross: $GO not found" >&2
	exit 1
}
install_qemu
write_probe

for arch in $CROSS_ARCHES; do
	if [[ $arch == s390x ]]; then
		# The big-endian target: s390x if qemu runs it here, else mips.
		out=$(probe s390x) && rc=0 || rc=$?
		if ((rc == 2)); then
			echo "note  cannot run linux/s390x binaries under qemu; using linux/mips as the big-endian target:"
			indent <<<"$out"
			arch=mips
		fi
	fi
	run_arch "$arch"
done

echo
echo "time per arch (probe, builds and tests):"
printf '  %s\n' "${SUMMARY[@]}"
if ((${#FAILED[@]})); then
	echo "FAILED:"
	printf '  %s\n' "${FAILED[@]}"
	exit 1
fi
echo "PASS"
