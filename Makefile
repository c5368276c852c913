# SPDX-License-Identifier: GPL-2.0-or-later
# hostusb: one statically linked VDSM hook, no dependencies beyond libc.
# `make help` lists the targets.
VERSION    = 0.1.0
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
HOOKDIR    = $(LIBEXECDIR)/vdsm/hooks
HOOKNAME   = 50_hostusb

CC       ?= cc
# The C library: a musl build is the one for initramfs images, built for size
# (an -O2 musl build is 110 KiB stripped, -Os 85 KiB; glibc's -O2 patches 15% faster).
LIBC    := $(shell printf '\043include <limits.h>\n\043ifdef __GLIBC__\nglibc\n\043endif\n' | \
	$(CC) -E -P -x c - 2>/dev/null | grep -qx glibc && echo glibc || echo other)
ifeq ($(LIBC),glibc)
CFLAGS   ?= -O2
else
CFLAGS   ?= -Os
endif
STD_CFLAGS  = -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
              -Wvla -Wconversion -Wno-sign-conversion -D_GNU_SOURCE -DHOSTUSB_VERSION='"$(VERSION)"'
# distributions' CFLAGS may set their own _FORTIFY_SOURCE level: keep theirs
HARDEN_CFLAGS = $(if $(findstring _FORTIFY_SOURCE,$(CFLAGS)),,-D_FORTIFY_SOURCE=2) -fstack-protector-strong -fPIE
# ./hostusb is position-independent code only where it is linked as a PIE: a
# plain static program is loaded at its link address, where PIC only costs
# code (1.3 KiB in the musl build)
PROGRAM_PIE_CFLAGS = $(if $(filter -static-pie,$(STATIC_LDFLAGS)),,-fno-pie)
# No unwind tables (nothing unwinds a C program's stack at run time) and no
# unused functions in the binary.
SIZE_CFLAGS   = -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections
SIZE_LDFLAGS  = -Wl,--gc-sections
# static-pie where the toolchain really links it (musl-gcc accepts the flag but
# makes a dynamic PIE), plain static otherwise
STATIC_LDFLAGS := $(shell t=$$(mktemp) || exit 1; \
	printf 'int main(void){return 0;}' | $(CC) -x c -static-pie -fPIE -o $$t - >/dev/null 2>&1 && \
	! readelf -lW $$t 2>/dev/null | grep -q INTERP && echo -static-pie || echo -static; rm -f $$t)
LDFLAGS  ?=
# glibc write-protects the RELRO region of a static program at start; musl's
# static start does not, so there it would only pad the file with a page.
ifeq ($(LIBC),glibc)
HARDEN_LDFLAGS = -Wl,-z,relro,-z,now -Wl,-z,noexecstack
else
HARDEN_LDFLAGS = -Wl,-z,norelro -Wl,-z,noexecstack
endif
# Outside glibc (the musl build, made for size): the allocator of alloc.c
# (a mapping a block, 0.2 KiB) in place of the C library's (musl's: 7 KiB),
# and _Fork where the C library has it: the child only sets up its file
# descriptors and execs sudo, and musl's fork() brings its thread locks
# (2.4 KiB) to prepare a child that runs nothing else.
ifeq ($(LIBC),glibc)
LIBC_SOURCES =
LIBC_CFLAGS  =
else
LIBC_SOURCES = alloc.c
LIBC_CFLAGS := -DHOSTUSB_OWN_ALLOCATOR $(shell printf '\043include <unistd.h>\nint main(void){return _Fork();}\n' | \
	$(CC) -D_GNU_SOURCE -Werror -x c -o /dev/null - >/dev/null 2>&1 && echo -DHOSTUSB_FORK=_Fork)
endif

SOURCES  = hostusb.c hostdev.c journal.c list.c node.c plan.c release.c request.c resume.c say.c sysfs.c text.c usb.c xmlpatch.c domread.c xmltok.c xmlio.c format.c
HEADERS  = domread.h format.h host.h hostdev.h journal.h list.h node.h plan.h release.h request.h resume.h say.h sysfs.h text.h usb.h xmlpatch.h xmltok.h xmlio.h xmlchar.h

all: hostusb

