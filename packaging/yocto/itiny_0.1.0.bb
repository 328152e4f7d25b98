SUMMARY = "itiny: the device's own record of what happened"
DESCRIPTION = "A small agent that keeps the device's states, metrics, \
events and crash evidence in fixed-size rings on flash, offline, and \
itiny-read, which answers why it rebooted, what crashed and what it was \
doing."
HOMEPAGE = "https://github.com/itiny/itiny"
# The project has not chosen a licence yet: CLOSED until it has.
LICENSE = "CLOSED"

# Put this recipe in a layer (recipes-support/itiny/itiny_0.1.0.bb) and
# add "itiny" to IMAGE_INSTALL. Go's module fetch needs the network at
# do_compile (go-mod), or a vendored source.
SRC_URI = "git://github.com/itiny/itiny.git;protocol=https;branch=main;destsuffix=${GO_SRCURI_DESTSUFFIX}"
SRCREV = "${AUTOREV}"

GO_IMPORT = "github.com/itiny/itiny"
GO_INSTALL = "${GO_IMPORT}/cmd/itiny ${GO_IMPORT}/cmd/itiny-read"
GO_LINKSHARED = ""
GOBUILDFLAGS:append = " -trimpath"
GO_EXTRA_LDFLAGS = "-s -w"

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
