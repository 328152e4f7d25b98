#!/usr/bin/env bash
# fuzz.sh: what `make fuzz` does: every fuzz target of the module, each
# for FUZZTIME (default 2m), one after the other. The targets are found
# in the test files, never listed by hand, so one added is fuzzed (a list
# in the Makefile had fallen 12 behind). FUZZ, a regular expression,
# picks targets by name: FUZZ='Manifest|Sum256' make fuzz.
set -euo pipefail
GO=${GO:-go}
time=${FUZZTIME:-2m}
want=${FUZZ:-.}
cd "$(dirname "$0")/.."

n=0
# Each test file's fuzz functions, by package directory; bench/ is a
# module of its own.
while read -r file target; do
	[[ $target =~ $want ]] || continue
	pkg=./$(dirname "$file")
	echo "== $pkg $target ($time)"
	"$GO" test -run=NONE -fuzz="^$target\$" -fuzztime="$time" "$pkg"
	n=$((n + 1))
done < <(grep -rE --include='*_test.go' --exclude-dir=bench --exclude-dir=testdata -o '^func Fuzz[A-Za-z0-9_]*' . |
	sed -E 's|^\./||; s|:func | |' | sort)
echo "fuzz: $n targets, $time each"
