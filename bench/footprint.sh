#!/bin/sh
# footprint.sh measures what the itiny agent costs a device, against
# sysstat's sadc and collectd in the same run:
#
#   (a) steady RSS (VmRSS min/median/max, and VmHWM) of `itiny run` with every
#       default collector sampling every 1 s while RATE (default 1000)
#       records/s arrive on the ingest socket (bench/footprint/loadgen);
#   (b) CPU time per full sample (one round of all collectors), with no
#       ingest load, against sadc's per sample;
#   (c) bytes on disk per sample of the metrics stream.
#
# Phases, each DURATION seconds (default 60) after WARMUP seconds (default 3):
#   1. load, once per mode in MODES (default "periodic continuous"): one agent
#      whose [stream metrics] has that mode, loadgen sending RATE records/s;
#   2. idle: one agent per mode, sadc (`sadc 1 N FILE`, default activities)
#      and collectd (cpu, memory, load, interface, disk, df every 1 s, CSV
#      to a temp dir, no network plugin) side by side, collectors only;
#   3. for each entry of GC_VARIANTS (default none), phase 1 again in the
#      first mode with those environment variables on the agent, e.g.
#      GC_VARIANTS="GOGC=50 GOMEMLIMIT=3MiB GOGC=50,GOMEMLIMIT=3MiB"
#      (commas separate the variables of one variant).
# IDLE_VARIANTS (default none), in the same syntax, adds to phase 2 one more
# agent per mode and entry, e.g. IDLE_VARIANTS="GOMAXPROCS=1".
#
# CPU time is the sum over a process's threads of /proc/PID/task/*/schedstat
# (nanoseconds, exact) over the window; utime+stime from /proc/PID/stat (in
# 10 ms ticks) is kept in the raw output as a cross-check. Memory is read
# from /proc/PID/status every second (bench/footprint/fpmon).
#
# Installs sysstat and collectd-core with apt-get if missing. Binds nothing
# to the network: the agent's only socket is its unix ingest socket, syslog
# stays off; collectd loads no network plugin (checked with ss below).
# Raw figures go to bench/out/footprint.txt, the table to stdout and
# bench/out/footprint.md. KEEP=1 keeps the temp directory.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-3}
RATE=${RATE:-1000}
MODES=${MODES:-periodic continuous}
GC_VARIANTS=${GC_VARIANTS:-}
IDLE_VARIANTS=${IDLE_VARIANTS:-}
OUT=$ROOT/bench/out
RAW=$OUT/footprint.txt
MD=$OUT/footprint.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/itiny-footprint.XXXXXX")
BIN=$TMP/bin
PIDS=""

. "$ROOT/bench/lib.sh"

# vname ENVSPEC: a variant's name in labels and directories.
vname() { echo "$1" | tr ',=' '_-'; }


mkdir -p "$OUT" "$BIN"

# --- peers ---------------------------------------------------------------
need=""
[ -x /usr/lib/sysstat/sadc ] || need="$need sysstat"
command -v collectd >/dev/null 2>&1 || [ -x /usr/sbin/collectd ] || need="$need collectd-core"
if [ -n "$need" ]; then
	log "installing$need"
	apt-get update -qq >&2
	# shellcheck disable=SC2086,SC2116 # split on purpose: the words of a list
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >&2
fi
COLLECTD=$(command -v collectd 2>/dev/null || echo /usr/sbin/collectd)
SADC=/usr/lib/sysstat/sadc

# --- build ---------------------------------------------------------------
log "building"
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/itiny" ./cmd/itiny)
(cd "$ROOT/bench" && CGO_ENABLED=0 go build -trimpath -o "$BIN/" ./footprint/loadgen ./footprint/ringstat ./footprint/fpmon)

# --- configs -------------------------------------------------------------
COLLECTORS=$(agent_config "$BIN/itiny" periodic "" | awk '/^\[collector / { sub(/\]$/, "", $2); print $2 }')
for mode in $MODES; do
	c=$TMP/itiny-$mode.conf
	agent_config "$BIN/itiny" "$mode" "socket = itiny.sock  # a config file must name it: without it the socket is off
rate_limit = 2000    # per user: loadgen's records all come from one" >"$c"
	"$BIN/itiny" config check "$c" >"$TMP/itiny-$mode.effective"
