SUMMARY = "itiny: the device's own record of what happened"
DESCRIPTION = "A small agent that keeps the device's states, metrics, \
events and crash evidence in fixed-size rings on flash, offline, and \
itiny-read, which answers why it rebooted, what crashed and what it was \
doing."
HOMEPAGE = "https://github.com/itiny/itiny"
# The project has not chosen a licence yet: CLOSED until it has.
LICENSE = "CLOSED"

# Put this recipe in a layer (recipes-support/itiny/itiny_0.1.0.bb) and
# add "itiny" to IMAGE_INSTALL. It needs Go 1.26 (openembedded-core's
# master has 1.26.6). The agent and itiny-read import no module outside
# this repository (packaging's TestFirmwareToolchains), so no gomod://
# list is needed: they build offline.
SRC_URI = "git://github.com/itiny/itiny.git;protocol=https;branch=main;destsuffix=${GO_SRCURI_DESTSUFFIX}"
SRCREV = "${AUTOREV}"

GO_IMPORT = "github.com/itiny/itiny"
GO_INSTALL = "${GO_IMPORT}/cmd/itiny ${GO_IMPORT}/cmd/itiny-read"
# Static and not position-independent, as make firmware builds it: no
# shared Go runtime (goarch.bbclass links one on these six), no cgo, and
# not go.bbclass's -buildmode=pie, which costs the agent 316 KB on amd64
# (over its 3 MiB) and needs cgo's linker on arm. Not stripped here:
# packaging strips it (its already-stripped check refuses -s -w).
GO_DYNLINK:arm = ""
GO_DYNLINK:aarch64 = ""
GO_DYNLINK:x86 = ""
GO_DYNLINK:x86-64 = ""
GO_DYNLINK:powerpc64 = ""
GO_DYNLINK:powerpc64le = ""
export CGO_ENABLED = "0"
GOBUILDFLAGS:remove = "-buildmode=pie"

inherit go-mod systemd update-rc.d useradd

USERADD_PACKAGES = "${PN}"
USERADD_PARAM:${PN} = "--system --home-dir /var/lib/itiny --no-create-home --shell /sbin/nologin --user-group itiny"

SYSTEMD_SERVICE:${PN} = "itiny.service"
INITSCRIPT_NAME = "itiny"
INITSCRIPT_PARAMS = "defaults 90 10"

do_install:append() {
	install -d ${D}${sysconfdir}
	install -m 0644 ${S}/src/${GO_IMPORT}/agent/default.conf ${D}${sysconfdir}/itiny.conf
	if ${@bb.utils.contains('DISTRO_FEATURES', 'systemd', 'true', 'false', d)}; then
		install -d ${D}${systemd_system_unitdir}
		install -m 0644 ${S}/src/${GO_IMPORT}/packaging/systemd/itiny.service ${D}${systemd_system_unitdir}/
	fi
	if ${@bb.utils.contains('DISTRO_FEATURES', 'sysvinit', 'true', 'false', d)}; then
		install -d ${D}${sysconfdir}/init.d
		install -m 0755 ${S}/src/${GO_IMPORT}/packaging/sysv/itiny ${D}${sysconfdir}/init.d/itiny
	fi
}

CONFFILES:${PN} = "${sysconfdir}/itiny.conf"
FILES:${PN} += "${systemd_system_unitdir}/itiny.service"
