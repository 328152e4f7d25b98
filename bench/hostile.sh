#!/bin/sh
# hostile.sh measures what bundles made to take a reader's memory cost
# itiny-read and itiny-migrate (issue 12, section 3): peak resident memory
# and wall time, before and after, in one run.
#
#   1. bench/hostile writes the bundles of internal/hostile into a temp
#      directory: 16 x 64 MiB of zeros (a megabyte compressed), 2 x 60 MiB
#      of zeros, 20,000 small rings, records of a million one-byte values,
#      records of 16,000, packed rings of 60 KB records;
#   2. itiny-read and itiny-migrate are built from the working tree
#      (after) and from the git revision BEFORE (default 76ca382, before
#      issue 12);
#   3. each reads each bundle once under /usr/bin/time (installed with
#      apt-get if missing): `itiny-read -o json`, `itiny-read verify`, and
#      `itiny-migrate --dry-run` (the plan reads every record; the store,
#      port 1 of 127.0.0.1, refuses, and is dialled after), each with a
#      deadline of LIMIT seconds (default 150).
#
# Peak RSS does not depend on the load; times do. Raw figures go to
# bench/out/hostile.txt, the table to stdout.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=${BEFORE:-76ca382}
LIMIT=${LIMIT:-150}
command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/bundles" "$TMP/after" "$TMP/before/src" "$ROOT/bench/out"
(cd "$ROOT/bench" && go run ./hostile "$TMP/bundles") >"$TMP/names"
(cd "$ROOT" && go build -trimpath -o "$TMP/after/" ./cmd/itiny-read ./cmd/itiny-migrate)
(cd "$ROOT" && git archive "$BEFORE") | tar -x -C "$TMP/before/src"
(cd "$TMP/before/src" && go build -trimpath -o "$TMP/before/" ./cmd/itiny-read ./cmd/itiny-migrate)
OUT="$ROOT/bench/out/hostile.txt"
echo "# hostile.sh: before $BEFORE, after the working tree at $(cd "$ROOT" && git rev-parse --short HEAD); $(date -u +%Y-%m-%dT%H:%MZ); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT"
echo "| bundle | command | before | after |"
echo "|---|---|--:|--:|"
run() { # run VERSION ARGS...: "SECONDS s, PEAK MiB" or "over LIMIT s"
	v=$1
	cmd=$2
	shift 2
	if /usr/bin/time -f '%e %M' -o "$TMP/t" timeout "$LIMIT" "$TMP/$v/$cmd" "$@" >/dev/null 2>"$TMP/err"; then :; fi
	if [ "$(head -c 7 "$TMP/t")" = "Command" ] && grep -q 'signal 15\|status 124' "$TMP/t"; then
		echo "over $LIMIT s"
	else
		tail -1 "$TMP/t" | awk '{ printf "%.2f s, %.0f MiB", $1, $2 / 1024 }'
	fi
	echo "$v $* :: $(tail -1 "$TMP/t") :: $(grep -v warning "$TMP/err" | head -1)" >>"$OUT"
}
while read -r b; do
	f="$TMP/bundles/$b.tar.gz"
	for cmd in "itiny-read -o json" "itiny-read verify" "itiny-migrate --to nats://127.0.0.1:1 --scope s --retries 1 --dry-run"; do
		label=$cmd
		case $cmd in itiny-migrate*) label="itiny-migrate --dry-run" ;; esac
		# shellcheck disable=SC2086 # cmd is words
		echo "| $b | \`$label\` | $(run before $cmd "$f") | $(run after $cmd "$f") |"
	done
done <"$TMP/names"