done

mkdir -p "$TMP/collectd/csv"
collectd_conf footprint "$TMP/collectd" "LoadPlugin csv
<Plugin csv>
  DataDir \"$TMP/collectd/csv\"
  StoreRates false
</Plugin>" >"$TMP/collectd/collectd.conf"
"$COLLECTD" -t -C "$TMP/collectd/collectd.conf"

: >"$TMP/raw"
{
	echo "# bench/footprint.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# DURATION=$DURATION WARMUP=$WARMUP RATE=$RATE MODES=\"$MODES\" GC_VARIANTS=\"$GC_VARIANTS\" IDLE_VARIANTS=\"$IDLE_VARIANTS\""
	echo "# $(go version); $(uname -srm); $(nproc) cores"
	echo "# itiny binary: $(wc -c <"$BIN/itiny") bytes; sadc: $(dpkg-query -W -f='${Version}' sysstat 2>/dev/null); collectd: $(dpkg-query -W -f='${Version}' collectd-core 2>/dev/null)"
	# shellcheck disable=SC2086,SC2116 # split on purpose: the words of a list
	echo "# collectors at 1 s: $(echo $COLLECTORS)"
	echo "load start: $(cat /proc/loadavg)"
} >>"$TMP/raw"

# start_agent NAME MODE ENVSPEC: runs the agent in $TMP/NAME; sets APID.
start_agent() {
	d=$TMP/$1
	mkdir -p "$d"
	envs=$(echo "$3" | tr , ' ')
	# shellcheck disable=SC2086
	env $envs "$BIN/itiny" run --data "$d/data" --config "$TMP/itiny-$2.conf" 2>"$d/agent.log" &
	APID=$!
	PIDS="$PIDS $APID"
}

# netcheck LABEL PID: the process's TCP, UDP and raw sockets, and its
# listening unix sockets, into the raw output.
netcheck() {
	inet=$(ss -H -tuwanp 2>/dev/null | grep -c "pid=$2," || true)
	unix=$(ss -H -xlpn 2>/dev/null | grep "pid=$2," | awk '{print $5}' | tr '\n' ' ' | sed 's/ $//')
	echo "net label=$1 inet_sockets=$inet unix_listening=${unix:-none}" >>"$TMP/raw"
}

# load_phase NAME MODE ENVSPEC
load_phase() {
	log "phase load: $1 ($DURATION s)"
	echo "load before $1: $(cat /proc/loadavg)" >>"$TMP/raw"
	start_agent "$1" "$2" "$3"
	"$BIN/loadgen" -socket "$TMP/$1/data/itiny.sock" -rate "$RATE" -duration "$((WARMUP + DURATION + 1))s" >"$TMP/$1/loadgen.txt" &
	LG=$!
	PIDS="$PIDS $LG"
	sleep "$WARMUP"
	netcheck "$1" "$APID"
	"$BIN/fpmon" -duration "${DURATION}s" -raw "$TMP/$1/samples" "$1=$APID" >"$TMP/$1/mon"
	wait "$LG" || log "loadgen failed: $(cat "$TMP/$1/loadgen.txt")"
	rest=""
	for p in $PIDS; do [ "$p" = "$LG" ] || rest="$rest $p"; done
	PIDS=$rest
	echo "load after $1: $(cat /proc/loadavg)" >>"$TMP/raw"
	stop "$APID"
	"$BIN/ringstat" "$TMP/$1/data/metrics" >"$TMP/$1/ring"
	{
		echo "== $1: itiny run --data DATA --config itiny-$2.conf${3:+ with env $3}; loadgen -rate $RATE"
		cat "$TMP/$1/mon" "$TMP/$1/loadgen.txt" "$TMP/$1/ring"
		echo "-- per-second samples"
		cat "$TMP/$1/samples"
		echo "-- agent log"
		cat "$TMP/$1/agent.log"
	} >>"$TMP/raw"
}

for mode in $MODES; do
	load_phase "load-$mode" "$mode" ""
done

