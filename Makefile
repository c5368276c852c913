# hostusb: one statically linked VDSM hook, no dependencies beyond libc.
VERSION    = 0.1.0
PREFIX     ?= /usr
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
HOOKDIR    = $(LIBEXECDIR)/vdsm/hooks
HOOKNAME   = 50_hostusb

CC       ?= cc
CFLAGS   ?= -O2
STD_CFLAGS  = -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
              -Wvla -Wconversion -Wno-sign-conversion -D_GNU_SOURCE -DHOSTUSB_VERSION='"$(VERSION)"'
HARDEN_CFLAGS = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
# static-pie where the toolchain really links it (musl-gcc accepts the flag but
# makes a dynamic PIE), plain static otherwise
STATIC_LDFLAGS := $(shell t=$$(mktemp) || exit 1; \
	printf 'int main(void){return 0;}' | $(CC) -x c -static-pie -fPIE -o $$t - >/dev/null 2>&1 && \
	! readelf -lW $$t 2>/dev/null | grep -q INTERP && echo -static-pie || echo -static; rm -f $$t)
LDFLAGS  ?=
HARDEN_LDFLAGS = -Wl,-z,relro,-z,now -Wl,-z,noexecstack

SOURCES  = hostusb.c sysfs.c xmlpatch.c
HEADERS  = sysfs.h xmlpatch.h

all: hostusb

hostusb: $(SOURCES) $(HEADERS)
	$(CC) $(STD_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) $(STATIC_LDFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) \
		-o $@ $(SOURCES)

# Unit tests, each built twice: plain, and under AddressSanitizer + UBSan.
# unit_hostusb includes hostusb.c itself to reach its static functions.
UNIT_NAMES  = unit_hostusb unit_sysfs unit_xmlpatch
unit_hostusb_SOURCES  = tests/unit_hostusb.c sysfs.c xmlpatch.c
unit_sysfs_SOURCES    = tests/unit_sysfs.c sysfs.c
unit_xmlpatch_SOURCES = tests/unit_xmlpatch.c xmlpatch.c
UNIT_TESTS  = $(UNIT_NAMES:%=tests/%) $(UNIT_NAMES:%=tests/%.asan)
SAN_CFLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_CFLAGS = $(STD_CFLAGS) -O1 -g -I.

define unit_rules
tests/$(1): $$($(1)_SOURCES) $$(SOURCES) $$(HEADERS) tests/check.h
	$$(CC) $$(TEST_CFLAGS) -o $$@ $$($(1)_SOURCES)
tests/$(1).asan: $$($(1)_SOURCES) $$(SOURCES) $$(HEADERS) tests/check.h
	$$(CC) $$(TEST_CFLAGS) $$(SAN_CFLAGS) -o $$@ $$($(1)_SOURCES)
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call unit_rules,$(t))))

check: hostusb $(UNIT_TESTS)
	CC="$(CC)" bash tests/run

# Boots the installed kernel in QEMU with emulated USB devices and runs ./hostusb
# and a `make CC=musl-gcc` build of it against the real sysfs and devtmpfs.
check-vm: hostusb
	bash tests/vm/check-vm.sh --musl glibc=./hostusb

demo: hostusb
	@sh tests/demo.sh

clean:
	rm -f hostusb $(UNIT_TESTS) tests/*.asan
	rm -rf tests/tmp

.PHONY: all check check-vm demo clean

# --- install, dist, system tests ---
# install/uninstall: the hook binary and its two links, the sudoers rule, the
# man page.  dist: hostusb-$(VERSION).tar.gz of every file git knows of (tracked
# or untracked but not ignored; a plain directory listing outside git) minus
# build products.  check-system: tests that need root (a test user, sudo, a
# private mount namespace, rpmbuild); see tests/system/run.sh.
SUDOERSDIR   = $(SYSCONFDIR)/sudoers.d
SUDOERSNAME  = 50_vdsm_hook_hostusb
HOOK_LINKS   = after_vm_destroy before_vm_migrate_source
DISTNAME     = hostusb-$(VERSION)
DISTDIR     ?= .
INSTALL     ?= install
DIST_EXCLUDE = hostusb|hostusb-[0-9.]+\.tar\.gz|tests/unit_[A-Za-z0-9_]+(\.asan)?|tests/tmp/.*|tests/system/tmp/.*|.*\.(o|a|rpm|swp|orig|rej)|.*~

install: hostusb hostusb.8 sudoers.vdsm_hook_hostusb
	mkdir -p $(DESTDIR)$(HOOKDIR)/before_vm_start
	$(INSTALL) -m 0755 hostusb $(DESTDIR)$(HOOKDIR)/before_vm_start/$(HOOKNAME)
	for point in $(HOOK_LINKS); do \
		mkdir -p $(DESTDIR)$(HOOKDIR)/$$point && \
		ln -sfn ../before_vm_start/$(HOOKNAME) $(DESTDIR)$(HOOKDIR)/$$point/$(HOOKNAME) || exit 1; \
	done
	if [ -x /usr/sbin/visudo ]; then /usr/sbin/visudo -cqf sudoers.vdsm_hook_hostusb; fi
	mkdir -p $(DESTDIR)$(SUDOERSDIR)
	$(INSTALL) -m 0440 sudoers.vdsm_hook_hostusb $(DESTDIR)$(SUDOERSDIR)/.$(SUDOERSNAME).tmp
	mv -f $(DESTDIR)$(SUDOERSDIR)/.$(SUDOERSNAME).tmp $(DESTDIR)$(SUDOERSDIR)/$(SUDOERSNAME)
	mkdir -p $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 hostusb.8 $(DESTDIR)$(MANDIR)/man8/hostusb.8

uninstall:
	rm -f $(DESTDIR)$(HOOKDIR)/before_vm_start/$(HOOKNAME) \
		$(HOOK_LINKS:%=$(DESTDIR)$(HOOKDIR)/%/$(HOOKNAME)) \
		$(DESTDIR)$(SUDOERSDIR)/$(SUDOERSNAME) \
		$(DESTDIR)$(MANDIR)/man8/hostusb.8

dist:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	if [ -e .git ] && git ls-files >/dev/null 2>&1; then \
		git ls-files -co --exclude-standard; \
	else \
		find . -path ./.git -prune -o \( -type f -o -type l \) -print | sed 's|^\./||'; \
	fi | LC_ALL=C sort -u | grep -v -x -E '$(DIST_EXCLUDE)' | \
	while IFS= read -r f; do if [ -e "$$f" ] || [ -L "$$f" ]; then printf '%s\n' "$$f"; fi; done \
		>"$$tmp/files"; \
	mkdir "$$tmp/$(DISTNAME)"; \
	tar -cf "$$tmp/files.tar" -T "$$tmp/files"; \
	tar -xf "$$tmp/files.tar" -C "$$tmp/$(DISTNAME)"; \
	tar --owner=0 --group=0 --numeric-owner --sort=name -czf "$$tmp/dist.tar.gz" -C "$$tmp" $(DISTNAME); \
	mv -f "$$tmp/dist.tar.gz" "$(DISTDIR)/$(DISTNAME).tar.gz"; \
	echo "$(DISTDIR)/$(DISTNAME).tar.gz"

check-system: hostusb
	bash tests/system/run.sh

.PHONY: install uninstall dist check-system
# --- end install ---
