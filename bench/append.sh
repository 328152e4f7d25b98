#!/bin/sh
# append.sh measures BenchmarkAppend (append_test.go): the ring against
# zerolog and zap writing to lumberjack, at equal durability (every record
# is in the kernel's page cache before the call returns, so all survive
# SIGKILL). Raw output goes to out/append.txt; the table, with medians and
# ratios against both peers from this same run, to stdout and out/append.md.
#
# The COUNT (default 5) runs of the fast rows are made as COUNT passes of
# -count=1 over all of them, so that load from other processes on the
# machine hits every row alike rather than a few runs of one row. The
# fdatasync-per-record "always" rows follow with -count=COUNT.
# BENCHTIME (default 200000x) applies to every row; ALWAYS_BENCHTIME
# (default the same) can be lowered for the "always" rows on a slow disk.
set -eu
cd "$(dirname "$0")"
BENCHTIME=${BENCHTIME:-200000x}
ALWAYS_BENCHTIME=${ALWAYS_BENCHTIME:-$BENCHTIME}
COUNT=${COUNT:-5}
mkdir -p out
{
	echo "# load before: $(cat /proc/loadavg)"
	i=0
	while [ "$i" -lt "$COUNT" ]; do
		go test -run=NONE -bench=BenchmarkAppend -skip='BenchmarkAppend/ring/.*/always' \
			-benchmem -count=1 -benchtime="$BENCHTIME" -timeout=0
		i=$((i + 1))
	done
	go test -run=NONE -bench='BenchmarkAppend/ring/.*/always' \
		-benchmem -count="$COUNT" -benchtime="$ALWAYS_BENCHTIME" -timeout=0
	echo "# load after: $(cat /proc/loadavg)"
} >out/append.txt
go run ./cmd/benchtable <out/append.txt | tee out/append.md
