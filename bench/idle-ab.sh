#!/bin/sh
# idle-ab.sh REF measures what the idle agent costs a sample at git
# revision REF and at the work tree, side by side in one window, so that
# the machine's load weighs on both alike: each runs its own default
# configuration, every enabled collector at 1 s (bench/lib.sh's
# agent_config), [stream metrics] periodic, no records sent.
#
# CPU is the sum over the process's threads of /proc/PID/task/*/schedstat
# over DURATION seconds (default 60) after WARMUP (default 5), divided by
# the seconds: one full sample a second. Prints a table and the ratio.
#
# RATE (default 0: none) has bench/footprint/loadgen send that many
# records a second to each agent's socket through the window, to compare
# the ingest path too; rate_limit is raised to let them all in.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
REF=${1:?usage: idle-ab.sh REF}
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-5}
RATE=${RATE:-0}
TMP=$(mktemp -d /tmp/itiny-idle-ab.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	git -C "$ROOT" worktree remove --force "$TMP/ref" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

git -C "$ROOT" worktree add -q --detach "$TMP/ref" "$REF"
for v in ref tree; do
	src=$ROOT
	[ "$v" = ref ] && src=$TMP/ref
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$TMP/$v/itiny" ./cmd/itiny)
	agent_config "$TMP/$v/itiny" periodic "socket = itiny.sock
rate_limit = $((RATE * 2 + 100))" >"$TMP/$v/itiny.conf"
done
[ "$RATE" -gt 0 ] && (cd "$ROOT/bench" && CGO_ENABLED=0 go build -trimpath -o "$TMP/" ./footprint/loadgen)

cpu() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'; }

for v in ref tree; do
	"$TMP/$v/itiny" run --data "$TMP/$v/data" --config "$TMP/$v/itiny.conf" 2>"$TMP/$v/log" &
	pids="$pids $!"
	if [ "$v" = ref ]; then pid_ref=$!; else pid_tree=$!; fi
done
if [ "$RATE" -gt 0 ]; then
	for v in ref tree; do
		for i in $(seq 100); do [ -S "$TMP/$v/data/itiny.sock" ] && break; sleep 0.1; done
		"$TMP/loadgen" -socket "$TMP/$v/data/itiny.sock" -rate "$RATE" -duration "$((WARMUP + DURATION + 1))s" >"$TMP/$v/loadgen.txt" &
		pids="$pids $!"
	done
fi
sleep "$WARMUP"
a0=$(cpu "$pid_ref"); b0=$(cpu "$pid_tree")
load0=$(cut -d' ' -f1-3 /proc/loadavg)
sleep "$DURATION"
a1=$(cpu "$pid_ref"); b1=$(cpu "$pid_tree")
load1=$(cut -d' ' -f1-3 /proc/loadavg)
rss() { awk '/^VmRSS/ { print $2 / 1024 }' /proc/"$1"/status; }
echo "idle-ab.sh $REF ($(git -C "$ROOT" rev-parse --short "$REF")) against the work tree, $(date -u +%Y-%m-%dT%H:%MZ), ${DURATION} s, load $load0 to $load1, $RATE records/s in to each"
echo
echo "| agent | CPU per sample (µs) | VmRSS (MiB) | binary (bytes) |"
echo "|---|--:|--:|--:|"
echo "| $REF | $(( (a1 - a0) / DURATION / 1000 )) | $(rss "$pid_ref") | $(wc -c <"$TMP/ref/itiny") |"
echo "| work tree | $(( (b1 - b0) / DURATION / 1000 )) | $(rss "$pid_tree") | $(wc -c <"$TMP/tree/itiny") |"
echo
awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) 'BEGIN { printf "work tree / %s: %.2f×\n", "ref", b / a }'
