#!/usr/bin/env bash
# migrate.sh measures itiny-migrate's publishing rate into NATS JetStream
# against the raw async-publish rate the same nats-server accepts from a
# minimal publisher (issue 5, point 8; goal: at least 80% of it), in one
# run:
#
#   1. bench/read/genring writes N (default 500,000) of the agent's metrics
#      records (12 a sample, the shape of pack/testdata/metrics.records,
#      numbers varying) into a ring in a temp directory: RING=packed (the
#      default: Pack and MemoryStage, as the agent's periodic metrics
#      stream writes it) or RING=plain (a MessagePack ring as a continuous
#      stream writes it). Both hold the same records; what is sent is
#      each record's MessagePack bytes either way.
#   2. For each server in SERVERS (default "debian go"), one at a time, one
#      process: `nats-server -a 127.0.0.1 -p PORT -js -sd DIR`, where
#      debian is /usr/sbin/nats-server (2.9.10) and go is nats-server
#      v2.15.2 (the version the tests embed) built from the Go module
#      proxy through bench/go.mod. Each is stopped by its PID at the end
#      of its part, and on any exit.
#   3. ROUNDS (default 3) rounds against it, each with a fresh stream per
#      run (the one before deleted): bench/migrate/rawpub, the minimal
#      publisher (the ring's payloads in memory, PublishMsgAsync with a
#      Nats-Msg-Id each, at most WINDOW pending, default 8192 as
#      itiny-migrate's default --window, waiting for every ack); then
#      `itiny-migrate --to nats://127.0.0.1:PORT --scope bench --checkpoint
#      CP --progress never RING`, whose per-stream line "sent N ... in T
#      (R messages/s)" gives the publishing rate, and whose wall time
#      (planning and verification included) is reported apart; then
#      `itiny-migrate --verify-only` on the same stream, whose CPU
#      (planning and verification alone), taken from the whole run's,
#      leaves the publishing phase's. With DIAG=1 (the default) three
#      more rawpub runs per round tell where a difference comes from: the
#      same publisher carrying itiny-migrate's Itiny-* headers too (six
#      headers), the same bytes in one header beside the
#      Nats-Msg-Id (bytes against number of headers), and the six
#      headers again waiting for every ack after each WINDOW messages as
#      itiny-migrate's windows do. VARIANTS="NAME=OVERLAY.json ..." adds,
#      per round, itiny-migrate built with `go build -overlay
#      OVERLAY.json` (a changed copy of some of its files, the tree left
#      as it is), to measure a change before making it.
#   4. SWEEP (default "2048 8192 32768"; empty skips it): per value W, one
#      rawpub run with W pending and one itiny-migrate --window W.
#   5. PROFILE=1 (the default): on the first server, one more itiny-migrate
#      run and its --verify-only run, built with a CPU profile hook
#      (bench/migrate/profhook, compiled in through go build -overlay: the
#      source is not changed), and rawpub runs with -cpuprofile; `go tool
#      pprof -top` of the whole run, of its publishing phase (the run's
#      profile less the --verify-only run's, pprof -base), the CPU of each
#      part of that phase, and rawpub's, to bench/out/migrate.txt.
#
# Server and client CPU seconds are read per run (/proc/PID/stat of the
# server; rawpub's own rusage over its timed part; itiny-migrate's
# user+sys as a whole). Every process the script starts is stopped by its
# PID. Raw figures go to bench/out/migrate.txt, the table to stdout and
# bench/out/migrate.md. The ring and stores stay in a temp directory,
# removed at the end; KEEP=1 keeps it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-500000}
ROUNDS=${ROUNDS:-3}
RING=${RING:-packed}
WINDOW=${WINDOW:-8192}
SWEEP=${SWEEP-2048 8192 32768}
SERVERS=${SERVERS:-debian go}
DIAG=${DIAG:-1}
VARIANTS=${VARIANTS:-}
PROFILE=${PROFILE:-1}
DEBIAN_SERVER=/usr/sbin/nats-server
OUT=$ROOT/bench/out
RAW=$OUT/migrate.txt
MD=$OUT/migrate.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/itiny-migrate-bench.XXXXXX")
BIN=$TMP/bin
SPID= # the nats-server running, if any

