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
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
CATALOGDIR ?= $(LIBDIR)/systemd/catalog
TMPFILESDIR ?= $(LIBDIR)/tmpfiles.d
DATADIR ?= $(PREFIX)/share/ec2-netgen
SYSCONFDIR ?= /etc
CLOUDCFGDIR ?= $(SYSCONFDIR)/cloud/cloud.cfg.d
SWIFT ?= swift
RELEASE = $(shell $(SWIFT) build -c release --show-bin-path)

UNITS = ec2-netgen-boot.service ec2-netgen-cloud-init.service ec2-netgen@.service ec2-netgen-refresh.service ec2-netgen-refresh.timer

.PHONY: all build install uninstall test

all: build

build:
	$(SWIFT) build -c release --static-swift-stdlib -Xswiftc -gnone -Xcc -g0

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
	install -d $(DESTDIR)$(CATALOGDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0644 units/ec2-netgen.tmpfiles $(DESTDIR)$(TMPFILESDIR)/ec2-netgen.conf
	install -m 0644 catalog/ec2-netgen.catalog $(DESTDIR)$(CATALOGDIR)/ec2-netgen.catalog
	# cloud-init's configuration for ec2-netgen: a link in /etc, so it goes with the package.
	install -d $(DESTDIR)$(DATADIR) $(DESTDIR)$(CLOUDCFGDIR)
	install -m 0644 units/cloud-init.cfg $(DESTDIR)$(DATADIR)/cloud-init.cfg
	ln -sf $(DATADIR)/cloud-init.cfg $(DESTDIR)$(CLOUDCFGDIR)/90_ec2-netgen.cfg
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0644 man/ec2-netgen.8 man/ec2-netgen-generator.8 $(DESTDIR)$(MANDIR)/man8/
	# Completions come from the built binary (swift-argument-parser), so they always
	# match its options.
	$(RELEASE)/ec2-netgen --generate-completion-script bash > $(DESTDIR)$(BASHCOMPDIR)/ec2-netgen
	$(RELEASE)/ec2-netgen --generate-completion-script zsh > $(DESTDIR)$(ZSHCOMPDIR)/_ec2-netgen
	$(RELEASE)/ec2-netgen --generate-completion-script fish > $(DESTDIR)$(FISHCOMPDIR)/ec2-netgen.fish
	chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/ec2-netgen $(DESTDIR)$(ZSHCOMPDIR)/_ec2-netgen $(DESTDIR)$(FISHCOMPDIR)/ec2-netgen.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ec2-netgen $(DESTDIR)$(BINDIR)/ec2-netgen-generator \
		$(DESTDIR)$(GENERATORDIR)/ec2-netgen-generator \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
		$(DESTDIR)$(UDEVRULESDIR)/99-ec2-netgen.rules \
		$(DESTDIR)$(NETWORKDIR)/80-ec2-netgen-default.network \
		$(DESTDIR)$(NETWORKDCONFDIR)/ec2-netgen.conf \
		$(DESTDIR)$(CATALOGDIR)/ec2-netgen.catalog $(DESTDIR)$(TMPFILESDIR)/ec2-netgen.conf \
		$(DESTDIR)$(DATADIR)/cloud-init.cfg $(DESTDIR)$(CLOUDCFGDIR)/90_ec2-netgen.cfg \
		$(DESTDIR)$(MANDIR)/man8/ec2-netgen.8 $(DESTDIR)$(MANDIR)/man8/ec2-netgen-generator.8 \
		$(DESTDIR)$(BASHCOMPDIR)/ec2-netgen $(DESTDIR)$(ZSHCOMPDIR)/_ec2-netgen $(DESTDIR)$(FISHCOMPDIR)/ec2-netgen.fish
