# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# install.mk - `make install` / `make uninstall`, included by the Makefile.
#
#   make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage] [SYSCONFDIR=/etc]
#
# Installs xtwampd (sbin), xtwamp (bin), the systemd unit (with the path
# of xtwampd substituted), an example configuration (never overwriting an
# existing /etc/xtwamp/xtwampd.conf), the README (the unit's
# Documentation=) and the packaging examples under share/doc/xtwamp.  The BPF object is compiled into the binaries (skeleton):
# nothing else is needed at run time but libbpf, libxdp, libmicrohttpd and inih.

PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR     ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
DOCDIR      ?= $(PREFIX)/share/doc/xtwamp
INSTALL     ?= install

.PHONY: install uninstall

install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/xtwamp $(DESTDIR)$(DOCDIR)
	$(Q)$(INSTALL) -m 0755 $(BUILD)/xtwampd $(DESTDIR)$(SBINDIR)/xtwampd
	$(Q)$(INSTALL) -m 0755 $(BUILD)/xtwamp $(DESTDIR)$(BINDIR)/xtwamp
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' \
		packaging/systemd/xtwampd.service.in >$(DESTDIR)$(UNITDIR)/xtwampd.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/xtwampd.service
	$(Q)test -e $(DESTDIR)$(SYSCONFDIR)/xtwamp/xtwampd.conf || \
		$(INSTALL) -m 0644 packaging/xtwampd.conf $(DESTDIR)$(SYSCONFDIR)/xtwamp/xtwampd.conf
	$(Q)$(INSTALL) -m 0644 README.md packaging/xtwampd.conf packaging/kubernetes/xtwampd-daemonset.yaml \
		packaging/prometheus/prometheus-scrape.yml \
		packaging/prometheus/prometheus-scrape-kubernetes.yml packaging/grafana/xtwamp-dashboard.json \
		$(DESTDIR)$(DOCDIR)/

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/xtwampd $(DESTDIR)$(BINDIR)/xtwamp \
		$(DESTDIR)$(UNITDIR)/xtwampd.service
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)
	@echo "  kept $(DESTDIR)$(SYSCONFDIR)/xtwamp (your configuration and keys)"
