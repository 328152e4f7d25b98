#!/usr/bin/env bash
# check-recipes.sh: the Buildroot package and the Yocto recipe evaluated
# by the build systems themselves, as far as a machine without their
# downloads (toolchains, Go's sources) can take them. Not part of make
# test: it needs their trees, which a test machine does not have.
#
#   scripts/check-recipes.sh buildroot BUILDROOT_DIR
#       copies packaging/buildroot/itiny into a scratch copy of the tree,
#       runs utils/check-package on it (Buildroot's lint; needs a python3,
#       PYTHON if not the first on PATH, with magic and flake8), selects it in qemu_x86_64_defconfig and
#       prints the package's evaluated make variables (itiny-show-info,
#       printvars): a variable the infrastructure no longer takes stops
#       there with Buildroot's own error.
#   scripts/check-recipes.sh yocto OE_CORE_DIR BITBAKE_DIR
#       as a user other than root (bitbake refuses root): a layer with
#       the recipe beside openembedded-core, BB_NO_NETWORK, a fixed
#       SRCREV, and bitbake -e itiny for qemux86-64, qemuarm, qemuarm64,
#       qemumips and qemuppc64, printing the Go flags and settings it would build
#       with. Needs the host tools bitbake asks for (chrpath, cpio,
#       diffstat, gawk) and the en_US.UTF-8 locale.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

case ${1:-} in
buildroot)
	src=${2:?usage: check-recipes.sh buildroot BUILDROOT_DIR}
	cp -a "$src/." "$scratch/br"
	cp -r "$here/packaging/buildroot/itiny" "$scratch/br/package/itiny"
	sed -i 's|^menu "System tools"|&\n\tsource "package/itiny/Config.in"|' "$scratch/br/package/Config.in"
	(cd "$scratch/br" && "${PYTHON:-python3}" utils/check-package package/itiny/*)
	make -s -C "$scratch/br" O="$scratch/out" qemu_x86_64_defconfig
	printf 'BR2_PACKAGE_ITINY=y\nBR2_PACKAGE_ITINY_MIGRATE=y\n' >>"$scratch/out/.config"
	make -s -C "$scratch/br" O="$scratch/out" olddefconfig
	grep '^BR2_PACKAGE_ITINY' "$scratch/out/.config"
	make -s -C "$scratch/br" O="$scratch/out" itiny-show-info
	echo
	make -s -C "$scratch/br" O="$scratch/out" printvars \
		VARS='ITINY_BUILD_OPTS ITINY_GO_ENV ITINY_INSTALL_BINS ITINY_DEPENDENCIES'
	;;
yocto)
	oe=${2:?usage: check-recipes.sh yocto OE_CORE_DIR BITBAKE_DIR}
	bb=${3:?usage: check-recipes.sh yocto OE_CORE_DIR BITBAKE_DIR}
	if ((EUID == 0)); then
		echo "check-recipes.sh yocto: bitbake refuses root; run it as another user" >&2
		exit 1
	fi
	cp -a "$oe" "$scratch/oe-core"
	ln -s "$(cd "$bb" && pwd)" "$scratch/oe-core/bitbake"
	mkdir -p "$scratch/meta-itiny/conf" "$scratch/meta-itiny/recipes-support/itiny"
	cp "$here"/packaging/yocto/*.bb "$scratch/meta-itiny/recipes-support/itiny/"
	series=$(sed -n 's/^LAYERSERIES_CORENAMES = "\(.*\)"/\1/p' "$oe/meta/conf/layer.conf")
	cat >"$scratch/meta-itiny/conf/layer.conf" <<CONF
BBPATH .= ":\${LAYERDIR}"
BBFILES += "\${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "itiny"
BBFILE_PATTERN_itiny = "^\${LAYERDIR}/"
BBFILE_PRIORITY_itiny = "6"
LAYERSERIES_COMPAT_itiny = "$series"
CONF
	cd "$scratch/oe-core"
	set -- # it would take this script's arguments for its own
	set +u # and reads variables it does not set
	# shellcheck disable=SC1091 # openembedded-core's, in the scratch copy
	. ./oe-init-build-env >/dev/null
	set -u
	echo "BBLAYERS += \"$scratch/meta-itiny\"" >>conf/bblayers.conf
	printf 'BB_NO_NETWORK = "1"\nSRCREV:pn-itiny = "%s"\n' 0123456789abcdef0123456789abcdef01234567 >>conf/local.conf
	for machine in qemux86-64 qemuarm qemuarm64 qemumips qemuppc64; do
		echo "== $machine"
		MACHINE=$machine bitbake -e itiny >"$scratch/env" || {
			grep -E '^(ERROR|WARNING)' "$scratch/env" >&2
			exit 1
		}
		grep -E '^(export )?(GOARCH|GOARM|GOMIPS|CGO_ENABLED|GO_DYNLINK|GO_LINKSHARED|GOBUILDFLAGS|GO_INSTALL|SYSTEMD_SERVICE:itiny|USERADD_PARAM:itiny)=' "$scratch/env"
	done
	;;
*)
	echo "usage: check-recipes.sh buildroot BUILDROOT_DIR | yocto OE_CORE_DIR BITBAKE_DIR" >&2
	exit 2
	;;
esac
