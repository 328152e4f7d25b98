#!/bin/sh
# handout.sh: the flash cost of recording each number a periodic stream
# hands out (docs/DESIGN.md section 22). Runs bench/handout without and
# with -counter, each on its own freshly made ext4 image on a loop device,
# for DURATION seconds, and prints the bytes the kernel wrote to each loop
# device (sectors from /sys/block/loopN/stat, so file system journal and
# metadata writes count) and per day. Needs root (losetup, mount).
set -eu
cd "$(dirname "$0")"
DURATION=${DURATION:-300}
SAMPLE=${SAMPLE:-10s}
FLUSH=${FLUSH:-60s}
tmp=$(mktemp -d)
# shellcheck disable=SC2154 # m and l are the trap's own loop variables
trap 'for m in "$tmp"/mnt-*; do umount "$m" 2>/dev/null || true; done; for l in $(cat "$tmp"/loops 2>/dev/null); do losetup -d "$l" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
go build -o "$tmp/handout" ./handout
written() { awk '{print $7 * 512}' "/sys/block/$(basename "$1")/stat"; }
echo "| variant | bytes written in ${DURATION} s | per day |"
echo "|---|--:|--:|"
for v in plain counter; do
	truncate -s 64M "$tmp/$v.img"
	mkfs.ext4 -q -F "$tmp/$v.img"
	loop=$(losetup -f --show "$tmp/$v.img")
	echo "$loop" >>"$tmp/loops"
	mkdir "$tmp/mnt-$v"
	mount "$loop" "$tmp/mnt-$v"
	flag=""
	[ "$v" = counter ] && flag=-counter
	sync
	before=$(written "$loop")
	"$tmp/handout" -dir "$tmp/mnt-$v" -duration "${DURATION}s" -sample "$SAMPLE" -flush "$FLUSH" $flag
	sync
	after=$(written "$loop")
	bytes=$((after - before))
	echo "| $v | $bytes | $((bytes * 86400 / DURATION)) |"
done