hostusb: $(SOURCES) $(LIBC_SOURCES) $(HEADERS)
	$(CC) $(STD_CFLAGS) $(HARDEN_CFLAGS) $(PROGRAM_PIE_CFLAGS) $(LIBC_CFLAGS) $(SIZE_CFLAGS) $(CFLAGS) \
		$(STATIC_LDFLAGS) $(HARDEN_LDFLAGS) $(SIZE_LDFLAGS) $(LDFLAGS) -o $@ $(SOURCES) $(LIBC_SOURCES)

# Unit tests, each built twice: plain, and under AddressSanitizer + UBSan.
UNIT_NAMES  = unit_text unit_journal unit_plan unit_request unit_engine_regex unit_help_grammar unit_sysfs unit_usb unit_hostdev unit_xmlpatch unit_xmltok unit_domread unit_format
unit_text_SOURCES     = tests/unit_text.c text.c format.c
unit_journal_SOURCES  = tests/unit_journal.c journal.c sysfs.c usb.c text.c format.c
unit_plan_SOURCES     = tests/unit_plan.c plan.c journal.c request.c sysfs.c usb.c text.c format.c
unit_request_SOURCES  = tests/unit_request.c request.c usb.c text.c format.c
unit_engine_regex_SOURCES = tests/unit_engine_regex.c tests/property_values.c request.c usb.c text.c format.c
unit_help_grammar_SOURCES = tests/unit_help_grammar.c tests/property_values.c request.c usb.c text.c format.c
unit_sysfs_SOURCES    = tests/unit_sysfs.c sysfs.c usb.c text.c format.c
unit_usb_SOURCES      = tests/unit_usb.c usb.c text.c format.c
unit_hostdev_SOURCES  = tests/unit_hostdev.c hostdev.c text.c format.c
unit_xmlpatch_SOURCES = tests/unit_xmlpatch.c xmlpatch.c xmltok.c xmlio.c format.c
unit_xmltok_SOURCES   = tests/unit_xmltok.c xmltok.c xmlio.c format.c
unit_domread_SOURCES  = tests/unit_domread.c domread.c xmltok.c xmlio.c format.c
unit_format_SOURCES   = tests/unit_format.c format.c
UNIT_TESTS  = $(UNIT_NAMES:%=tests/%) $(UNIT_NAMES:%=tests/%.asan)
SAN_CFLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_CFLAGS = $(STD_CFLAGS) -O1 -g -I.
TEST_HEADERS = tests/check.h tests/property_values.h

define unit_rules
tests/$(1): $$($(1)_SOURCES) $$(SOURCES) $$(HEADERS) $$(TEST_HEADERS)
	$$(CC) $$(TEST_CFLAGS) -o $$@ $$($(1)_SOURCES)
tests/$(1).asan: $$($(1)_SOURCES) $$(SOURCES) $$(HEADERS) $$(TEST_HEADERS)
	$$(CC) $$(TEST_CFLAGS) $$(SAN_CFLAGS) -o $$@ $$($(1)_SOURCES)
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call unit_rules,$(t))))

# The test programs are built side by side (one job per CPU, unless make was
# given -j), then run.
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
check:
	@$(MAKE) --no-print-directory $(if $(findstring -j,$(MAKEFLAGS)),,-j$(CHECK_JOBS)) check-build
	CC="$(CC)" bash tests/run

# every program make check runs; the reliability and fuzz sections below say how each is built
check-build: hostusb $(UNIT_TESTS) tests/hostusb-dyn tests/faultshim.so tests/unit_fuzz tests/unit_fuzz.asan

# Boots the installed kernel in QEMU with emulated USB devices and runs ./hostusb
# and a `make CC=musl-gcc` build of it against the real sysfs and devtmpfs.
check-vm: hostusb
	bash tests/vm/check-vm.sh --musl glibc=./hostusb

demo: hostusb
	@sh tests/demo.sh

# The man page's `list` example, rewritten from what `hostusb list` prints on
# the example host (as root); tests/t_man_example.sh fails when they differ.
man-example: hostusb
	@bash tests/man-example.sh --update
.PHONY: man-example

# As root: `make demo` and `make check` in a minimal Debian root with only what
# HACKING names (gcc, make, libc6-dev), as root and as a user; tests/fresh/run.sh.
check-fresh:
	@bash tests/fresh/run.sh

