#!/bin/sh
# flashwrite.sh: the bytes the itiny agent makes a block device write a day,
# against sysstat's sadc, collectd and systemd-journal-remote, side by side
# in one window (issue 15, section 2).
#
# Each tool keeps its data on its own freshly made ext4 image (IMG, default
# 256M, sparse; mkfs.ext4 -T default, inode tables and journal zeroed at
# mkfs so that no lazy init writes in the window) on its own loop device,
# mounted with the defaults (data=ordered, journal commit every 5 s,
# relatime). The bytes written are the sectors the kernel wrote to that
# loop device (/sys/block/loopN/stat field 7, 512 bytes each), so the file
# system's journal and metadata writes count with the data. Each mount is
# synced (syncfs, `sync -f`) at both ends of the window, so that what a
# tool wrote in the window counts once, whenever writeback would have
# flushed it. Each tool runs in a mount namespace of its own, where it
# sees the machine's mounts and its own, not the other tools'.
#
# The tools, started together, run WARMUP seconds (default 30) before the
# DURATION-second window (default 300; a multiple of 60, so the window
# holds as many of the agent's 60 s flushes as any other):
#
#   idle           an empty mount: the file system's own writes
#   itiny-default  `itiny run --data M/data --config default.conf`: the
#                  embedded default config (collectors every 10-60 s, the
#                  metrics stream periodic with a 60 s flush), but pstore's
#                  remove = false (a benchmark never takes the machine's
#                  crash logs)
#   itiny-1s       the default config with every collector at 1 s
#                  (agent_config in bench/lib.sh)
#   itiny-default-sync, itiny-1s-sync  the same two with the metrics
#                  stream at sync = interval: its segment synced a second
#                  after each flush
#   sadc           `sadc 1 N M/sa.bin` (default activities)
#   collectd-csv   collectd, cpu, memory, load, interface, disk, df at
#                  Interval 1, csv plugin (as bench/footprint.sh; the disk
#                  plugin skips loop, ram and zram as the agent does)
#   collectd-rrd   the same, rrdtool plugin at its defaults (every update
#                  written at once)
#   collectd-rrdcache  the same, rrdtool with CacheTimeout 120 and
#                  CacheFlush 900, as collectd's docs advise for flash
#   itiny-events   the agent with every collector off, RATE (default 10)
#                  records/s from bench/footprint/loadgen on its socket
#   itiny-events-nosync  the same, its events stream with sync = none
#                  (written back by the kernel, as journal-remote's file
#                  is), the same records sent to it by a second loadgen
#   journal        systemd-journal-remote writing the same records, as
#                  loadgen -export hands them on after the agent's ack, to
#                  M/events.journal
#
# Needs root (losetup, mount). Installs sysstat, collectd-core, rrdtool and
# systemd-journal-remote with apt-get if missing. Unmounts and detaches
# only the loop devices it made, at exit whatever happens. Raw figures go
# to bench/out/flashwrite.txt, the table to stdout and
# bench/out/flashwrite.md. KEEP=1 keeps the temp directory (unmounted).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-300}
WARMUP=${WARMUP:-30}
RATE=${RATE:-10}
IMG=${IMG:-256M}
OUT=$ROOT/bench/out
RAW=$OUT/flashwrite.txt
MD=$OUT/flashwrite.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/itiny-flashwrite.XXXXXX")
BIN=$TMP/bin
PIDS=""
SADC=/usr/lib/sysstat/sadc
JREMOTE=/lib/systemd/systemd-journal-remote
TOOLS="idle itiny-default itiny-default-sync itiny-1s itiny-1s-sync sadc collectd-csv collectd-rrd collectd-rrdcache itiny-events itiny-events-nosync journal"
AGENTS="default default-sync 1s 1s-sync events events-nosync" # the itiny-* tools

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[ "$(id -u)" = 0 ] || { log "flashwrite.sh: needs root (losetup, mount)"; exit 1; }

# teardown: stop what runs, unmount and detach what this script made
# (listed in $TMP/mounts and $TMP/loops), then lib.sh's cleanup.
teardown() {
	for p in $PIDS; do stop "$p"; done
	if [ -f "$TMP/mounts" ]; then
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" || log "flashwrite.sh: cannot unmount $m"
		done <"$TMP/mounts"
	fi
	if [ -f "$TMP/loops" ]; then
		while read -r l; do
			losetup -d "$l" || log "flashwrite.sh: cannot detach $l"
		done <"$TMP/loops"
	fi
	rm -f "$TMP/mounts" "$TMP/loops"
	rm -rf "$TMP/img"
	cleanup
}
trap teardown EXIT