log() { echo "$*" >&2; }

stop_server() {
	if [ -n "$SPID" ]; then
		kill "$SPID" 2>/dev/null || true
		wait "$SPID" 2>/dev/null || true
		SPID=
	fi
}
cleanup() {
	stop_server
	if [ "${KEEP:-0}" = 1 ]; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $RING in
plain | packed) ;;
*)
	log "migrate.sh: RING=$RING: plain or packed"
	exit 2
	;;
esac
[ -x "$DEBIAN_SERVER" ] || case " $SERVERS " in *" debian "*)
	log "migrate.sh: $DEBIAN_SERVER not found (apt-get install nats-server), or set SERVERS=go"
	exit 1
	;;
esac

mkdir -p "$OUT" "$BIN"

# --- build ---------------------------------------------------------------
log "building"
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$BIN/itiny-migrate" ./cmd/itiny-migrate)
(cd "$ROOT/bench" && CGO_ENABLED=0 go build -trimpath -o "$BIN/" ./read/genring ./migrate/rawpub ./migrate/jsctl)
case " $SERVERS " in *" go "*)
	(cd "$ROOT/bench" && CGO_ENABLED=0 go build -trimpath -o "$BIN/nats-server-go" github.com/nats-io/nats-server/v2)
	;;
esac
if [ "$PROFILE" = 1 ]; then
	# The same command with a main that writes a CPU profile: a copy of
	# main.go whose main is renamed, and the hook, laid over the tree.
	mkdir -p "$TMP/overlay"
	sed 's/^func main() {$/func itinyMain() {/' "$ROOT/cmd/itiny-migrate/main.go" >"$TMP/overlay/main.go"
	grep -q '^func itinyMain() {$' "$TMP/overlay/main.go"
	printf '{"Replace": {"%s": "%s", "%s": "%s"}}\n' \
		"$ROOT/cmd/itiny-migrate/main.go" "$TMP/overlay/main.go" \
		"$ROOT/cmd/itiny-migrate/zz_profhook.go" "$ROOT/bench/migrate/profhook/profhook.go" >"$TMP/overlay/overlay.json"
	(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -tags itinyprofhook -overlay "$TMP/overlay/overlay.json" \
		-o "$BIN/itiny-migrate-prof" ./cmd/itiny-migrate)
fi
VNAMES=
for v in $VARIANTS; do
	name=${v%%=*} ov=${v#*=}
	case $name in '' | *[!a-z0-9]*)
		log "migrate.sh: VARIANTS: $v: NAME=OVERLAY.json, NAME of lower-case letters and digits"
		exit 2
		;;
	esac
	(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -overlay "$(cd "$(dirname "$ov")" && pwd)/$(basename "$ov")" \
		-o "$BIN/itiny-migrate-$name" ./cmd/itiny-migrate)
	VNAMES="$VNAMES $name"
done
MIGRATE=$BIN/itiny-migrate
RAWPUB=$BIN/rawpub
JSCTL=$BIN/jsctl

server_bin() {
	case $1 in
	debian) echo "$DEBIAN_SERVER" ;;
	go) echo "$BIN/nats-server-go" ;;
	esac
}

CLK_TCK=$(getconf CLK_TCK)
# server_cpu: the running server's user+sys seconds so far.
server_cpu() {
	awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$SPID/stat"
}
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# free_port: a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p
	for p in $(seq 14222 14421); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	log "migrate.sh: no free port in 14222-14421"
	return 1
}