clean:
	rm -f hostusb $(UNIT_TESTS) tests/*.asan tests/hostusb-dyn tests/faultshim.so tests/unit_fuzz
	rm -rf tests/tmp tests/fuzz/build

# [packages] are Debian's, for apt-get install
help:
	@printf '%s\n' \
	'make TARGET [CC=musl-gcc] [PREFIX=/usr] [DESTDIR=DIR]  (SBINDIR LIBEXECDIR MANDIR SYSCONFDIR too)' \
	'  all            the static program ./hostusb (the default)        [gcc make libc6-dev]' \
	'  demo           a dry run on an example root and domain XML; changes nothing' \
	'  check          the test suite; tests that make device nodes need root, else SKIP' \
	'  check-fresh    root: demo and check in a minimal Debian root, as root and a user   [debootstrap]' \
	'  check-vm       root: the hook on a real kernel in QEMU   [qemu-system-x86 linux-image-amd64' \
	'                 busybox-static cpio musl-tools]' \
	'  check-system   root: a test user, the real sudo, a mount namespace, an RPM   [sudo rpm mandoc]' \
	'  bench          root: what a VM start costs, as a table' \
	'  man-example    root: rewrites the list example in hostusb.8 from what the program prints' \
	'  fuzz           libFuzzer targets, FUZZ_SECONDS each   [clang libclang-rt-14-dev libxml2-dev]' \
	'  lint           cppcheck, clang-tidy, shellcheck: zero findings   [cppcheck clang-tidy shellcheck]' \
	'  install        root or DESTDIR: program, hook links, sudoers rule, man page' \
	'  install-strip  install, with the program stripped' \
	'  uninstall      removes exactly what install made (same PREFIX, DESTDIR...)' \
	'  dist           $(DISTNAME).tar.gz of every file git knows of' \
	'  distcheck      dist, then build, check, install, uninstall from it in a scratch directory' \
	'  clean          removes what the build and the tests made' \
	'  help           this list'

.PHONY: all check check-build check-vm check-fresh demo clean help

# --- install, dist, system tests ---
# install/uninstall: the program in $(SBINDIR), a relative symbolic link to it
# in each hook point's directory (VDSM runs the link, so argv[0] names the
# hook point; relative, so the links resolve inside a DESTDIR or an image as
# on the host), the sudoers rule, the man page.  install-strip: the same with
# the program stripped.  dist: hostusb-$(VERSION).tar.gz of every file git
# knows of (tracked or untracked but not ignored; a plain directory listing
# outside git) minus build products.  distcheck: see tests/distcheck.sh.
# check-system: tests that need root (a test user, sudo, a private mount
# namespace, rpmbuild); see tests/system/run.sh.
SUDOERSDIR   = $(SYSCONFDIR)/sudoers.d
SUDOERSNAME  = 50_vdsm_hook_hostusb
HOOK_POINTS  = before_vm_start after_vm_destroy before_vm_migrate_source before_vm_dehibernate
# the program as a hook point's directory sees it: ../../../../sbin/hostusb
HOOK_TARGET  = $(shell realpath -m -s --relative-to='$(HOOKDIR)/before_vm_start' '$(SBINDIR)/hostusb')
DISTNAME     = hostusb-$(VERSION)
DISTDIR     ?= .
INSTALL     ?= install
INSTALL_PROGRAM ?= $(INSTALL) -m 0755
INSTALL_DATA    ?= $(INSTALL) -m 0644
STRIP       ?= strip
DIST_EXCLUDE = hostusb|hostusb-[0-9.]+\.tar\.gz|tests/unit_[A-Za-z0-9_]+(\.asan)?|tests/tmp/.*|tests/fuzz/build/.*|tests/system/tmp/.*|tests/hostusb-dyn|.*\.(o|a|so|rpm|swp|orig|rej)|.*~

install: hostusb hostusb.8 sudoers.vdsm_hook_hostusb
	@test -n "$(HOOK_TARGET)" || { echo "install: needs realpath (GNU coreutils) for the hook links" >&2; exit 1; }
	mkdir -p $(DESTDIR)$(SBINDIR)
	$(INSTALL_PROGRAM) hostusb $(DESTDIR)$(SBINDIR)/hostusb
	for point in $(HOOK_POINTS); do \
		mkdir -p $(DESTDIR)$(HOOKDIR)/$$point && \
		ln -sfn $(HOOK_TARGET) $(DESTDIR)$(HOOKDIR)/$$point/$(HOOKNAME) || exit 1; \
	done
	if [ -x /usr/sbin/visudo ]; then /usr/sbin/visudo -cqf sudoers.vdsm_hook_hostusb; fi
	mkdir -p $(DESTDIR)$(SUDOERSDIR)
	$(INSTALL) -m 0440 sudoers.vdsm_hook_hostusb $(DESTDIR)$(SUDOERSDIR)/.$(SUDOERSNAME).tmp
	mv -f $(DESTDIR)$(SUDOERSDIR)/.$(SUDOERSNAME).tmp $(DESTDIR)$(SUDOERSDIR)/$(SUDOERSNAME)
	mkdir -p $(DESTDIR)$(MANDIR)/man8
	$(INSTALL_DATA) hostusb.8 $(DESTDIR)$(MANDIR)/man8/hostusb.8

install-strip:
	$(MAKE) INSTALL_PROGRAM='$(INSTALL_PROGRAM) -s --strip-program=$(STRIP)' install

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/hostusb \
		$(HOOK_POINTS:%=$(DESTDIR)$(HOOKDIR)/%/$(HOOKNAME)) \
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

# The sub-makes are named through DISTCHECK_MAKE, not $(MAKE) itself, so that
# `make -n distcheck` prints the command instead of running it.
DISTCHECK_MAKE = $(MAKE)
distcheck: dist
	MAKE='$(DISTCHECK_MAKE)' bash tests/distcheck.sh $(DISTDIR)/$(DISTNAME).tar.gz

check-system: hostusb
	bash tests/system/run.sh

.PHONY: install install-strip uninstall dist distcheck check-system
# --- end install ---

# --- reliability tests ---
# tests/hostusb-dyn: the same sources linked dynamically, only so that
# tests/faultshim.so (LD_PRELOAD) can make a chosen libc call fail; the
# shipped static hostusb carries no test hook.  Used by tests/t_faults.sh.
# HOSTUSB_LONG_TESTS=1 make check runs the long variants (random SIGKILLs,
# a 1 GB domain XML).
tests/hostusb-dyn: $(SOURCES) $(HEADERS)
	$(CC) $(STD_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) $(HARDEN_LDFLAGS) -pie -o $@ $(SOURCES)

tests/faultshim.so: tests/faultshim.c
	$(CC) $(STD_CFLAGS) -O1 -fPIC -shared -o $@ $< -ldl

# --- end reliability tests ---

# --- fuzz and lint ---
# fuzz: builds the libFuzzer targets in tests/fuzz/ (clang, ASan + UBSan,
# libxml2 as the oracle) and runs each for FUZZ_SECONDS seconds, one at a time;
# see tests/fuzz/run.sh.  tests/unit_fuzz (part of `make check`) replays the
# recorded inputs of every target with gcc, plain and under ASan + UBSan.
# lint: cppcheck, clang-tidy (checks in .clang-tidy) and shellcheck; zero findings.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_TARGETS  = property journal sysfs xml_bytes xml_domain
FUZZ_BUILD    = tests/fuzz/build
FUZZ_SUPPORT  = tests/fuzz/support.c tests/fuzz/xmlcheck.c
# the program's units the targets test, through their headers
FUZZ_UNITS    = hostdev.c journal.c request.c sysfs.c text.c usb.c xmlpatch.c domread.c xmltok.c xmlio.c format.c
FUZZ_HEADERS  = tests/fuzz/fuzz.h tests/fuzz/xmlcheck.h tests/fuzz/hostusb_in.h
FUZZ_LIBXML2  = $(shell pkg-config --cflags --libs libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2 -lxml2)
FUZZ_CFLAGS   = $(STD_CFLAGS) -O1 -g -I. -DFUZZ_LIBFUZZER -DFUZZ_HAVE_LIBXML2 $(SAN_CFLAGS)
# the replay program uses libxml2 as the oracle only when $(CC) can link it
FUZZ_REPLAY_XML = $(shell flags=$$(pkg-config --cflags --libs libxml-2.0 2>/dev/null) && \
	printf '\043include <libxml/parser.h>\nint main(void){xmlInitParser();return 0;}\n' | \
	$(CC) -x c - -o /dev/null $$flags >/dev/null 2>&1 && echo "-DFUZZ_HAVE_LIBXML2 $$flags")
FUZZ_REPLAY_SOURCES = tests/fuzz/replay.c $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%.c) $(FUZZ_SUPPORT) $(FUZZ_UNITS)
LINT_SOURCES  = $(SOURCES) alloc.c
# every shell script: *.sh, tests/run, .ci/run, and files under tests/ with a sh/bash "#!" line
SHELL_SCRIPTS = $(sort $(wildcard tests/*.sh tests/*/*.sh tests/run .ci/run) \
	$(shell grep -lsE '^\#!.*[/ ](ba|da)?sh( |$$)' tests/* tests/*/* 2>/dev/null))

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SUPPORT) $(FUZZ_HEADERS) $(SOURCES) $(HEADERS)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_SUPPORT) $(FUZZ_UNITS) $(FUZZ_LIBXML2)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