mkdir -p "$OUT" "$BIN" "$TMP/img" "$TMP/mnt" "$TMP/run"

# --- peers ---------------------------------------------------------------
need=""
[ -x "$SADC" ] || need="$need sysstat"
[ -x /usr/sbin/collectd ] || need="$need collectd-core"
if [ ! -f /usr/lib/collectd/rrdtool.so ] || ! command -v rrdtool >/dev/null 2>&1; then
	need="$need rrdtool librrd8"
fi
[ -x "$JREMOTE" ] || need="$need systemd-journal-remote"
if [ -n "$need" ]; then
	log "installing$need"
	apt-get update -qq >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >&2
fi
COLLECTD=/usr/sbin/collectd

# --- build ---------------------------------------------------------------
log "building"
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/" ./cmd/itiny ./cmd/itiny-read)
(cd "$ROOT/bench" && CGO_ENABLED=0 go build -trimpath -o "$BIN/" ./footprint/loadgen)

# --- file systems --------------------------------------------------------
# mkimg NAME: a fresh ext4 image on a loop device of its own, mounted at
# $TMP/mnt/NAME with the default options.
mkimg() {
	img=$TMP/img/$1.img
	truncate -s "$IMG" "$img"
	mkfs.ext4 -q -F -T default -E lazy_itable_init=0,lazy_journal_init=0 "$img"
	loop=$(losetup -f --show "$img")
	echo "$loop" >>"$TMP/loops"
	mkdir -p "$TMP/mnt/$1"
	mount -t ext4 "$loop" "$TMP/mnt/$1"
	echo "$TMP/mnt/$1" >>"$TMP/mounts"
	echo "$1 ${loop#/dev/}" >>"$TMP/devs"
}
for t in $TOOLS; do mkimg "$t"; done

# dev NAME: the loop device (loopN) under tool NAME's mount.
dev() { awk -v n="$1" '$1 == n { print $2 }' "$TMP/devs"; }

# --- configs -------------------------------------------------------------
printf '# the embedded default, but a benchmark never takes the crash logs\n[collector pstore]\nremove = false\n' >"$TMP/itiny-default.conf"
agent_config "$BIN/itiny" periodic "socket = itiny.sock" >"$TMP/itiny-1s.conf"
{
	echo "# the embedded default with every collector off: events only"
	echo "rate_limit = $((RATE * 2 + 100))"
	"$BIN/itiny" config check | awk '/^\[collector / { print; print "enabled = false" }'
} >"$TMP/itiny-events.conf"
# with_sync CONF STREAM SYNC: the effective config of CONF (complete, a
# config itself) with [stream STREAM] at sync = SYNC.
with_sync() {
	"$BIN/itiny" config check "$1" | awk -v h="[stream $2]" -v s="$3" '/^\[/ { on = ($0 == h) } on && /^sync = / { $0 = "sync = " s } { print }'
}
with_sync "$TMP/itiny-events.conf" events none >"$TMP/itiny-events-nosync.conf"
# The -sync variants: the metrics segment synced a second after each flush.
with_sync "$TMP/itiny-default.conf" metrics interval >"$TMP/itiny-default-sync.conf"
with_sync "$TMP/itiny-1s.conf" metrics interval >"$TMP/itiny-1s-sync.conf"
for c in $AGENTS; do
	"$BIN/itiny" config check "$TMP/itiny-$c.conf" >"$TMP/itiny-$c.effective"
done

# The collectd configs: as bench/footprint.sh, storing on their own mounts,
# and the disk plugin skipping virtual disks as the agent's diskstats does.
CD_DISK='<Plugin disk>
  Disk "/^(loop|ram|zram)/"
  IgnoreSelected true
</Plugin>'
M=$TMP/mnt
for c in csv rrd rrdcache; do mkdir -p "$TMP/run/collectd-$c"; done
collectd_conf flashwrite "$TMP/run/collectd-csv" "$CD_DISK
LoadPlugin csv
<Plugin csv>
  DataDir \"$M/collectd-csv/csv\"
  StoreRates false