# --- idle: agents, sadc and collectd side by side ------------------------
log "phase idle: agents, sadc and collectd side by side ($DURATION s)"
echo "load before idle: $(cat /proc/loadavg)" >>"$TMP/raw"
mon=""
IDLE=""
for mode in $MODES; do
	IDLE="$IDLE idle-$mode"
	start_agent "idle-$mode" "$mode" ""
	mon="$mon idle-$mode=$APID"
	for v in $IDLE_VARIANTS; do
		n=idle-$mode-$(vname "$v")
		IDLE="$IDLE $n"
		start_agent "$n" "$mode" "$v"
		mon="$mon $n=$APID"
	done
done
mkdir -p "$TMP/sadc"
"$SADC" 1 "$((WARMUP + DURATION + 10))" "$TMP/sadc/sa.bin" &
SPID=$!
PIDS="$PIDS $SPID"
"$COLLECTD" -f -C "$TMP/collectd/collectd.conf" >"$TMP/collectd/log" 2>&1 &
CPID=$!
PIDS="$PIDS $CPID"
sleep "$WARMUP"
for m in $mon; do netcheck "${m%=*}" "${m#*=}"; done
netcheck sadc "$SPID"
netcheck collectd "$CPID"
# shellcheck disable=SC2086
"$BIN/fpmon" -duration "${DURATION}s" -raw "$TMP/idle-samples" \
	-size "sadc=$TMP/sadc/sa.bin" -size "collectd=$TMP/collectd/csv" \
	$mon "sadc=$SPID" "collectd=$CPID" >"$TMP/idle-mon"
echo "load after idle: $(cat /proc/loadavg)" >>"$TMP/raw"
for m in $mon; do stop "${m#*=}"; done
stop "$SPID"
stop "$CPID"
for n in $IDLE; do
	"$BIN/ringstat" "$TMP/$n/data/metrics" >"$TMP/$n/ring"
done
SADC_BYTES=$(wc -c <"$TMP/sadc/sa.bin")
# sadf prints one CPU line per interval: samples = intervals + 1.
SADC_SAMPLES=$(($(sadf -d "$TMP/sadc/sa.bin" -- -u | grep -vc '^#') + 1))
CD_BYTES=$(find "$TMP/collectd/csv" -type f -exec cat {} + | wc -c)
CD_FILES=$(find "$TMP/collectd/csv" -type f | wc -l)
CD_SAMPLES=$(find "$TMP/collectd/csv" -path '*/load/*' -type f -exec cat {} + | grep -vc '^epoch')
{
	# shellcheck disable=SC2086,SC2116 # split on purpose: the words of a list
	echo "== idle: $(echo $mon); sadc 1 $((WARMUP + DURATION + 10)) sa.bin; collectd -f -C collectd.conf"
	cat "$TMP/idle-mon"
	for n in $IDLE; do cat "$TMP/$n/ring"; done
	echo "sadc bytes=$SADC_BYTES samples=$SADC_SAMPLES"
	echo "collectd bytes=$CD_BYTES files=$CD_FILES samples=$CD_SAMPLES"
	echo "-- per-second samples"
	cat "$TMP/idle-samples"
	echo "-- collectd log"
	cat "$TMP/collectd/log"
	for n in $IDLE; do
		echo "-- agent log $n"
		cat "$TMP/$n/agent.log"
	done
} >>"$TMP/raw"

# --- GC variants ---------------------------------------------------------
first=${MODES%% *}
for v in $GC_VARIANTS; do
	load_phase "load-$first-$(vname "$v")" "$first" "$v"
done
echo "load end: $(cat /proc/loadavg)" >>"$TMP/raw"
{
	echo "== configs"
	for mode in $MODES; do
		echo "-- itiny-$mode.conf"
		cat "$TMP/itiny-$mode.conf"
	done
	echo "-- collectd.conf"
	cat "$TMP/collectd/collectd.conf"
} >>"$TMP/raw"
cp "$TMP/raw" "$RAW"

# --- table ---------------------------------------------------------------
SADC_CPU_NS=$(kv "$TMP/idle-mon" summary sadc cpu_ns)
SADC_WIN=$(kv "$TMP/idle-mon" summary sadc window_s)
SADC_PER=$(awk -v c="$SADC_CPU_NS" -v w="$SADC_WIN" 'BEGIN { printf "%.0f", c / w / 1000 }')
SADC_MED=$(awk -v c="$(kv "$TMP/idle-mon" summary sadc cpu_interval_med_ns)" 'BEGIN { printf "%.0f", c / 1000 }')