{
	echo "# bench/migrate.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "# machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr), $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release), $(go version | cut -d' ' -f3), temp dir on $(df -T "$TMP" | awk 'NR == 2 { print $2 }')"
	echo "# source: working tree at $(cd "$ROOT" && git rev-parse --short HEAD)$( [ -n "$(cd "$ROOT" && git status --porcelain -- cmd/itiny-migrate migrate view ringlog codec pack)" ] && echo ' (with uncommitted changes)')"
	echo "# itiny-migrate: $(wc -c <"$MIGRATE") bytes"
	echo "# N=$N ROUNDS=$ROUNDS RING=$RING WINDOW=$WINDOW SWEEP=\"$SWEEP\" SERVERS=\"$SERVERS\" DIAG=$DIAG PROFILE=$PROFILE VARIANTS=\"$VARIANTS\""
	for v in $VARIANTS; do
		echo "# variant ${v%%=*}: go build -overlay ${v#*=}: $(tr -d '\n' <"${v#*=}")"
	done
} >"$RAW"

# --- data ----------------------------------------------------------------
log "generating $N records ($RING ring)"
RINGDIR=$TMP/data/metrics
"$BIN/genring" -records "$ROOT/pack/testdata/metrics.records" -n "$N" "-$RING" "$RINGDIR" >>"$RAW"
sync

# --- runs ----------------------------------------------------------------
# raw SERVER ROUND KIND WINDOW [RAWPUB FLAGS...]: one rawpub run into a
# fresh stream, deleted afterwards.
raw() {
	local srv=$1 round=$2 kind=$3 win=$4 stream c0 c1 line
	shift 4
	stream=RAW_$round
	c0=$(server_cpu)
	line=$("$RAWPUB" -url "$URL" -stream "$stream" -subject "raw.bench.metrics" -ring "$RINGDIR" -window "$win" -label "$kind" "$@")
	c1=$(server_cpu)
	"$JSCTL" -url "$URL" delete "$stream"
	echo "$line" >>"$TMP/runs/$srv.$round.$kind"
	echo "run server=$srv round=$round kind=$kind window=$win server_cpu_s=$(minus "$c0" "$c1") ${line#rawpub }" >>"$RAW"
}

# mig SERVER ROUND KIND WINDOW [BINARY [PROFILE]]: one itiny-migrate run
# (or BINARY's, writing a CPU profile to PROFILE) into a fresh stream
# (ITINY_METRICS, the default name) with a fresh checkpoint; for KIND
# migrate and migrate-*, a --verify-only run of it too (its profile to
# PROFILE.vo); the stream deleted afterwards.
mig() {
	local srv=$1 round=$2 kind=$3 win=$4 bin=${5:-$MIGRATE} prof=${6:-} out c0 c1 t sent rate elapsed vo
	local env1=() env2=()
	if [ -n "$prof" ]; then
		env1=("ITINY_MIGRATE_CPUPROFILE=$prof") env2=("ITINY_MIGRATE_CPUPROFILE=$prof.vo")
	fi
	out=$TMP/runs/$srv.$round.$kind
	rm -f "$TMP/checkpoint"
	c0=$(server_cpu)
	TIMEFORMAT='wall_s=%3R user_s=%3U sys_s=%3S'
	{ time env "${env1[@]}" "$bin" --to "$URL" --scope bench --checkpoint "$TMP/checkpoint" --progress never \
		--window "$win" "$RINGDIR" >"$out" 2>&1; } 2>"$out.time" || {
		log "migrate.sh: itiny-migrate failed:"
		cat "$out" >&2
		exit 1
	}
	c1=$(server_cpu)
	vo=
	case $kind in migrate | migrate-*)
		# The same planning and verification alone: the difference is the
		# publishing phase's CPU.
		{ time env "${env2[@]}" "$bin" --to "$URL" --scope bench --checkpoint "$TMP/checkpoint" --verify-only \
			"$RINGDIR" >"$out.vo" 2>&1; } 2>"$out.vo.time" || {
			log "migrate.sh: itiny-migrate --verify-only failed:"
			cat "$out.vo" >&2
			exit 1
		}
		vo="$(sed 's/\([a-z_]*=\)/vo_\1/g' "$out.vo.time") vo_server_cpu_s=$(minus "$c1" "$(server_cpu)")"
		;;
	esac
	"$JSCTL" -url "$URL" delete ITINY_METRICS
	# "metrics    sent 500000, skipped 0 below the checkpoint, 0 found stored after it, in 3.2s (156000 messages/s)"
	sent=$(sed -n 's/^metrics  *sent \([0-9]*\),.*/\1/p' "$out")
	elapsed=$(sed -n 's/^metrics  *sent .*, in \([^ ]*\) (.*/\1/p' "$out")
	rate=$(sed -n 's/^metrics  *sent .* (\([0-9]*\) messages\/s)$/\1/p' "$out")
	if [ "$sent" != "$N" ] || [ -z "$rate" ] || ! grep -q '^metrics  *ok ' "$out"; then
		log "migrate.sh: itiny-migrate sent ${sent:-?} of $N, or did not verify:"
		cat "$out" >&2
		exit 1
	fi
	t=$(cat "$out.time")
	echo "run server=$srv round=$round kind=$kind window=$win server_cpu_s=$(minus "$c0" "$c1") msgs=$sent rate=$rate publish=$elapsed $t${vo:+ $vo}" >>"$RAW"
}