</Plugin>" >"$TMP/collectd-csv.conf"
collectd_conf flashwrite "$TMP/run/collectd-rrd" "$CD_DISK
LoadPlugin rrdtool
<Plugin rrdtool>
  DataDir \"$M/collectd-rrd/rrd\"
</Plugin>" >"$TMP/collectd-rrd.conf"
collectd_conf flashwrite "$TMP/run/collectd-rrdcache" "$CD_DISK
LoadPlugin rrdtool
<Plugin rrdtool>
  DataDir \"$M/collectd-rrdcache/rrd\"
  CacheTimeout 120
  CacheFlush 900
</Plugin>" >"$TMP/collectd-rrdcache.conf"
for c in csv rrd rrdcache; do "$COLLECTD" -t -C "$TMP/collectd-$c.conf"; done

# --- run -----------------------------------------------------------------
{
	echo "# bench/flashwrite.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# DURATION=$DURATION WARMUP=$WARMUP RATE=$RATE IMG=$IMG"
	echo "# $(go version); $(uname -srm); $(nproc) cores; vm.dirty_expire_centisecs=$(cat /proc/sys/vm/dirty_expire_centisecs) vm.dirty_writeback_centisecs=$(cat /proc/sys/vm/dirty_writeback_centisecs)"
	echo "# itiny $(cd "$ROOT" && git rev-parse --short HEAD)$( [ -n "$(cd "$ROOT" && git status --porcelain -- agent ringlog codec pack cmd/itiny)" ] && echo ' (with uncommitted changes)'): $(wc -c <"$BIN/itiny") bytes"
	echo "# sysstat $(dpkg-query -W -f='${Version}' sysstat 2>/dev/null); collectd $(dpkg-query -W -f='${Version}' collectd-core 2>/dev/null); rrdtool $(dpkg-query -W -f='${Version}' rrdtool 2>/dev/null); $("$JREMOTE" --version | head -n 1); e2fsprogs $(dpkg-query -W -f='${Version}' e2fsprogs 2>/dev/null)"
	echo "# mount options: $(awk -v m="$M/idle" '$2 == m { print $4 }' /proc/mounts)"
	for t in $TOOLS; do echo "# $t: /dev/$(dev "$t")"; done
	echo "load start: $(cat /proc/loadavg)"
} >"$TMP/raw"

# spawn NAME INPUT CMD...: runs CMD in the background as tool NAME, its
# standard input from the file INPUT; its PID goes to $TMP/run/NAME.pid,
# its stderr to $TMP/run/NAME.log. It runs in
# a mount namespace of its own where the other tools' mounts are gone: it
# sees the machine's mounts and its own, as on a device, not the others
# (which the agent's filesystem collector and collectd's df would record).
spawn() {
	n=$1
	in=$2
	shift 2
	others=""
	for t in $TOOLS; do [ "$t" = "$n" ] || others="$others $M/$t"; done
	# shellcheck disable=SC2016
	unshare -m --propagation private sh -c 'for m in $1; do umount "$m" || exit 1; done; shift; exec "$@"' \
		sh "$others" "$@" <"$in" 2>"$TMP/run/$n.log" &
	echo $! >"$TMP/run/$n.pid"
	PIDS="$PIDS $!"
}
pid() { cat "$TMP/run/$1.pid"; }

N=$((WARMUP + DURATION + 30))
log "running $TOOLS: ${WARMUP} s warm-up, ${DURATION} s window"
for c in $AGENTS; do
	spawn "itiny-$c" /dev/null "$BIN/itiny" run --data "$M/itiny-$c/data" --config "$TMP/itiny-$c.conf"
done
spawn sadc /dev/null "$SADC" 1 "$N" "$M/sadc/sa.bin"
for c in csv rrd rrdcache; do
	spawn "collectd-$c" /dev/null "$COLLECTD" -f -C "$TMP/collectd-$c.conf"
done
# loadgen hands each record the agent acknowledged on to
# systemd-journal-remote through a FIFO.
mkfifo "$TMP/run/events.fifo"
"$BIN/loadgen" -socket "$M/itiny-events/data/itiny.sock" -rate "$RATE" -duration "${N}s" -export - \
	>"$TMP/run/events.fifo" 2>"$TMP/run/loadgen.log" &
