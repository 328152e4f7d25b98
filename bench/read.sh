#!/bin/sh
# read.sh measures itiny-read, the field engineer's reader (issue 4, point
# 10), against journalctl over the same records, in one run:
#
#   1. bench/read/genring writes N (default 1,000,000) of the agent's
#      metrics records (12 a sample, the shape of
#      pack/testdata/metrics.records, numbers varying) one sample every
#      INTERVAL (default 24s: 23 days), into a MessagePack ring (as a
#      continuous stream writes it), a packed ring (Pack and MemoryStage,
#      flushed every FLUSH of record time, default 60s: the agent's
#      periodic metrics stream), a JSON ring (JSON_RING=0 leaves it out),
#      all with 256 KiB segments, and into the journal export format;
#   2. systemd-journal-remote (Debian's, installed with apt-get if missing)
#      turns the export into journal files, rotating as it does by default;
#   3. RUNS (default 3) rounds, each timing every reader once with its
#      output to /dev/null: `itiny-read -o json RING` for each ring and
#      `journalctl --file 'DIR/*.journal' -o json --no-pager`. Records/s is
#      N / wall seconds of the best run; CPU is the child's user+sys time
#      (bench/read/timeit). One more run of each, untimed, counts its
#      output lines, which must be N;
#   4. the same for 1-hour windows (--since/--until) at three places in the
#      ring: a day in (a quarter in, if it spans under 4 days), the
#      middle, and the last full hour;
#   5. where the time goes (PROFILE=0 skips it): `go test -bench=DumpJSON
#      -cpuprofile` in ./view with `go tool pprof -top`, and, when perf
#      works, perf over an unstripped itiny-read dumping each MessagePack
#      ring (plain and packed).
#
# The rings and journal files are read from the page cache (just written,
# and read RUNS times), alike for both readers. itiny-read is built from
# the working tree with -trimpath -ldflags='-s -w', or from the git
# revision REV (e.g. REV=HEAD) when set, the helpers beside it. Binds no
# socket: systemd-journal-remote reads the export on its standard input.
# Raw figures go to bench/out/read.txt, the table to stdout and
# bench/out/read.md. The data (about 1.5 GB for 1M records) stays in a
# temp directory, removed at the end; KEEP=1 keeps it.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-1000000}
INTERVAL=${INTERVAL:-24s}
FLUSH=${FLUSH:-60s}
RUNS=${RUNS:-3}
JSON_RING=${JSON_RING:-1}
PROFILE=${PROFILE:-1}
REV=${REV:-}
OUT=$ROOT/bench/out
RAW=$OUT/read.txt
MD=$OUT/read.md
JREMOTE=/lib/systemd/systemd-journal-remote
TMP=$(mktemp -d "${TMPDIR:-/tmp}/itiny-read.XXXXXX")
BIN=$TMP/bin
export TZ=UTC # both readers parse --since/--until in UTC

PIDS=""
. "$ROOT/bench/lib.sh"

# get FILE PREFIX KEY: the value of KEY=... on the first line starting PREFIX.
get() {
	awk -v p="$2" -v k="$3" '$1 == p { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) { print a[2]; exit } } }' "$1"
}

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

mkdir -p "$OUT" "$BIN"

# --- peers ---------------------------------------------------------------
if [ ! -x "$JREMOTE" ]; then
	log "installing systemd-journal-remote"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-journal-remote >&2
fi
command -v journalctl >/dev/null || { log "read.sh: journalctl not found"; exit 1; }

# --- build ---------------------------------------------------------------
SRC=$ROOT
if [ -n "$REV" ]; then
	SRC=$TMP/src
	mkdir -p "$SRC"
	(cd "$ROOT" && git archive "$REV") | tar -x -C "$SRC"
	[ -d "$SRC/bench/read" ] || cp -R "$ROOT/bench/read" "$SRC/bench/"
fi
log "building"
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/itiny-read" ./cmd/itiny-read)
(cd "$SRC/bench" && CGO_ENABLED=0 go build -trimpath -o "$BIN/" ./read/genring ./read/timeit)
READ=$BIN/itiny-read
TIMEIT=$BIN/timeit

