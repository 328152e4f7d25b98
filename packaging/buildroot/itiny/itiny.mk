################################################################################
#
# itiny
#
################################################################################

# Copy package/itiny (this directory) into Buildroot's package/ tree, and
# add `source "package/itiny/Config.in"` to package/Config.in.
ITINY_VERSION = 0.1.0
ITINY_SITE = $(call github,itiny,itiny,v$(ITINY_VERSION))
# The project has not chosen a licence yet: ITINY_LICENSE is not set.
ITINY_GOMOD = github.com/itiny/itiny
# Each target's last path element names the binary installed in /usr/bin.
ITINY_BUILD_TARGETS = cmd/itiny cmd/itiny-read
ITINY_LDFLAGS = -s -w
# Static, as make firmware builds it (the agent imports no cgo package;
# itiny-migrate's resolver would otherwise link the C library).
ITINY_GO_ENV = CGO_ENABLED=0

ifeq ($(BR2_PACKAGE_ITINY_MIGRATE),y)
ITINY_BUILD_TARGETS += cmd/itiny-migrate
endif

define ITINY_USERS
	itiny -1 itiny -1 * /var/lib/itiny - - itiny agent
endef

define ITINY_INSTALL_CONF
	$(INSTALL) -D -m 0644 $(@D)/agent/default.conf $(TARGET_DIR)/etc/itiny.conf
endef
ITINY_POST_INSTALL_TARGET_HOOKS += ITINY_INSTALL_CONF

define ITINY_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(@D)/packaging/sysv/itiny $(TARGET_DIR)/etc/init.d/S90itiny
endef

define ITINY_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/packaging/systemd/itiny.service \
		$(TARGET_DIR)/usr/lib/systemd/system/itiny.service
endef

$(eval $(golang-package))