mkdir -p "$TMP/runs"
first=1
for srv in $SERVERS; do
	sbin=$(server_bin "$srv")
	PORT=$(free_port)
	URL=nats://127.0.0.1:$PORT
	rm -rf "$TMP/store"
	mkdir -p "$TMP/store"
	log "$srv: $("$sbin" --version) on 127.0.0.1:$PORT"
	"$sbin" -a 127.0.0.1 -p "$PORT" -js -sd "$TMP/store" >"$TMP/server-$srv.log" 2>&1 &
	SPID=$!
	"$JSCTL" -url "$URL" wait
	if command -v ss >/dev/null; then
		# Every socket the server listens on is on 127.0.0.1.
		if ss -Hltnp | grep "pid=$SPID," | awk '{ print $4 }' | grep -qv '^127\.0\.0\.1:'; then
			log "migrate.sh: nats-server listens beyond 127.0.0.1:"
			ss -Hltnp | grep "pid=$SPID," >&2
			exit 1
		fi
	fi
	{
		echo "server name=$srv version=$("$sbin" --version | awk '{ print $2 }') pid=$SPID port=$PORT"
		echo "# load before $srv: $(cat /proc/loadavg)"
	} >>"$RAW"
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		log "$srv: round $r of $ROUNDS"
		raw "$srv" "$r" raw "$WINDOW"
		mig "$srv" "$r" migrate "$WINDOW"
		for v in $VNAMES; do
			mig "$srv" "$r" "migrate-$v" "$WINDOW" "$BIN/itiny-migrate-$v"
		done
		if [ "$DIAG" = 1 ]; then
			raw "$srv" "$r" raw-hdr "$WINDOW" -headers itiny
			raw "$srv" "$r" raw-hdr1 "$WINDOW" -headers itiny1
			raw "$srv" "$r" raw-hdr-drain "$WINDOW" -headers itiny -drain
		fi
		r=$((r + 1))
	done
	echo "# load after $srv: $(cat /proc/loadavg)" >>"$RAW"
	for w in $SWEEP; do
		log "$srv: window $w"
		raw "$srv" "w$w" sweep-raw "$w"
		mig "$srv" "w$w" sweep-migrate "$w"
	done
	if [ "$PROFILE" = 1 ] && [ "$first" = 1 ]; then
		log "$srv: profiles"
		mig "$srv" prof migrate-prof "$WINDOW" "$BIN/itiny-migrate-prof" "$TMP/migrate.prof"
		raw "$srv" prof raw-prof "$WINDOW" -cpuprofile "$TMP/rawpub.prof"
		raw "$srv" prof raw-hdr-prof "$WINDOW" -headers itiny -cpuprofile "$TMP/rawpub-hdr.prof"
	fi
	echo "server_log name=$srv warnings_or_errors=$(grep -ci 'error\|warn' "$TMP/server-$srv.log" || true)" >>"$RAW"
	stop_server
	first=0
