# Build and install ec2-netgen. `make install PREFIX=/usr DESTDIR=/tmp/pkg` stages a
# package; docs/install.md lists every file it installs (a test checks the list).
PREFIX ?= /usr
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
UNITDIR ?= $(LIBDIR)/systemd/system
GENERATORDIR ?= $(LIBDIR)/systemd/system-generators
NETWORKDIR ?= $(LIBDIR)/systemd/network
NETWORKDCONFDIR ?= $(LIBDIR)/systemd/networkd.conf.d
UDEVRULESDIR ?= $(LIBDIR)/udev/rules.d
SWIFT ?= swift
RELEASE = $(shell $(SWIFT) build -c release --show-bin-path)

UNITS = ec2-netgen-boot.service ec2-netgen@.service ec2-netgen-refresh.service ec2-netgen-refresh.timer

.PHONY: all build install uninstall test

all: build

build:
	$(SWIFT) build -c release --static-swift-stdlib -Xswiftc -gnone

test:
	scripts/test

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(GENERATORDIR) $(DESTDIR)$(NETWORKDIR) \
		$(DESTDIR)$(NETWORKDCONFDIR) $(DESTDIR)$(UDEVRULESDIR)
	install -m 0755 -s $(RELEASE)/ec2-netgen $(DESTDIR)$(BINDIR)/ec2-netgen
	install -m 0755 -s $(RELEASE)/ec2-netgen-generator $(DESTDIR)$(BINDIR)/ec2-netgen-generator
	ln -sf $(BINDIR)/ec2-netgen-generator $(DESTDIR)$(GENERATORDIR)/ec2-netgen-generator
	for unit in $(UNITS); do \
		sed 's|/usr/bin/|$(BINDIR)/|g' units/$$unit > $(DESTDIR)$(UNITDIR)/$$unit && chmod 0644 $(DESTDIR)$(UNITDIR)/$$unit; \
	done
	install -m 0644 units/99-ec2-netgen.rules $(DESTDIR)$(UDEVRULESDIR)/99-ec2-netgen.rules
	install -m 0644 units/80-ec2-netgen-default.network $(DESTDIR)$(NETWORKDIR)/80-ec2-netgen-default.network
	install -m 0644 units/networkd-ec2-netgen.conf $(DESTDIR)$(NETWORKDCONFDIR)/ec2-netgen.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ec2-netgen $(DESTDIR)$(BINDIR)/ec2-netgen-generator \
		$(DESTDIR)$(GENERATORDIR)/ec2-netgen-generator \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
		$(DESTDIR)$(UDEVRULESDIR)/99-ec2-netgen.rules \
		$(DESTDIR)$(NETWORKDIR)/80-ec2-netgen-default.network \
		$(DESTDIR)$(NETWORKDCONFDIR)/ec2-netgen.conf
