#!/bin/sh
# rss-ab.sh BEFORE AFTER: resident memory of two agent binaries side by
# side in one window (docs/BENCHMARKS.md 16.4): for each of them and each
# mode (periodic, continuous) one `itiny run` with the footprint config
# (agent_config in lib.sh: every collector at 1 s, the default's rollup
# tiers) and its own loadgen at RATE (default 1000) records/s; fpmon reads
# /proc/PID/status every second for DURATION (default 60) seconds after
# WARMUP (default 3). Each agent runs its own copy of its binary, so that
# no two share the binary's page-cache pages (resident_linux.go drops
# those only when no other process maps them). ALIGN=S (0-59) starts the
# agents when the wall clock's second is S: the first minute's rollups,
# and any collection they set off, then fall inside the window (S=35
# puts them 25 s in).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-3}
RATE=${RATE:-1000}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/itiny-rss.XXXXXX")
PIDS=""
. "$ROOT/bench/lib.sh"
mkdir -p "$TMP/bin"
(cd "$ROOT/bench" && CGO_ENABLED=0 go build -trimpath -o "$TMP/bin/" ./footprint/loadgen ./footprint/fpmon)
mon=""
for m in periodic continuous; do
	agent_config "$2" "$m" "socket = itiny.sock
rate_limit = 2000" >"$TMP/$m.conf"
done
if [ -n "${ALIGN:-}" ]; then
	s=$(date +%S)
	sleep $(((60 + ALIGN - ${s#0}) % 60))
fi
for v in before after; do
	bin=$1
	[ $v = after ] && bin=$2
	for m in periodic continuous; do
		n=$v-$m
		mkdir -p "$TMP/$n"
		cp "$bin" "$TMP/$n/itiny"
		"$TMP/$n/itiny" run --data "$TMP/$n/data" --config "$TMP/$m.conf" 2>"$TMP/$n/agent.log" &
		PIDS="$PIDS $!"
		mon="$mon $n=$!"
	done
done
lgs=""
for x in $mon; do
	n=${x%=*}
	i=0
	while [ ! -S "$TMP/$n/data/itiny.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	"$TMP/bin/loadgen" -socket "$TMP/$n/data/itiny.sock" -rate "$RATE" -duration "$((WARMUP + DURATION + 1))s" >"$TMP/$n/loadgen.txt" &
	lgs="$lgs $!"
done
sleep "$WARMUP"
# shellcheck disable=SC2086
"$TMP/bin/fpmon" -duration "${DURATION}s" $mon >"$TMP/mon"
for l in $lgs; do wait "$l" || true; done
for x in $mon; do stop "${x#*=}"; done
kib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
echo "| agent | VmRSS min / median / max (MiB) | RssAnon median (MiB) | RssFile median (MiB) | VmHWM (MiB) |"
echo "|---|--:|--:|--:|--:|"
for x in $mon; do
	l=${x%=*}
	echo "| $l | $(kib "$(kv "$TMP/mon" summary "$l" rss_min_kb)") / $(kib "$(kv "$TMP/mon" summary "$l" rss_med_kb)") / $(kib "$(kv "$TMP/mon" summary "$l" rss_max_kb)") | $(kib "$(kv "$TMP/mon" summary "$l" anon_med_kb)") | $(kib "$(kv "$TMP/mon" summary "$l" file_med_kb)") | $(kib "$(kv "$TMP/mon" summary "$l" hwm_kb)") |"
done
for x in $mon; do echo "${x%=*}: $(head -n 1 "$TMP/${x%=*}/loadgen.txt")"; done
