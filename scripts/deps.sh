#!/usr/bin/env bash
# deps.sh: install what `make test` needs beyond Go, from Debian's
# packages. Idempotent: when everything is there it only checks, in
# milliseconds.
#
#   chromium   the report test (cmd/itiny-read/report_chromium_test.go)
#              renders itiny-read's HTML report headless and screenshots it
#   nats-server  the migrate tests (cmd/itiny-migrate) also run against a
#              standalone server process, besides the one embedded in the
#              tests: Debian's is an old release (2.9), the oldest server
#              itiny-migrate must work with
#   jq         the README's examples pipe into it (internal/readme)
#   systemd    systemd-analyze verify checks the units
#              (cmd/itiny-migrate/unit_test.go, cmd/itiny/notify_test.go)
#   (shellcheck) checks every shell script: packaging, scripts, bench
#              (packaging/packaging_test.go)
#   man-db     man renders the manual pages their test compares with
#              --help (internal/mangen) and finds installed ones
#              (packaging/install_test.go)
#   adduser    the .deb's maintainer scripts make and remove the user
#              itiny when packaging/install_test.go installs it
#   bindfs     a FUSE file system that cannot map files shared, as JFFS2
#              cannot (-o direct_io), for cmd/itiny/unmappable_test.go
#   etcd-server, etcd-client  the k3s recipe for etcd's keys runs, as
#              written, against a real etcd with TLS and client certificates
#              on 127.0.0.1 (cmd/itiny/k3s_etcd_test.go)
#   kubernetes-client, curl  the k3s recipes' kubectl and curl run against
#              an API server of the test's on 127.0.0.1
#              (cmd/itiny/k3s_api_test.go); any kubectl already installed
#              does
#   busybox    OpenWrt's shell (ash) runs the procd init script's
#              functions, procd's stood in for (cmd/itiny/initscript_test.go)
#   gdb, gcc, libc6-dev  itiny core's proof (cmd/itiny/core_test.go) builds a program
#              that crashes, makes its core with gdb's gcore and has gdb
#              print the backtrace from the minidump itiny-read extracts
set -euo pipefail

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v nats-server >/dev/null || missing+=(nats-server)
command -v jq >/dev/null || missing+=(jq)
command -v gdb >/dev/null || missing+=(gdb)
command -v gcc >/dev/null || missing+=(gcc)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v man >/dev/null || missing+=(man-db)
command -v adduser >/dev/null || missing+=(adduser)
command -v bindfs >/dev/null || missing+=(bindfs)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
command -v curl >/dev/null || missing+=(curl)
command -v busybox >/dev/null || missing+=(busybox)
[[ -e /usr/include/pthread.h ]] || missing+=(libc6-dev) # gcc only recommends it
((${#missing[@]})) || exit 0

sudo=()
if ((EUID != 0)); then
	command -v sudo >/dev/null || {
		echo "deps: ${missing[*]} missing and neither root nor sudo is available: install by hand" >&2
		exit 1
	}
	sudo=(sudo)
fi
command -v apt-get >/dev/null || {
	echo "deps: ${missing[*]} missing and apt-get is not available: install by hand" >&2
	exit 1
}
echo "deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