LG=$!
PIDS="$PIDS $LG"
"$BIN/loadgen" -socket "$M/itiny-events-nosync/data/itiny.sock" -rate "$RATE" -duration "${N}s" \
	>"$TMP/run/loadgen-nosync.log" 2>&1 &
LG2=$!
PIDS="$PIDS $LG2"
spawn journal "$TMP/run/events.fifo" "$JREMOTE" --split-mode=none -o "$M/journal/events.journal" -

sleep "$WARMUP"
for t in $TOOLS; do
	[ "$t" = idle ] && continue
	kill -0 "$(pid "$t")" 2>/dev/null || { log "flashwrite.sh: $t is not running:"; cat "$TMP/run/$t.log" >&2; exit 1; }
done
for l in "$LG" "$LG2"; do
	kill -0 "$l" || { log "flashwrite.sh: a loadgen is not running:"; cat "$TMP/run/loadgen.log" "$TMP/run/loadgen-nosync.log" >&2; exit 1; }
done

# files WHEN: each mount's files, sizes and times, into the raw output.
# Listing reads directories, which with relatime may write their atime:
# done before the window starts and after it ends.
files() {
	for t in $TOOLS; do
		find "$M/$t" -type f -printf "file at=$1 label=$t size=%s blocks=%b mtime=%T@ path=%P\n"
	done >>"$TMP/raw"
}

# snap WHEN: each mount's loop counters, jbd2 figures, and the tool's
# /proc/PID/io, after a syncfs of the mount.
snap() {
	for t in $TOOLS; do sync -f "$M/$t"; done
	date +%s.%N >"$TMP/t-$1"
	for t in $TOOLS; do
		d=$(dev "$t")
		w=$(awk '{ printf "write_ios=%s write_sectors=%s", $5, $7 }' "/sys/block/$d/stat")
		j=$(awk 'NR == 1 { printf "jbd2_tx=%d", $1 }' "/proc/fs/jbd2/$d-8/info")
		io=""
		[ "$t" = idle ] || io=$(awk '{ sub(/:$/, "", $1); printf " %s=%s", $1, $2 }' "/proc/$(pid "$t")/io")
		echo "stat at=$1 label=$t dev=$d $w $j$io"
	done >>"$TMP/raw"
}
files start
snap start
echo "load window start: $(cat /proc/loadavg)" >>"$TMP/raw"
# Sleep in steps, logging the loop counters, so the raw output shows when
# each tool writes.
start=$(cut -d. -f1 "$TMP/t-start")
while [ $(($(date +%s) - start)) -lt "$DURATION" ]; do
	left=$((DURATION - ($(date +%s) - start)))
	sleep $((left < 10 ? left : 10))
	now=$(date +%s)
	for t in $TOOLS; do
		echo "tick t=$((now - start)) label=$t write_sectors=$(awk '{ print $7 }' "/sys/block/$(dev "$t")/stat")"
	done >>"$TMP/raw"
done
snap end
echo "load window end: $(cat /proc/loadavg)" >>"$TMP/raw"
files end

# Loadgen first: journal-remote then reads the end of its input and exits.
stop "$LG"
stop "$LG2"
for t in $TOOLS; do
	[ "$t" = idle ] || stop "$(pid "$t")"
done
{
	echo "== loadgen"
	cat "$TMP/run/loadgen.log" "$TMP/run/loadgen-nosync.log"
	# journal-remote rotates (its size limits follow the file system's
	# size): count the entries of every file.
	echo "== journal entries: $(journalctl --file "$M/journal/*.journal" -q -o cat 2>/dev/null | wc -l) in $(find "$M/journal" -name '*.journal' | wc -l) files"
	for t in $TOOLS; do
		[ "$t" = idle ] && continue
		echo "== log $t"
		cat "$TMP/run/$t.log"
	done
	echo "== configs"
	for c in $AGENTS; do
		echo "-- itiny-$c.conf"
		cat "$TMP/itiny-$c.conf"
	done
	for c in csv rrd rrdcache; do
		echo "-- collectd-$c.conf"
		cat "$TMP/collectd-$c.conf"
	done
} >>"$TMP/raw"
# What each agent stored in the window, by stream and record name.
rfc() { date -u -d "@$(cat "$1")" +%Y-%m-%dT%H:%M:%S.%NZ; }
for c in $AGENTS; do
	{
		echo "== itiny-$c: itiny-read stats"
		"$BIN/itiny-read" stats "$M/itiny-$c/data"
		echo "-- records in the window: count, stream, name"
		"$BIN/itiny-read" -o json -S "$(rfc "$TMP/t-start")" -U "$(rfc "$TMP/t-end")" "$M/itiny-$c/data" |
			sed -n 's/^{"seq":[0-9]*,"stream":"\([^"]*\)".*"level":"[a-z]*","name":"\([^"]*\)".*/\1 \2/p' | sort | uniq -c
	} >>"$TMP/raw" 2>&1
