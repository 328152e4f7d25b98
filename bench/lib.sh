# shellcheck shell=sh
# lib.sh: what the benchmark scripts share. Source it after setting TMP
# (a temp directory, removed at exit unless KEEP=1) and PIDS (the
# processes to stop at exit; add to it as they start).

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null || true
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop PID: SIGTERM, wait up to 10 s, then SIGKILL; forget the PID.
stop() {
	kill "$1" 2>/dev/null || true
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	rest=""
	for p in $PIDS; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	PIDS=$rest
}

log() { echo "$*" >&2; }

# kv FILE PREFIX LABEL KEY: the value of KEY on the line starting PREFIX
# with label=LABEL.
kv() {
	awk -v p="$2" -v l="label=$3" -v k="$4" '$1 == p {
		hit = 0
		for (i = 2; i <= NF; i++) if ($i == l) hit = 1
		if (!hit) next
		for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) { print a[2]; exit } }
	}' "$1"
}

# get FILE KEY: the value of KEY=... anywhere in FILE (first).
get() {
	awk -v k="$2" '{ for (i = 1; i <= NF; i++) { split($i, a, "="); if (a[1] == k) { print a[2]; exit } } }' "$1"
}

# agent_config BIN MODE GLOBALS: on stdout, the agent config of the load
# benchmarks: the default config with every collector it enables (asked
# of BIN, `itiny config check`) at 1 s, [stream metrics] as in the default
# (its budget among it) but mode = MODE and no write budget, the default's rollup tiers of
# metrics (metrics.1m, metrics.1h) as they are, and the global lines
# GLOBALS (the socket among them).
agent_config() {
	echo "# the default config, every enabled collector at 1 s,"
	echo "# [stream metrics] as in the default but mode = $2, its tiers as in the default."
	echo "$3"
	echo
	"$1" config check | awk '/^\[/ { on = ($0 ~ /^\[stream metrics\./) } on'
	echo "[stream metrics]"
	# The default's budget: the streams' budgets, tiers and all, fill the cap.
	"$1" config check | awk '/^\[/ { on = ($0 == "[stream metrics]") } on && /^budget = / { print; exit }'
	echo "segment = 256KiB"
	echo "codec = msgpack"
	echo "sync = none"
	echo "mode = $2"
	[ "$2" = periodic ] && echo "flush = 60s"
	echo "buffer = 64KiB"
	"$1" config check | awk '
		/^\[/ { n = "" }
		/^\[collector / { n = $2; sub(/\]$/, "", n) }
		/^enabled = true$/ && n != "" {
			printf "\n[collector %s]\ninterval = 1s\n", n
			# A benchmark must never take the machine'"'"'s crash logs.
			if (n == "pstore") print "remove = false"
		}'
}

# collectd_conf NAME BASEDIR STORE: on stdout, collectd's counterpart of
# the agent's collectors (cpu, memory, load, interface, disk, df, every
# 1 s), as host NAME, with BaseDir and PIDFile in BASEDIR and the lines
# STORE (the store plugin and any plugin settings) after the plugins.
collectd_conf() {
	cat <<EOF
# bench/$1.sh: collectd's counterpart of the agent's collectors.
Hostname "$1"
FQDNLookup false
BaseDir "$2"
PIDFile "$2/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin cpu
LoadPlugin memory
LoadPlugin load
LoadPlugin interface
LoadPlugin disk
LoadPlugin df
$3
EOF
}