kib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }

# row LABEL MONFILE MONLABEL BYTES_PER_SAMPLE WHAT
row() {
	f=$2
	l=$3
	w=$(kv "$f" summary "$l" window_s)
	c=$(kv "$f" summary "$l" cpu_ns)
	per=$(awk -v c="$c" -v w="$w" 'BEGIN { printf "%.0f", c / w / 1000 }')
	med=$(awk -v c="$(kv "$f" summary "$l" cpu_interval_med_ns)" 'BEGIN { printf "%.0f", c / 1000 }')
	rel=$(awk -v p="$per" -v s="$SADC_PER" -v m="$med" -v sm="$SADC_MED" 'BEGIN { printf "%.2f× / %.2f×", p / s, m / sm }')
	case $5 in load*) rel="–" ;; esac
	printf '| %s | %s | %s / %s / %s | %s | %s | %s | %s / %s | %s | %s |\n' "$1" "$5" \
		"$(kib "$(kv "$f" summary "$l" rss_min_kb)")" "$(kib "$(kv "$f" summary "$l" rss_med_kb)")" "$(kib "$(kv "$f" summary "$l" rss_max_kb)")" \
		"$(kib "$(kv "$f" summary "$l" anon_med_kb)")" "$(kib "$(kv "$f" summary "$l" file_med_kb)")" \
		"$(kib "$(kv "$f" summary "$l" hwm_kb)")" "$per" "$med" "$rel" "$4"
}
bps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", b / s; else print "-" }'; }