fuzz: fuzz-build
	bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

# rewritten only when the libxml2 flags change: installing libxml2-dev later rebuilds the replay
$(FUZZ_BUILD)/replay-xml.flags: FORCE
	@mkdir -p $(FUZZ_BUILD); flags='$(FUZZ_REPLAY_XML)'; \
	[ -f $@ ] && [ "$$(cat $@)" = "$$flags" ] || printf '%s\n' "$$flags" >$@
FORCE:
tests/unit_fuzz: $(FUZZ_REPLAY_SOURCES) $(FUZZ_HEADERS) $(SOURCES) $(HEADERS) $(FUZZ_BUILD)/replay-xml.flags
	$(CC) $(TEST_CFLAGS) -o $@ $(FUZZ_REPLAY_SOURCES) $(FUZZ_REPLAY_XML)
tests/unit_fuzz.asan: $(FUZZ_REPLAY_SOURCES) $(FUZZ_HEADERS) $(SOURCES) $(HEADERS) $(FUZZ_BUILD)/replay-xml.flags
	$(CC) $(TEST_CFLAGS) $(SAN_CFLAGS) -o $@ $(FUZZ_REPLAY_SOURCES) $(FUZZ_REPLAY_XML)


# `make -k lint` runs all three even when one fails
lint: lint-cppcheck lint-clang-tidy lint-shellcheck