done

if [ "$PROFILE" = 1 ]; then
	{
		echo "# profile: itiny-migrate, whole run (plan + publish + verify): go tool pprof -top -nodecount=30"
		go tool pprof -top -nodecount=30 "$TMP/migrate.prof" 2>/dev/null
		echo "# profile: itiny-migrate, publishing phase (the whole run less its --verify-only run): go tool pprof -top -cum -nodecount=60 -base VO RUN"
		go tool pprof -top -cum -nodecount=60 -base "$TMP/migrate.prof.vo" "$TMP/migrate.prof" 2>/dev/null
		echo "# profile: itiny-migrate, publishing phase by part: go tool pprof -top -base VO -focus=REGEX RUN, its total"
		for ph in 'migrate\.Run$' 'view\.\(\*feeder\)\.run' 'codec\.Codec\.Decode' 'migrate\.\(\*RingPlan\)\.walk' \
			'migrate\.\(\*window\)\.put' 'migrate\.\(\*Message\)\.setID' 'migrate\.\(\*JetStream\)\.Publish$' \
			'migrate\.\(\*Message\)\.Headers' 'runtime\.makemap' 'jetstream\.\(\*jetStream\)\.PublishMsgAsync' \
			'nats%2ego\.\(\*Msg\)\.header(Bytes|Size)' 'jetstream\.\(\*pubAckFuture\)\.(Ok|Err)|runtime\.selectgo' \
			'jetstream\.\(\*jetStream\)\.handleAsyncReply' 'nats%2ego\.\(\*Conn\)\.readLoop' 'nats%2ego\.\(\*Conn\)\.flusher' \
			'runtime\.gcBgMarkWorker' 'runtime\.bgsweep' 'migrate\.\(\*saver\)'; do
			printf 'part %s %s\n' "$ph" "$(go tool pprof -top -base "$TMP/migrate.prof.vo" -focus="$ph" "$TMP/migrate.prof" 2>/dev/null |
				sed -n 's/^Showing nodes accounting for \([^,]*\), \([^ ]*\) of \(.*\) total$/cpu=\1 share=\2 of=\3/p')"
		done
		echo "# profile: rawpub, Nats-Msg-Id only (timed part): go tool pprof -top -nodecount=25"
		go tool pprof -top -nodecount=25 "$TMP/rawpub.prof" 2>/dev/null
		echo "# profile: rawpub with the Itiny-* headers (timed part): go tool pprof -top -cum -nodecount=40"
		go tool pprof -top -cum -nodecount=40 "$TMP/rawpub-hdr.prof" 2>/dev/null
	} >>"$RAW"
fi

# --- table ---------------------------------------------------------------
awk -v n="$N" -v rounds="$ROUNDS" -v ring="$RING" -v window="$WINDOW" -v sweep="$SWEEP" -v diag="$DIAG" -v variants="$VNAMES" \
	-v cmd="N=$N ROUNDS=$ROUNDS RING=$RING WINDOW=$WINDOW SWEEP=\"$SWEEP\" SERVERS=\"$SERVERS\"${VARIANTS:+ VARIANTS=\"$VARIANTS\"} bench/migrate.sh" '
function kv(key,   i, a) {
	for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == key) return a[2] }
	return ""
}
function commas(x,   s, r) {
	s = sprintf("%.0f", x); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}