{
	echo "## Footprint: itiny against sadc and collectd, all sampling every 1 s"
	echo
	echo "Command: \`DURATION=$DURATION WARMUP=$WARMUP RATE=$RATE MODES=\"$MODES\"${GC_VARIANTS:+ GC_VARIANTS=\"$GC_VARIANTS\"}${IDLE_VARIANTS:+ IDLE_VARIANTS=\"$IDLE_VARIANTS\"} bench/footprint.sh\`"
	echo "($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr), $(go version | awk '{print $3}'); itiny binary $(wc -c <"$BIN/itiny") bytes)."
	echo "Each row: a ${DURATION} s window after ${WARMUP} s of warm-up; the idle rows ran side by side in one window."
	echo
	# shellcheck disable=SC2086,SC2116 # split on purpose: the words of a list
	echo "- itiny: \`itiny run --data DIR --config itiny-MODE.conf\`: default config, collectors $(echo $COLLECTORS | tr ' ' ',') at interval = 1s, [stream metrics] mode = MODE."
	echo "- load: \`loadgen -socket DIR/itiny.sock -rate $RATE\` (bench/footprint/loadgen): 10-field records to the events stream, batches every 10 ms, 10 sources."
	echo "- sadc: \`$SADC 1 $((WARMUP + DURATION + 10)) sa.bin\` (default activities)."
	echo "- collectd: \`collectd -f -C collectd.conf\`: cpu, memory, load, interface, disk, df, csv; Interval 1; no network plugin."
	echo
	echo "| process | phase | VmRSS min / median / max (MiB) | RssAnon median (MiB) | RssFile median (MiB) | VmHWM (MiB) | CPU per sample, mean / median (µs) | × sadc, mean / median | bytes per sample |"
	echo "|---|---|--:|--:|--:|--:|--:|--:|--:|"
	for mode in $MODES; do
		r=$TMP/load-$mode/ring
		row "itiny ($mode)" "$TMP/load-$mode/mon" "load-$mode" "$(bps "$(get "$r" segment_bytes)" "$(get "$r" samples)")" "load $RATE rec/s"
	done
	for v in $GC_VARIANTS; do
		n=load-$first-$(vname "$v")
		r=$TMP/$n/ring
		row "itiny ($first) $(echo "$v" | tr ',' ' ')" "$TMP/$n/mon" "$n" "$(bps "$(get "$r" segment_bytes)" "$(get "$r" samples)")" "load $RATE rec/s"
	done
	for mode in $MODES; do
		r=$TMP/idle-$mode/ring
		row "itiny ($mode)" "$TMP/idle-mon" "idle-$mode" "$(bps "$(get "$r" segment_bytes)" "$(get "$r" samples)")" "idle, side by side"
		for v in $IDLE_VARIANTS; do
			n=idle-$mode-$(vname "$v")
			r=$TMP/$n/ring
			row "itiny ($mode) $(echo "$v" | tr ',' ' ')" "$TMP/idle-mon" "$n" "$(bps "$(get "$r" segment_bytes)" "$(get "$r" samples)")" "idle, side by side"
		done
	done
	row "sadc" "$TMP/idle-mon" sadc "$(bps "$SADC_BYTES" "$SADC_SAMPLES")" "idle, side by side"
	row "collectd" "$TMP/idle-mon" collectd "$(bps "$CD_BYTES" "$CD_SAMPLES")" "idle, side by side"
	echo
	echo "- CPU per sample: CPU time of all the process's threads (schedstat, ns): mean = over the whole window / window seconds; median = of the per-second figures (robust to a one-off burst). One full sample a second. Under load it includes ingesting $RATE records/s."
	echo "- Bytes per sample: itiny, metrics segment files / cpu records (one per full sample); sadc, file size / samples in it; collectd, all CSV files / lines in the load CSV."
	for mode in $MODES; do
		r=$TMP/load-$mode/ring
		echo "- itiny ($mode): $(get "$r" records_per_sample) records per sample, $(get "$r" framed_bytes_per_sample) framed bytes per sample; loadgen: $(sed 's/^loadgen //' "$TMP/load-$mode/loadgen.txt" | head -n 1)."
	done
	echo "- Load average: $(grep -E '^load (start|before|after|end)' "$TMP/raw" | sed 's/ [0-9]*\/[0-9]* [0-9]*$//' | tr '\n' ';' | sed 's/;$//; s/;/; /g')."
	echo "- Network: $(grep '^net ' "$TMP/raw" | sed 's/^net //' | tr '\n' ';' | sed 's/;$//; s/;/; /g')."
	echo
	echo "Goals:"
	for mode in $MODES; do
		m=$TMP/load-$mode/mon
		mx=$(kv "$m" summary "load-$mode" rss_max_kb)
		hw=$(kv "$m" summary "load-$mode" hwm_kb)
		ok=$(awk -v a="$mx" -v b="$hw" 'BEGIN { print (a <= 4096 && b <= 4096) ? "met" : "missed" }')
		echo "- (a) RSS ≤ 4 MiB under load, $mode: VmRSS max $(kib "$mx") MiB, VmHWM $(kib "$hw") MiB: **$ok**."
	done
	for mode in $MODES; do
		c=$(kv "$TMP/idle-mon" summary "idle-$mode" cpu_ns)
		w=$(kv "$TMP/idle-mon" summary "idle-$mode" window_s)
		per=$(awk -v c="$c" -v w="$w" 'BEGIN { printf "%.0f", c / w / 1000 }')
		med=$(awk -v c="$(kv "$TMP/idle-mon" summary "idle-$mode" cpu_interval_med_ns)" 'BEGIN { printf "%.0f", c / 1000 }')
		ok=$(awk -v p="$per" -v s="$SADC_PER" 'BEGIN { print (p <= s / 2) ? "met" : "missed" }')
		okm=$(awk -v p="$med" -v s="$SADC_MED" 'BEGIN { print (p <= s / 2) ? "met" : "missed" }')
		echo "- (b) CPU per sample ≤ ½ sadc's, $mode: mean $per µs against sadc's $SADC_PER µs ($(awk -v p="$per" -v s="$SADC_PER" 'BEGIN { printf "%.2f", p / s }')×): **$ok**; median $med µs against $SADC_MED µs ($(awk -v p="$med" -v s="$SADC_MED" 'BEGIN { printf "%.2f", p / s }')×): **$okm**."
	done
	for mode in $MODES; do
		r=$TMP/idle-$mode/ring
		b=$(bps "$(get "$r" segment_bytes)" "$(get "$r" samples)")
		ok=$(awk -v b="$b" 'BEGIN { print (b <= 400) ? "met" : "missed" }')
		echo "- (c) bytes per sample ≤ 400, $mode: $b: **$ok**."
	done
} >"$TMP/md"
cp "$TMP/md" "$MD"
cat "$MD"
