#!/usr/bin/env bash
# follow.sh measures itiny-migrate --follow (issue 16, point 3): the time
# from a record's arrival at the agent to the store's acknowledgement, and
# the agent's own socket acknowledgement with and without a forwarder
# beside it, in one run:
#
#   1. One nats-server (Debian's, -a 127.0.0.1, its own port and store in a
#      temp directory), stopped by its PID at the end.
#   2. ROUNDS (default 2) rounds of two phases, in turn: "without", the
#      agent (the default config, every collector at 1 s, the socket on)
#      fed RATE (default 1000) records a second on its socket by
#      bench/footprint/loadgen for DURATION (default 30) seconds; "with",
#      the same and `itiny-migrate --follow` forwarding its data directory
#      to the server (fresh streams, scope per round), under `nice -n
#      NICE` (default 10, as packaging/systemd/itiny-forward.service runs
#      it; NICE=0 for none). Each phase has its own data directory; the
#      agent and the forwarder are stopped by PID.
#   3. Per phase: loadgen's ack_p50_us and ack_p99_us (Send to the agent's
#      acknowledgement, every record); for "with", `jsctl latency
#      ITINY_EVENTS`: per record, the store's timestamp of the message
#      minus the record's Itiny-Time (the agent's clock at receipt, the
#      same machine's), as p50, p90, p99 and max, and the messages a
#      second between the first and the last store timestamps.
#
# Raw lines to bench/out/follow.txt, the table to bench/out/follow.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
PIDS=""
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DURATION=${DURATION:-30}
RATE=${RATE:-1000}
ROUNDS=${ROUNDS:-2}
NICE=${NICE:-10}
BIN=$TMP/bin
mkdir -p "$BIN" "$ROOT/bench/out"

log "building"
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$BIN/" ./cmd/itiny ./cmd/itiny-migrate)
(cd "$ROOT/bench" && CGO_ENABLED=0 go build -trimpath -o "$BIN/" ./footprint/loadgen ./migrate/jsctl)
agent_config "$BIN/itiny" continuous "socket = itiny.sock
rate_limit = 2000" >"$TMP/itiny.conf"

mkdir -p "$TMP/ports" "$TMP/js"
nats-server -a 127.0.0.1 -p -1 --ports_file_dir "$TMP/ports" -js -sd "$TMP/js" >"$TMP/nats.log" 2>&1 &
NPID=$!
PIDS="$PIDS $NPID"
for _ in $(seq 100); do
	[ -s "$TMP/ports/nats-server_$NPID.ports" ] && break
	sleep 0.1
done
URL=$(sed -n 's/.*"\(nats:\/\/[^"]*\)".*/\1/p' "$TMP/ports/nats-server_$NPID.ports" | head -1)
"$BIN/jsctl" -url "$URL" wait

RAW=$ROOT/bench/out/follow.txt
{
	echo "# bench/follow.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) DURATION=$DURATION RATE=$RATE ROUNDS=$ROUNDS NICE=$NICE"
	echo "# $(go version); $(uname -srm); $(nproc) cores; nats-server $(nats-server --version)"
	echo "load start: $(cat /proc/loadavg)"
} >"$RAW"

phase() { # ROUND VARIANT
	d=$TMP/$1-$2
	mkdir -p "$d"
	"$BIN/itiny" run --data "$d/data" --config "$TMP/itiny.conf" 2>"$d/agent.log" &
	APID=$!
	PIDS="$PIDS $APID"
	FPID=""
	if [ "$2" = with ]; then
		"$BIN/jsctl" -url "$URL" delete ITINY_EVENTS ITINY_METRICS ITINY_METRICS_1M ITINY_METRICS_1H ITINY_STATE ITINY_ITINY ITINY_CORES
		sleep 1 # the agent's rings exist
		nice -n "$NICE" "$BIN/itiny-migrate" --to "$URL" --scope "r$1" --checkpoint "$d/ck" --follow --status-every 5s \
			--status-file "$d/status.json" --progress never "$d/data" 2>"$d/forwarder.log" &
		FPID=$!
		PIDS="$PIDS $FPID"
	fi
	"$BIN/loadgen" -socket "$d/data/itiny.sock" -rate "$RATE" -duration "${DURATION}s" >"$d/loadgen.txt"
	sleep 3 # the forwarder catches up
	echo "round=$1 variant=$2 $(cat "$d/loadgen.txt")" >>"$RAW"
	if [ -n "$FPID" ]; then
		echo "round=$1 variant=$2 $("$BIN/jsctl" -url "$URL" latency ITINY_EVENTS)" >>"$RAW"
		echo "round=$1 variant=$2 status $(tr -d '\n' <"$d/status.json")" >>"$RAW"
		stop "$FPID"
	fi
	stop "$APID"
	echo "load after round $1 $2: $(cat /proc/loadavg)" >>"$RAW"
}

for r in $(seq "$ROUNDS"); do
	for v in without with; do
		log "round $r: $v a forwarder ($DURATION s)"
		phase "$r" "$v"
	done
done

{
	echo "| round | forwarder | records acknowledged by the agent | agent ack p50 (µs) | agent ack p99 (µs) | forwarded: p50 (ms) | p90 | p99 | max | messages/s stored |"
	echo "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"
	awk '
	/loadgen sent=/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		key = v["round"] " " v["variant"]
		acked[key] = v["acked"]; p50[key] = v["ack_p50_us"]; p99[key] = v["ack_p99_us"]; order[++n] = key
	}
	/latency stream=/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); w[kv[1]] = kv[2] }
		key = w["round"] " " w["variant"]
		lat[key] = w["p50_ms"] " | " w["p90_ms"] " | " w["p99_ms"] " | " w["max_ms"] " | " w["rate"]
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, rv, " ")
			l = (k in lat) ? lat[k] : "- | - | - | - | -"
			printf "| %s | %s | %s | %s | %s | %s |\n", rv[1], rv[2], acked[k], p50[k], p99[k], l
		}
	}' "$RAW"
} >"$ROOT/bench/out/follow.md"
cat "$ROOT/bench/out/follow.md"
