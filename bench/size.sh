#!/bin/sh
# size.sh prints, for each target, the size in bytes of a stripped static
# binary that appends one record to a ring (size/) and of an empty program
# (size/empty/), built alike: CGO_ENABLED=0 -trimpath -ldflags='-s -w'.
# The difference is what ringlog and codec add to an executable.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| target | empty program | ring + codec | added |"
echo "|---|--:|--:|--:|"
for t in linux/amd64 linux/arm64 linux/arm; do
	os=${t%/*} arch=${t#*/}
	for p in size size/empty; do
		CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOARM=7 \
			go build -trimpath -ldflags='-s -w' -o "$tmp/$arch-${p##*/}" "./$p"
	done
	empty=$(wc -c <"$tmp/$arch-empty")
	ring=$(wc -c <"$tmp/$arch-size")
	label=$t
	[ "$arch" = arm ] && label="$t (GOARM=7)"
	echo "| $label | $empty | $ring | $((ring - empty)) |"
done
