#!/usr/bin/env bash
# firmware.sh: what `make firmware` does. Builds the stripped static
# binaries for every common device architecture into bin/firmware, prints
# per target the agent's size, its xz-compressed size (what a squashfs
# image pays), its size from a plain `go build` (without the Makefile's
# COLD_GCFLAGS, as a firmware builder's own recipe may build it) and
# itiny-read's, and fails past a limit:
#
#   itiny, stripped, both builds  3.0 MiB; 3.5 MiB on the mips family,
#                                 whose code is less dense (issue 17)
#   itiny, xz -9                  1.1 MiB on every target
#   itiny-read                    4.0 MiB on amd64, arm64 and armv7 (issue 4);
#                                 printed for the others
#
# Environment: GO (default go), LDFLAGS and COLD_GCFLAGS as the Makefile
# passes them, TARGETS to build a subset ("amd64 mips").
set -euo pipefail
GO=${GO:-go}
LDFLAGS=${LDFLAGS:--s -w}
read -r -a cold <<<"${COLD_GCFLAGS:-}"
out=bin/firmware
mkdir -p "$out"

mib=1048576
limit_small=$((3 * mib))
limit_mips=$((7 * mib / 2))
limit_xz=$((11 * mib / 10))
limit_reader=$((4 * mib))

# name GOARCH variable=value (GOARM, GOMIPS, GO386): the targets.
all=(
	"amd64 amd64"
	"arm64 arm64"
	"armv7 arm GOARM=7"
	"armv6 arm GOARM=6"
	"armv5 arm GOARM=5"
	"386 386"
	"mips mips GOMIPS=softfloat"
	"mipsle mipsle GOMIPS=softfloat"
	"mips64le mips64le GOMIPS64=softfloat"
	"riscv64 riscv64"
)
want=" ${TARGETS:-} "

fail=0
printf '%-9s %10s %10s %10s %10s %10s\n' TARGET ITINY XZ PLAIN LIMIT ITINY-READ
for t in "${all[@]}"; do
	read -r name arch var <<<"$t"
	[[ -z ${TARGETS:-} || $want == *" $name "* ]] || continue
	env=(CGO_ENABLED=0 GOOS=linux GOARCH="$arch")
	[[ -n ${var:-} ]] && env+=("$var")
	limit=$limit_small
	[[ $arch == mips* ]] && limit=$limit_mips
	env "${env[@]}" "$GO" build -trimpath -ldflags="$LDFLAGS" "${cold[@]}" -o "$out/itiny-$name" ./cmd/itiny
	env "${env[@]}" "$GO" build -trimpath -ldflags="$LDFLAGS" -o "$out/itiny-$name-plain" ./cmd/itiny
	env "${env[@]}" "$GO" build -trimpath -ldflags="$LDFLAGS" -o "$out/itiny-read-$name" ./cmd/itiny-read
	size=$(wc -c <"$out/itiny-$name")
	xzsize=$(xz -9 -c "$out/itiny-$name" | wc -c)
	plain=$(wc -c <"$out/itiny-$name-plain")
	reader=$(wc -c <"$out/itiny-read-$name")
	printf '%-9s %10d %10d %10d %10d %10d\n' "$name" "$size" "$xzsize" "$plain" "$limit" "$reader"
	if ((size > limit || plain > limit)); then
		echo "itiny-$name: over $limit bytes" >&2
		fail=1
	fi
	if ((xzsize > limit_xz)); then
		echo "itiny-$name: $xzsize bytes xz-compressed, over $limit_xz" >&2
		fail=1
	fi
	if [[ $name == amd64 || $name == arm64 || $name == armv7 ]] && ((reader > limit_reader)); then
		echo "itiny-read-$name: over $limit_reader bytes" >&2
		fail=1
	fi
done
exit $fail