done
cp "$TMP/raw" "$RAW"

# --- table ---------------------------------------------------------------
WINDOW=$(awk -v a="$(cat "$TMP/t-start")" -v b="$(cat "$TMP/t-end")" 'BEGIN { printf "%.1f", b - a }')

# delta TOOL KEY: KEY's change over the window in tool's stat lines.
delta() {
	awk -v l="label=$1" -v k="$2" '$1 == "stat" && $3 == l {
		for (i = 4; i <= NF; i++) { split($i, a, "="); if (a[1] == k) v[$2] = a[2] }
	} END { print v["at=end"] - v["at=start"] }' "$TMP/raw"
}
perday() { awk -v b="$1" -v w="$WINDOW" 'BEGIN { printf "%.0f", b * 86400 / w }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e6 }'; }
for t in $TOOLS; do
	echo "$t $(($(delta "$t" write_sectors) * 512)) $(delta "$t" write_ios) $(delta "$t" write_bytes) $(delta "$t" jbd2_tx)"
done >"$TMP/deltas"
# col TOOL N: field N of tool's line in deltas (2 bytes, 3 write requests,
# 4 process write_bytes, 5 journal commits).
col() { awk -v t="$1" -v n="$2" '$1 == t { print $n }' "$TMP/deltas"; }
IDLE_DAY=$(perday "$(col idle 2)")
# net TOOL: bytes per day less the idle mount's.
net() { awk -v a="$(perday "$(col "$1" 2)")" -v i="$IDLE_DAY" 'BEGIN { printf "%.0f", a - i }'; }
# The best peer at 1 s: the fewest bytes, of those that wrote any (a
# short window can miss collectd's cached RRD writes altogether).
BEST=""
for t in sadc collectd-csv collectd-rrd collectd-rrdcache; do
	[ "$(net "$t")" -gt 0 ] || continue
	if [ -z "$BEST" ] || [ "$(net "$t")" -lt "$(net "$BEST")" ]; then BEST=$t; fi
done

# grown TOOL: the growth of the files under tool's mount that changed in
# the window, summed per directory, largest first, and their total.
grown() {
	awk -v l="label=$1" '$1 == "file" && $3 == l {
		split($2, a, "="); split($4, z, "="); split($6, m, "="); p = substr($7, 6)
		if (a[2] == "start") { s[p] = z[2]; t[p] = m[2] } else { e[p] = z[2]; u[p] = m[2] }
	} END {
		for (p in e) {
			if (p in t && t[p] == u[p]) continue
			d = p; sub(/\/[^\/]*$/, "", d)
			g[d] += e[p] - s[p]; tot += e[p] - s[p]
		}
		n = 0
		for (d in g) { k[++n] = d }
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (g[k[j]] > g[k[i]]) { x = k[i]; k[i] = k[j]; k[j] = x }
		for (i = 1; i <= n; i++) printf "%s %d, ", k[i], g[k[i]]
		printf "total %d", tot
	}' "$TMP/raw"
}

what() {
	case $1 in
	idle) echo "nothing: an empty mount" ;;
	itiny-default) echo "default config (collectors every 10-60 s)" ;;
	itiny-default-sync) echo "the same, metrics sync = interval" ;;
	itiny-1s) echo "every collector at 1 s" ;;
	itiny-1s-sync) echo "the same, metrics sync = interval" ;;
	sadc) echo "sadc, 1 s, default activities" ;;
	collectd-csv) echo "collectd, 1 s, CSV" ;;
	collectd-rrd) echo "collectd, 1 s, RRD (defaults: no cache)" ;;
	collectd-rrdcache) echo "collectd, 1 s, RRD, CacheTimeout 120" ;;
	itiny-events) echo "$RATE events/s, collectors off" ;;
	itiny-events-nosync) echo "the same, events stream sync = none" ;;
	journal) echo "the same $RATE events/s, systemd-journal-remote" ;;
	esac
}
# ratio TOOL: net bytes per day against its reference (samples: the best
# peer at 1 s; events: the journal).
ratio() {
	case $1 in
	idle) echo "" ;;
	itiny-events | itiny-events-nosync | journal) r=journal ;;
	*) r=$BEST ;;
	esac
	[ -n "${r:-}" ] && awk -v a="$(net "$1")" -v b="$(net "$r")" 'BEGIN { if (b > 0) printf "%.3f×", a / b; else print "–" }'
}