# median of the k values v[1..k]
function median(v, k,   i, j, t) {
	for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
# med(SERVER, KIND, ARRAY): the median over the rounds of ARRAY[SERVER, round, KIND]
function med(s, k, a,   r, v) {
	for (r = 1; r <= rounds; r++) v[r] = a[s, r, k]
	return median(v, rounds)
}
/^# machine:/ { sub(/^# machine: /, ""); machine = $0 }
/^# source:/ { sub(/^# source: /, ""); source = $0 }
/^# load before/ { lb[substr($4, 1, length($4) - 1)] = $5 " " $6 " " $7 }
/^# load after/ { la[substr($4, 1, length($4) - 1)] = $5 " " $6 " " $7 }
$1 == "gen" { span = kv("span_h") }
$1 == "ring" { rbytes = kv("bytes"); rsegs = kv("segments") }
$1 == "server" { s = kv("name"); ns++; srv[ns] = s; ver[s] = kv("version") }
$1 == "run" {
	s = kv("server"); r = kv("round"); k = kv("kind"); key = s SUBSEP r SUBSEP k
	rate[key] = kv("rate"); scpu[key] = kv("server_cpu_s") / n * 1e6
	if (k ~ /migrate/) {
		ccpu[key] = (kv("user_s") + kv("sys_s")) / n * 1e6; wall[key] = kv("wall_s")
		if (kv("vo_wall_s") != "") {
			k2 = s SUBSEP r SUBSEP k "/pub"
			ccpu[k2] = ccpu[key] - (kv("vo_user_s") + kv("vo_sys_s")) / n * 1e6
			scpu[k2] = scpu[key] - kv("vo_server_cpu_s") / n * 1e6
			vowall[key] = kv("vo_wall_s")
		}
	} else {
		ccpu[key] = kv("cpu_s") / n * 1e6; pbytes = kv("payload_bytes"); hb[k] = kv("header_bytes_each")
	}
	if (r == 1) seen[k] = 1
}
END {
	name["raw"] = "raw: Nats-Msg-Id"
	name["raw-hdr"] = "raw + the six Itiny-* headers"
	name["raw-hdr1"] = "raw + the same bytes in one header"
	name["raw-hdr-drain"] = "raw + the six headers, each window drained"
	name["migrate"] = "itiny-migrate"
	nv = split(variants, vs, " ")
	for (j = 1; j <= nv; j++) name["migrate-" vs[j]] = "itiny-migrate, variant " vs[j]
	# the columns after raw and migrate
	ncol = 0
	for (j = 1; j <= nv; j++) col[++ncol] = "migrate-" vs[j]
	if (diag) { col[++ncol] = "raw-hdr"; col[++ncol] = "raw-hdr1"; col[++ncol] = "raw-hdr-drain" }

	print "## itiny-migrate against a minimal JetStream publisher, same server, same run"
	print ""
	print "Command: `" cmd "` (" machine "; " source ")."
	printf "Ring: %s records of the agent'"'"'s metrics (12 a sample, %.1f days), %s MessagePack ring, %d segments, %.1f MB on disk; %.1f payload bytes a message. ", commas(n), span / 24, ring, rsegs, rbytes / 1e6, pbytes / n
	printf "Each run sends every record once into a fresh JetStream stream (file storage) of one nats-server process on 127.0.0.1. Raw is bench/migrate/rawpub: the payloads in memory, PublishMsgAsync with a Nats-Msg-Id each, at most %d pending, every ack awaited. itiny-migrate runs with --window %d; its rate is its publishing phase'"'"'s (its `sent ... messages/s` line: stream creation and tail scan included); its wall time also holds planning and verification.\n\n", window, window
	for (i = 1; i <= ns; i++) {
		s = srv[i]
		printf "### nats-server %s (%s)\n\n", ver[s], (s == "debian") ? "Debian package" : "built from the Go module proxy"
		printf "| round | raw msgs/s | itiny-migrate msgs/s | **migrate / raw** | itiny-migrate wall s, whole run / --verify-only |"
		for (c = 1; c <= ncol; c++) printf " %s msgs/s (× raw) |", name[col[c]]
		print ""
		printf "|--:|--:|--:|--:|--:|"
		for (c = 1; c <= ncol; c++) printf "--:|"
		print ""
		delete q
		for (r = 1; r <= rounds; r++) {
			a = rate[s, r, "raw"]; b = rate[s, r, "migrate"]; q[r] = b / a
			printf "| %d | %s | %s | %.2f | %.2f / %.2f |", r, commas(a), commas(b), b / a, wall[s, r, "migrate"], vowall[s, r, "migrate"]
			for (c = 1; c <= ncol; c++) printf " %s (%.2f) |", commas(rate[s, r, col[c]]), rate[s, r, col[c]] / a
			print ""
		}
		m = median(q, rounds)
		printf "| **median** | %s | %s | **%.2f** | %.2f / %.2f |", commas(med(s, "raw", rate)), commas(med(s, "migrate", rate)), m, med(s, "migrate", wall), med(s, "migrate", vowall)
		for (c = 1; c <= ncol; c++) {
			delete q2
			for (r = 1; r <= rounds; r++) q2[r] = rate[s, r, col[c]] / rate[s, r, "raw"]
			printf " %s (%.2f) |", commas(med(s, col[c], rate)), median(q2, rounds)
		}
		print ""
		print ""
		printf "Load average (1, 5, 15 min): %s before the rounds, %s after. Goal, itiny-migrate at least 80%% of raw (median of the per-round ratios): %.0f%%, **%s**.\n\n", lb[s], la[s], 100 * m, (m >= 0.8) ? "met" : "missed"
		print "CPU per message, median over the rounds, µs (client: rawpub over its timed part; itiny-migrate as a whole process, and that less its --verify-only run: the publishing phase. Server: nats-server over the same):"
		print ""
		print "| publisher | header bytes a message | client µs/msg | server µs/msg | together |"
		print "|---|--:|--:|--:|--:|"
		nk = 0
		kk[++nk] = "raw"
		if (diag) { kk[++nk] = "raw-hdr1"; kk[++nk] = "raw-hdr"; kk[++nk] = "raw-hdr-drain" }
		kk[++nk] = "migrate"; kk[++nk] = "migrate/pub"
		for (j = 1; j <= nv; j++) kk[++nk] = "migrate-" vs[j] "/pub"
		for (j = 1; j <= nk; j++) {
			k = kk[j]; base = k; sub(/\/pub$/, "", base)
			label = name[base] (k ~ /\/pub$/ ? ", publishing phase" : (base ~ /^migrate/ ? ", whole run" : ""))
			h = (base == "migrate") ? hb["raw-hdr"] : ((base ~ /^migrate-/) ? "–" : hb[k])
			c1 = med(s, k, ccpu); c2 = med(s, k, scpu)
			printf "| %s | %s | %.2f | %.2f | %.2f |\n", label, h, c1, c2, c1 + c2
		}
		print ""
	}
	nw = split(sweep, ws, " ")
	if (nw > 0) {
		print "### --window (one run each; raw with as many pending)"
		print ""
		printf "| window |"
		for (i = 1; i <= ns; i++) printf " raw msgs/s, %s | itiny-migrate msgs/s, %s | ratio |", ver[srv[i]], ver[srv[i]]
		print ""
		printf "|--:|"
		for (i = 1; i <= ns; i++) printf "--:|--:|--:|"
		print ""
		for (j = 1; j <= nw; j++) {
			w = ws[j]
			printf "| %s |", commas(w)
			for (i = 1; i <= ns; i++) {
				s = srv[i]; a = rate[s, "w" w, "sweep-raw"]; b = rate[s, "w" w, "sweep-migrate"]
				printf " %s | %s | %.2f |", commas(a), commas(b), b / a
			}
			print ""
		}
		print ""
	}
	print "Raw figures, per-run CPU and the profiles: bench/out/migrate.txt."
}' "$RAW" | tee "$MD"
