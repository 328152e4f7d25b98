#!/bin/sh
# attack.sh measures what hostile senders cost the itiny agent's memory
# (issue 12 section 1): its VmHWM under attack against its VmHWM at 1,000
# records/s. The goal: at most 2 MiB above.
#
# Two phases, each a fresh agent for DURATION seconds (default 30) after
# WARMUP seconds (default 3), with the config of bench/footprint.sh's load
# phase (every default collector at 1 s, [stream metrics] periodic), the
# syslog socket on, and rate_limit = 1000000, so that no rate limit spares
# the agent any decoding:
#   1. load: bench/footprint/loadgen sends RATE records/s (default 1000);
#   2. attack: the same load, and bench/footprint/attack beside it: CONNS
#      connections (default 72: more than the agent's 64) sending the
#      records of internal/hostile as fast as they are answered, a
#      connect-send-close loop, and a flood of 8 KiB syslog datagrams.
# Memory is read from /proc/PID/status every second (bench/footprint/fpmon).
# Raw figures go to bench/out/attack.txt, the table to stdout and
# bench/out/attack.md. KEEP=1 keeps the temp directory.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-3}
RATE=${RATE:-1000}
CONNS=${CONNS:-72}
OUT=$ROOT/bench/out
TMP=$(mktemp -d "${TMPDIR:-/tmp}/itiny-attack.XXXXXX")
BIN=$TMP/bin
PIDS=""

. "$ROOT/bench/lib.sh"

mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }

mkdir -p "$OUT" "$BIN"
log "building"
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/itiny" ./cmd/itiny)
(cd "$ROOT/bench" && CGO_ENABLED=0 go build -trimpath -o "$BIN/" ./footprint/loadgen ./footprint/fpmon ./footprint/attack)

CONF=$TMP/itiny.conf
agent_config "$BIN/itiny" periodic "socket = itiny.sock
rate_limit = 1000000 # no rate limit spares the agent any decoding
syslog = $TMP/log" >"$CONF"
"$BIN/itiny" config check "$CONF" >/dev/null

RAW=$TMP/raw
{
	echo "# bench/attack.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# DURATION=$DURATION WARMUP=$WARMUP RATE=$RATE CONNS=$CONNS"
	echo "# $(go version); $(uname -srm); $(nproc) cores; itiny binary $(wc -c <"$BIN/itiny") bytes"
} >"$RAW"

# phase NAME ATTACK(0|1)
phase() {
	d=$TMP/$1
	mkdir -p "$d"
	log "phase $1 ($DURATION s)"
	echo "load before $1: $(cat /proc/loadavg)" >>"$RAW"
	"$BIN/itiny" run --data "$d/data" --config "$CONF" 2>"$d/agent.log" &
	APID=$!
	PIDS="$PIDS $APID"
	"$BIN/loadgen" -socket "$d/data/itiny.sock" -rate "$RATE" -duration "$((WARMUP + DURATION + 1))s" >"$d/loadgen.txt" 2>&1 &
	LG=$!
	PIDS="$PIDS $LG"
	AT=""
	if [ "$2" = 1 ]; then
		sleep 1 # loadgen has its connection
		"$BIN/attack" -socket "$d/data/itiny.sock" -syslog "$TMP/log" -conns "$CONNS" -duration "$((WARMUP + DURATION))s" >"$d/attack.txt" 2>&1 &
		AT=$!
		PIDS="$PIDS $AT"
	fi
	sleep "$WARMUP"
	"$BIN/fpmon" -duration "${DURATION}s" -raw "$d/samples" "$1=$APID" >"$d/mon"
	wait "$LG" || echo "loadgen failed: $(cat "$d/loadgen.txt")" >&2
	[ -z "$AT" ] || wait "$AT" || echo "attack failed: $(cat "$d/attack.txt")" >&2
	echo "load after $1: $(cat /proc/loadavg)" >>"$RAW"
	grep VmHWM "/proc/$APID/status" >"$d/hwm"
	stop "$APID"
	PIDS=""
	{
		echo "== $1: itiny run --config itiny.conf; loadgen -rate $RATE${AT:+; attack -conns $CONNS -syslog}"
		cat "$d/mon" "$d/loadgen.txt"
		[ -z "$AT" ] || cat "$d/attack.txt"
		echo "final $(cat "$d/hwm")"
		echo "-- per-second samples"
		cat "$d/samples"
		echo "-- agent log"
		cat "$d/agent.log"
	} >>"$RAW"
}

phase load 0
phase attack 1
{
	echo "== config"
	cat "$CONF"
} >>"$RAW"
cp "$RAW" "$OUT/attack.txt"

L=$TMP/load/mon
A=$TMP/attack/mon
LH=$(kv "$L" summary load hwm_kb)
AH=$(kv "$A" summary attack hwm_kb)
DIFF=$((AH - LH))
{
	echo "## Memory under attack, against 1,000 records/s"
	echo
	echo "Command: \`DURATION=$DURATION WARMUP=$WARMUP RATE=$RATE CONNS=$CONNS bench/attack.sh\`"
	echo "($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr), $(go version | awk '{print $3}'); itiny binary $(wc -c <"$BIN/itiny") bytes)."
	echo
	echo "| phase | VmRSS min / median / max (MiB) | RssAnon median / max (MiB) | VmHWM (MiB) | records/s stored (loadgen) | attack |"
	echo "|---|--:|--:|--:|--:|---|"
	for p in load attack; do
		m=$TMP/$p/mon
		att="–"
		[ "$p" = attack ] && att=$(sed 's/^attack //' "$TMP/attack/attack.txt" | tail -n 1)
		printf '| %s | %s / %s / %s | %s / %s | %s | %s | %s |\n' "$p" \
			"$(mib "$(kv "$m" summary "$p" rss_min_kb)")" "$(mib "$(kv "$m" summary "$p" rss_med_kb)")" "$(mib "$(kv "$m" summary "$p" rss_max_kb)")" \
			"$(mib "$(kv "$m" summary "$p" anon_med_kb)")" "$(mib "$(kv "$m" summary "$p" anon_max_kb)")" "$(mib "$(kv "$m" summary "$p" hwm_kb)")" \
			"$(get "$TMP/$p/loadgen.txt" rate)" "$att"
	done
	echo
	ok=$(awk -v d="$DIFF" 'BEGIN { print (d <= 2048) ? "met" : "missed" }')
	echo "Goal, VmHWM under attack at most 2 MiB above VmHWM at $RATE records/s: $(mib "$AH") against $(mib "$LH") MiB, $(mib "$DIFF") MiB above: **$ok**."
} >"$TMP/md"
cp "$TMP/md" "$OUT/attack.md"
cat "$TMP/md"