{
	echo "## Bytes written to the block device: itiny against sadc, collectd and journald"
	echo
	echo "Command: \`DURATION=$DURATION WARMUP=$WARMUP RATE=$RATE bench/flashwrite.sh\`"
	echo "($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sr), itiny $(cd "$ROOT" && git rev-parse --short HEAD), $(grep '^# sysstat' "$TMP/raw" | sed 's/^# //')."
	echo "All side by side in one ${WINDOW} s window after ${WARMUP} s of warm-up, each on its own $IMG ext4 image on a loop device, mounted with the defaults ($(awk -v m="$M/idle" '$2 == m { print $4 }' /proc/mounts), journal commit every 5 s; vm.dirty_expire_centisecs $(cat /proc/sys/vm/dirty_expire_centisecs)); each mount synced at both ends of the window."
	echo "Bytes: sectors the kernel wrote to the loop device × 512 (/sys/block/loopN/stat), so the file system's journal and metadata count; per day: × 86400 / window."
	echo
	echo "| tool | what it stores | bytes in window | write requests | per day (MB) | per day, less the idle mount (MB) | × reference | the process's write_bytes (MB/day) | ext4 journal commits |"
	echo "|---|---|--:|--:|--:|--:|--:|--:|--:|"
	for t in $TOOLS; do
		b=$(col "$t" 2)
		pw="–"
		[ "$t" = idle ] || pw=$(mb "$(perday "$(col "$t" 4)")")
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(what "$t")" "$b" "$(col "$t" 3)" \
			"$(mb "$(perday "$b")")" "$(mb "$(net "$t")")" "$(ratio "$t")" "$pw" "$(col "$t" 5)"
	done
	echo
	echo "- × reference: per day less the idle mount, against the best peer at 1 s for samples ($BEST here), against systemd-journal-remote for events."
	echo "- The process's write_bytes: /proc/PID/io, the bytes of page cache the process dirtied (what it asked for; the rest of the device's bytes are the file system's journal and metadata); ext4 journal commits: transactions in /proc/fs/jbd2/loopN-8/info over the window."
	echo "- Events: itiny-events and journal, $(sed -n 's/^loadgen //p' "$TMP/run/loadgen.log" | head -n 1); itiny-events-nosync, $(sed -n 's/^loadgen //p' "$TMP/run/loadgen-nosync.log" | head -n 1) (over warm-up, window and after); entries in the journal files: $(sed -n 's/^== journal entries: //p' "$TMP/raw")."
	for c in $AGENTS; do
		t=itiny-$c
		echo "- $t, what its files grew by in the window (bytes, per directory; a file rewritten in place counts its growth only): $(grown "$t")."
	done
	echo "- Load average: $(grep -E '^load ' "$TMP/raw" | sed 's/ [0-9]*\/[0-9]* [0-9]*$//' | tr '\n' ';' | sed 's/;$//; s/;/; /g')."
	echo
	echo "Goals:"
	a=$(net itiny-1s)
	b=$(net "$BEST")
	echo "- (a) itiny at 1 s ≤ ¼ of the best peer's bytes a day: $(mb "$a") MB against $BEST's $(mb "$b") MB ($(ratio itiny-1s)): **$(awk -v a="$a" -v b="$b" 'BEGIN { print (a * 4 <= b) ? "met" : "missed" }')**."
	d=$(net itiny-default)
	echo "- (b) itiny's default config ≤ 50 MB a day: $(mb "$d") MB: **$(awk -v d="$d" 'BEGIN { print (d <= 50e6) ? "met" : "missed" }')**."
} >"$TMP/md"
cp "$TMP/md" "$MD"
cat "$MD"