lint-cppcheck:
	cppcheck --quiet --enable=warning,portability --error-exitcode=1 --inline-suppr \
		--std=c11 -D_GNU_SOURCE -I. $(LINT_SOURCES)

lint-clang-tidy:
	clang-tidy --quiet $(LINT_SOURCES) -- -std=gnu11 -D_GNU_SOURCE -DHOSTUSB_VERSION='"$(VERSION)"' -DHOSTUSB_OWN_ALLOCATOR -I.

# scripts without a "#!" line are run or sourced by bash (tests/run, tests/lib.sh)
lint-shellcheck:
	@with=; without=; for f in $(SHELL_SCRIPTS); do \
		if [ "$$(head -c 2 "$$f")" = '#!' ]; then with="$$with $$f"; else without="$$without $$f"; fi; \
	done; rc=0; \
	echo "shellcheck -x$$with"; shellcheck -x $$with || rc=1; \
	echo "shellcheck -x --shell=bash$$without"; shellcheck -x --shell=bash $$without || rc=1; \
	exit $$rc


.PHONY: fuzz fuzz-build lint lint-cppcheck lint-clang-tidy lint-shellcheck FORCE
# --- end fuzz and lint ---
# --- bench ---
# bench: what a VM start costs (per start vs cp+mv, scale to 1 GiB, host scale,
# footprint, a start against an empty process and against the floor,
# tests/bench/floor.c, timed by tests/bench/launch.c, and its phases, the
# journal's cost at 1 MiB); prints a table,
# never fails on a figure.  Needs root; see tests/bench/bench.sh for BENCH_RUNS,
# BENCH_GIB, BENCH_TMPDIR, BENCH_RUNDIR and BENCH_ONLY (BENCH_ONLY=perstart:
# the start against an empty process alone).  Then the patcher's throughput
# against commit 26c95aa built side by side (tests/bench/patcher-vs-old.sh;
# bench-patcher runs it alone).
bench: hostusb
	bash tests/bench/bench.sh
	bash tests/bench/patcher-vs-old.sh

bench-patcher: hostusb
	bash tests/bench/patcher-vs-old.sh

.PHONY: bench bench-patcher
# --- end bench ---