{
	echo "# bench/read.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "# machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr), $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release), $(go version | cut -d' ' -f3), temp dir on $(df -T "$TMP" | awk 'NR == 2 { print $2 }')"
	echo "# source: ${REV:-working tree} at $(cd "$ROOT" && git rev-parse --short HEAD)$( [ -z "$REV" ] && [ -n "$(cd "$ROOT" && git status --porcelain -- codec ringlog pack view cmd/itiny-read)" ] && echo ' (with uncommitted changes)')"
	echo "# itiny-read: $(wc -c <"$READ") bytes; $("$JREMOTE" --version | head -1); journalctl $(journalctl --version | head -1)"
	echo "# N=$N INTERVAL=$INTERVAL FLUSH=$FLUSH RUNS=$RUNS"
} >"$RAW"

# --- data ----------------------------------------------------------------
log "generating $N records"
set -- -records "$SRC/pack/testdata/metrics.records" -n "$N" -interval "$INTERVAL" -flush "$FLUSH" \
	-plain "$TMP/plain/metrics" -packed "$TMP/packed/metrics" -export "$TMP/export.txt"
[ "$JSON_RING" = 1 ] && set -- "$@" -json "$TMP/json/metrics"
"$BIN/genring" "$@" >"$TMP/gen.txt"
sync # no writeback of the new files during the timed runs
cat "$TMP/gen.txt" >>"$RAW"

log "systemd-journal-remote"
mkdir -p "$TMP/journal"
t0=$(now)
"$JREMOTE" --split-mode=none -o "$TMP/journal/metrics.journal" - <"$TMP/export.txt" 2>"$TMP/jremote.err"
t1=$(now)
[ "${KEEP:-0}" = 1 ] || rm -f "$TMP/export.txt"
sync
jentries=$(sed -n 's/.*after writing \([0-9]*\) entries.*/\1/p' "$TMP/jremote.err")
if [ "$jentries" != "$N" ]; then
	log "read.sh: systemd-journal-remote wrote ${jentries:-?} entries, not $N:"
	cat "$TMP/jremote.err" >&2
	exit 1
fi
jfiles=$(find "$TMP/journal" -name '*.journal' | wc -l)
jbytes=$(cat "$TMP/journal"/*.journal | wc -c)
echo "journal files=$jfiles bytes=$jbytes bytes_per_record=$(awk -v b="$jbytes" -v n="$N" 'BEGIN { printf "%.1f", b / n }') ingest_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" >>"$RAW"
JGLOB="$TMP/journal/*.journal" # a pattern: journalctl --file expands it

VARIANTS="plain packed"
[ "$JSON_RING" = 1 ] && VARIANTS="$VARIANTS json"

# --- full dumps ----------------------------------------------------------
# time LABEL RECORDS ROUND COMMAND...: one timed run into the raw output.
time1() {
	label=$1 recs=$2 round=$3
	shift 3
	"$TIMEIT" -n 1 -label "$label" -records "$recs" -- "$@" | sed -n "/^run /s/ i=1 / i=$round /p" >>"$RAW"
}
# check LABEL COMMAND...: one untimed run counting the output's lines.
check() {
	label=$1
	shift
	"$TIMEIT" -n 0 -check -label "$label" -- "$@" >>"$RAW"
}

echo "# load before: $(cat /proc/loadavg)" >>"$RAW"
log "full dumps: $RUNS rounds"
r=1
while [ "$r" -le "$RUNS" ]; do
	for v in $VARIANTS; do
		time1 "dump-$v" "$N" "$r" "$READ" -o json "$TMP/$v/metrics"
	done
	time1 dump-journal "$N" "$r" journalctl --file "$JGLOB" -o json --no-pager
	r=$((r + 1))
done
for v in $VARIANTS; do
	check "dump-$v" "$READ" -o json "$TMP/$v/metrics"
done
check dump-journal journalctl --file "$JGLOB" -o json --no-pager

# --- 1-hour windows ------------------------------------------------------
first=$(get "$TMP/gen.txt" gen first_unix)
last=$(get "$TMP/gen.txt" gen last_unix)
hour() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S'; }
# wstart NAME: the start of a window, in seconds since the epoch.
wstart() {
	case $1 in
	early) # a day in (a quarter of the span in a ring of under 4 days)
		d=$(((last - first) / 4))
		[ "$d" -le 86400 ] || d=86400
		echo $(((first + d) / 3600 * 3600))
		;;
	middle) echo $((((first + last) / 2) / 3600 * 3600)) ;; # the middle hour
	last) echo $(((last / 3600 - 1) * 3600)) ;;             # the last full hour
	esac
}
WINDOWS="early middle last"
log "1-hour windows: $RUNS rounds"
r=1
while [ "$r" -le "$RUNS" ]; do
	for w in $WINDOWS; do
		t=$(wstart "$w")
		s=$(hour "$t") u=$(hour $((t + 3600)))
		for v in $VARIANTS; do
			time1 "win-$w-$v" 0 "$r" "$READ" -o json --utc --since "$s" --until "$u" "$TMP/$v/metrics"
		done
		time1 "win-$w-journal" 0 "$r" journalctl --file "$JGLOB" -o json --no-pager --since "$s UTC" --until "$u UTC"
	done
	r=$((r + 1))
done
for w in $WINDOWS; do
	t=$(wstart "$w")
	s=$(hour "$t") u=$(hour $((t + 3600)))
	echo "window name=$w since=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ) until=$(date -u -d "@$((t + 3600))" +%Y-%m-%dT%H:%M:%SZ)" >>"$RAW"
	for v in $VARIANTS; do
		check "win-$w-$v" "$READ" -o json --utc --since "$s" --until "$u" "$TMP/$v/metrics"
	done
	check "win-$w-journal" journalctl --file "$JGLOB" -o json --no-pager --since "$s UTC" --until "$u UTC"
done
echo "# load after: $(cat /proc/loadavg)" >>"$RAW"

# --- where the time goes -------------------------------------------------
if [ "$PROFILE" = 1 ]; then
	log "profiles"
	for v in plain packed; do
		{
			echo "# profile: cd ${REV:+REV=$REV }. && go test -run=NONE -bench='DumpJSON/$v\$' -cpuprofile view-$v.prof ./view; go tool pprof -top -nodecount=25 -ignore=benchRing view-$v.prof"
			(cd "$SRC" && go test -run=NONE -bench="DumpJSON/$v\$" -count=1 -cpuprofile "$TMP/view-$v.prof" -o "$TMP/view.test" ./view) | grep '^Benchmark' || true
			go tool pprof -top -nodecount=25 -ignore=benchRing "$TMP/view-$v.prof" 2>/dev/null
		} >>"$RAW"
	done
	if perf record -q -o "$TMP/perf.probe" -- true >/dev/null 2>&1; then
		(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -o "$BIN/itiny-read-sym" ./cmd/itiny-read)
		for v in plain packed; do
			echo "# profile: perf record -F 4000 over itiny-read (unstripped) -o json on the $v ring; perf report --no-children --sort symbol" >>"$RAW"
			perf record -q -F 4000 -o "$TMP/perf-$v.data" -- "$BIN/itiny-read-sym" -o json "$TMP/$v/metrics" >/dev/null 2>&1
			perf report -i "$TMP/perf-$v.data" --stdio --no-children --sort symbol -g none 2>/dev/null |
				grep '%' | grep -v '^#' | sed 's/[ -]*$//' | head -25 >>"$RAW"
		done
	fi
fi

# --- table ---------------------------------------------------------------
awk -v n="$N" -v runs="$RUNS" -v variants="$VARIANTS" -v windows="$WINDOWS" '
function kv(line, key,   i, a) {
	for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == key) return a[2] }
	return ""
}
function commas(x,   s, r) {
	s = sprintf("%.0f", x); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}
function mb(b) { return sprintf("%.1f MB", b / 1e6) }
/^# load before:/ { loadb = $4 " " $5 " " $6 }
/^# load after:/ { loada = $4 " " $5 " " $6 }
$1 == "gen" { span = kv($0, "span_h"); interval = kv($0, "interval") }
$1 == "ring" { name = kv($0, "name"); segs[name] = kv($0, "segments"); bytes[name] = kv($0, "bytes") }
$1 == "journal" { jfiles = kv($0, "files"); bytes["journal"] = kv($0, "bytes") }
$1 == "run" {
	l = kv($0, "label"); w = kv($0, "wall_s")
	if (!(l in best) || w < best[l]) { best[l] = w; cpu[l] = kv($0, "cpu_s") }
	if (!(l in worst) || w > worst[l]) worst[l] = w
}
$1 == "check" { lines[kv($0, "label")] = kv($0, "lines"); outb[kv($0, "label")] = kv($0, "bytes") }
END {
	desc["plain"] = "MessagePack ring"
	desc["packed"] = "packed MessagePack ring (periodic)"
	desc["json"] = "JSON ring"
	jrate = n / best["dump-journal"]
	printf "Full dump, %s records (%.1f days, a sample of 12 every %s), output to /dev/null; best of %d, load %s before, %s after.\n\n", commas(n), span / 24, interval, runs, loadb, loada
	print "| reader | input | on disk | output lines | wall s, best (slowest) | records/s | user+sys s | × journalctl | goal |"
	print "|---|---|--:|--:|--:|--:|--:|--:|---|"
	nv = split(variants, vs, " ")
	for (i = 1; i <= nv; i++) {
		v = vs[i]; l = "dump-" v
		rate = n / best[l]; x = rate / jrate
		goal = ""
		if (v != "json") {
			goal = "≥ 1,000,000/s: " (rate >= 1e6 ? "met" : "**missed**") "; ≥ 10×: " (x >= 10 ? "met" : "**missed**")
		}
		printf "| `itiny-read -o json` | %s, %d segments | %s | %s | %.3f (%.3f) | %s | %.3f | **%.2f×** | %s |\n", desc[v], segs[v], mb(bytes[v]), commas(lines[l]), best[l], worst[l], commas(rate), cpu[l], x, goal
	}
	printf "| `journalctl -o json --no-pager` | journal, %d file%s (systemd-journal-remote) | %s | %s | %.3f (%.3f) | %s | %.3f | 1.00× | |\n\n", jfiles, (jfiles == 1 ? "" : "s"), mb(bytes["journal"]), commas(lines["dump-journal"]), best["dump-journal"], worst["dump-journal"], commas(jrate), cpu["dump-journal"]
	print "1-hour windows (`--since T --until T+1h`), wall ms, best of " runs " (CPU ms in bench/out/read.txt):\n"
	printf "| window | records |"
	for (i = 1; i <= nv; i++) printf " itiny-read, %s |", desc[vs[i]]
	print " journalctl |"
	printf "|---|--:|"
	for (i = 1; i <= nv; i++) printf "--:|"
	print "--:|"
	nw = split(windows, ws, " ")
	wname["early"] = "a day in"; wname["middle"] = "middle of the ring"; wname["last"] = "last full hour"
	for (i = 1; i <= nw; i++) {
		w = ws[i]
		printf "| %s | %s |", wname[w], commas(lines["win-" w "-journal"])
		for (j = 1; j <= nv; j++) printf " %.1f |", best["win-" w "-" vs[j]] * 1000
		printf " %.1f |\n", best["win-" w "-journal"] * 1000
	}
}' "$RAW" | tee "$MD"

# Every reader must have printed every record, and both readers the same
# records in each window.
awk -v n="$N" '
$1 == "check" {
	for (i = 2; i <= NF; i++) { split($i, a, "="); f[a[1]] = a[2] }
	l = f["label"]
	if (l ~ /^dump-/ && f["lines"] != n) { printf "read.sh: %s printed %s lines, want %s\n", l, f["lines"], n; bad = 1 }
	if (l ~ /^win-/) {
		w = l; sub(/-[a-z]+$/, "", w)
		if (f["lines"] == 0) { printf "read.sh: %s printed nothing\n", l; bad = 1 }
		if (w in seen && seen[w] != f["lines"]) { printf "read.sh: %s printed %s lines, %s\n", l, f["lines"], seen[w]; bad = 1 }
		seen[w] = f["lines"]
	}
}
END { exit bad }' "$RAW" >&2
