# vmtuned — plain GNU Makefile (STYLE 15). `make V=1` shows the commands.
PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= /etc
BINDIR     ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
BUILD      ?= build

CC         ?= cc
PKG_CONFIG ?= pkg-config
PKGS       := libvirt numa libsystemd libxml-2.0
CFLAGS     ?= -O2 -g
WARNINGS   := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
              -Wstrict-prototypes -Wpointer-arith -Wvla -Wno-unused-parameter
HARDENING  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
DEFS       := -D_GNU_SOURCE -DSYSCONFDIR='"$(SYSCONFDIR)"' -DDATADIR='"$(DATADIR)"'
ALL_CFLAGS  = -std=gnu11 $(WARNINGS) $(DEFS) -Iinclude $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS)
LIBS        = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm

# Sanitizer build for `make check`: every test and the daemon the system
# tests start are built with ASan and UBSan.
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
TEST_LIBS   = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

PROGRAMS   := vmtuned vmtunectl
# src/ is grouped by concern (README, "Architecture"): one folder a layer,
# the two mains at the top. Everything but the mains is libvmtuned.a.
SRC_DIRS   := base config tuning virt balance daemon
LIB_SRC    := $(foreach d,$(SRC_DIRS),$(wildcard src/$(d)/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(wildcard tests/unit/test-*.c))
SYS_TESTS  := $(patsubst tests/system/%.c,$(BUILD)/asan/tests/%,$(wildcard tests/system/test-*.c))
HOST_TESTS := $(patsubst tests/host/%.c,$(BUILD)/tests/%,$(wildcard tests/host/test-*.c))
TEST_HELPERS := $(wildcard tests/lib/*.c)
BENCH      := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))
SIM_MODEL  := tests/lib/simmodel.c tests/lib/simscenarios.c tests/lib/simbaselines.c tests/lib/simscore.c

# Debian 12 packages: to build, and (extra) for the host suite and the lab.
DEB_BUILD_DEPS := build-essential pkg-config libvirt-dev libnuma-dev \
                  libsystemd-dev libcmocka-dev libxml2-dev mandoc systemd python3
# The system tests validate every vmtunectl --json answer against
# man/vmtunectl.schema.json with it; vmtuned itself does not need it.
DEB_TEST_DEPS  := python3-jsonschema
DEB_FUZZ_DEPS  := clang libclang-rt-dev
DEB_HOST_DEPS  := libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients \
                  qemu-system-x86 busybox-static systemd util-linux debootstrap \
                  prometheus-node-exporter prometheus

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all deps deps-host deps-fuzz fuzz fuzz-run run check check-unit check-system check-host check-man check-catalog check-systemd check-kfile sim bench lab lab-systemd FORCE \
        install uninstall clean

all: $(PROGRAMS:%=$(BUILD)/%)

# --- dependencies --------------------------------------------------------
define install_debs
	@command -v dpkg-query >/dev/null || { echo "deps: not a Debian system; install: $(1)"; exit 0; }; \
	missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "missing packages; run: sudo apt-get install --no-install-recommends" $$missing; exit 1; fi; \
	echo "deps: installing" $$missing; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing
endef

deps:
	$(call install_debs,$(DEB_BUILD_DEPS) $(DEB_TEST_DEPS))

deps-host: deps
	$(call install_debs,$(DEB_HOST_DEPS))

deps-fuzz: deps
	$(call install_debs,$(DEB_FUZZ_DEPS))

# --- build ---------------------------------------------------------------
# The paths compiled in (SYSCONFDIR, DATADIR): `make install PREFIX=/usr`
# after a plain `make` must rebuild rather than install binaries that look
# for their profiles in /usr/local. The stamp changes only when they do.
PATHS_STAMP := $(BUILD)/paths.stamp
$(PATHS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo "$(SYSCONFDIR) $(DATADIR)" | cmp -s - $@ || echo "$(SYSCONFDIR) $(DATADIR)" > $@
FORCE:

$(BUILD)/%.o: src/%.c $(PATHS_STAMP)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDENING) -MMD -MP -c -o $@ $<

$(BUILD)/libvmtuned.a: $(LIB_SRC:src/%.c=$(BUILD)/%.o)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(PROGRAMS:%=$(BUILD)/%): $(BUILD)/%: $(BUILD)/%.o $(BUILD)/libvmtuned.a
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/asan/%.o: src/%.c $(PATHS_STAMP)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC asan $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/asan/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -Itests/lib -MMD -MP -c -o $@ $<
$(BUILD)/asan/tests/%.o: tests/system/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -Itests/lib -MMD -MP -c -o $@ $<
$(BUILD)/asan/tests/lib/%.o: tests/lib/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -Itests/lib -MMD -MP -c -o $@ $<
$(BUILD)/tests/%.o: tests/host/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/lib -MMD -MP -c -o $@ $<
$(BUILD)/tests/lib/%.o: tests/lib/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/lib -MMD -MP -c -o $@ $<

$(BUILD)/asan/libvmtuned.a: $(LIB_SRC:src/%.c=$(BUILD)/asan/%.o)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/asan/vmtuned $(BUILD)/asan/vmtunectl: $(BUILD)/asan/%: $(BUILD)/asan/%.o $(BUILD)/asan/libvmtuned.a
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/asan/tests/test-%: $(BUILD)/asan/tests/test-%.o $(TEST_HELPERS:tests/lib/%.c=$(BUILD)/asan/tests/lib/%.o) $(BUILD)/asan/libvmtuned.a
	@[ "$(V)" = 1 ] || echo "  LD asan $@"
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

$(BUILD)/tests/test-%: $(BUILD)/tests/test-%.o $(TEST_HELPERS:tests/lib/%.c=$(BUILD)/tests/lib/%.o) $(BUILD)/libvmtuned.a
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

# The simulator links the model host of the regression tests (tests/lib), so
# both replay the same scenarios.
$(BUILD)/bench/%: tests/bench/%.c $(SIM_MODEL) $(BUILD)/libvmtuned.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/lib $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# --- run and test --------------------------------------------------------
# The daemon in the foreground on this host, with the profiles of this tree.
run: deps all
	$(BUILD)/vmtuned --foreground --profile-dir profiles $(RUN_ARGS)

# The default suite: unit tests and fixture-root system tests. Changes
# nothing on the machine (every kernel path is under a temporary --root).
export VMTUNED_BIN      = $(abspath $(BUILD)/asan/vmtuned)
export VMTUNECTL_BIN    = $(abspath $(BUILD)/asan/vmtunectl)
export VMTUNED_SRCDIR   = $(abspath .)
export ASAN_OPTIONS     = detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS     = suppressions=$(abspath tests/lsan.supp):print_suppressions=0
export UBSAN_OPTIONS    = print_stacktrace=1:halt_on_error=1

check: deps
	$(Q)$(MAKE) --no-print-directory check-unit check-system check-man check-catalog check-systemd check-kfile

check-unit: $(UNIT_TESTS)
	$(Q)tests/run-tests $(UNIT_TESTS)

check-system: $(BUILD)/asan/vmtuned $(BUILD)/asan/vmtunectl $(SYS_TESTS)
	$(Q)tests/run-tests $(SYS_TESTS)

check-man:
	$(Q)tests/check-man

# log.h's MESSAGE_IDs, the journal catalog and vmtuned(8) agree; no warning
# or error in src/ is logged without a MESSAGE_ID.
check-catalog:
	$(Q)tests/check-catalog

# kfile is the one door to kernel files: no other module touches the root.
check-kfile:
	$(Q)tests/check-kfile

# The unit: systemd-analyze verify prints nothing, exposure stays low.
check-systemd: all
	$(Q)tests/check-systemd

# Opt-in: tests against this machine's real kernel, libvirtd and QEMU.
# Root only; every value they touch is restored, also when they fail.
# tests/host/chaos starts every other daemon from the ASan build.
check-host: deps-host all $(HOST_TESTS) $(BUILD)/asan/vmtuned
	$(Q)VMTUNED_BIN=$(abspath $(BUILD)/vmtuned) VMTUNECTL_BIN=$(abspath $(BUILD)/vmtunectl) \
		VMTUNED_ASAN_BIN=$(abspath $(BUILD)/asan/vmtuned) tests/run-tests $(HOST_TESTS) tests/host/chaos

# Opt-in: a 4-NUMA-node kernel under QEMU with libvirtd, VMs and this
# tree's vmtuned inside; judged on what that kernel reports (tests/lab/README.md).
lab: deps-host all
	$(Q)BUILD=$(BUILD) LAB=$(LAB) tests/lab/run

# The same lab with systemd as the guest's PID 1 and vmtuned installed and
# driven as a packager and an administrator would (tests/lab/README.md).
lab-systemd: deps-host all
	$(Q)BUILD=$(BUILD) LAB=systemd tests/lab/run

sim: $(BENCH)
	$(Q)for b in $(BENCH); do $$b; done

# Root: what vmtuned, numad and ksmtuned cost while idle, side by side
# (tests/bench/idle-cost; BENCH_SECONDS=60 per daemon). Installs the peers
# (tests/bench/deps, never enabled) and appends to tests/bench/results/.
bench: deps-host all $(BUILD)/bench/stopwatch $(BUILD)/bench/tick-cost
	$(Q)tests/bench/deps
	$(Q)BUILD=$(BUILD) tests/bench/idle-cost

# Opt-in: the sampler's tick with 10, 100 and 1,000 VMs on the lab's kernel,
# which has proc/schedstat (QEMU TCG, ~40 s; needs `make lab` once), and the
# same on this host for the TCG factor (tests/lab/tick-cost).
.PHONY: bench-tick-lab
bench-tick-lab: $(BUILD)/bench/tick-cost
	$(Q)BUILD=$(BUILD) tests/lab/tick-cost

$(BUILD)/bench/stopwatch: tests/bench/tools/stopwatch.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# --- fuzzing -------------------------------------------------------------
# libFuzzer targets, one per parser family of outside input (tests/fuzz/README.md).
# clang builds the library again in its own tree, with coverage and
# ASan+UBSan; the gcc build above is untouched.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 5
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz-%.c,$(BUILD)/fuzz/fuzz-%,$(wildcard tests/fuzz/fuzz-*.c))

$(BUILD)/fuzz/obj/%.o: src/%.c $(PATHS_STAMP)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC fuzz $<"
	$(Q)$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/obj/libvmtuned.a: $(LIB_SRC:src/%.c=$(BUILD)/fuzz/obj/%.o)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/fuzz/tests/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Itests/fuzz -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/fuzz-%: $(BUILD)/fuzz/tests/fuzz-%.o $(BUILD)/fuzz/obj/libvmtuned.a
	@[ "$(V)" = 1 ] || echo "  LD fuzz $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# Kept like every other object (make deletes intermediates after linking).
.SECONDARY: $(FUZZ_TARGETS:$(BUILD)/fuzz/%=$(BUILD)/fuzz/tests/%.o)

fuzz: deps-fuzz
	$(Q)$(MAKE) --no-print-directory -s $(FUZZ_TARGETS)

# Each target for FUZZ_SECONDS from its seeds (tests/fuzz/corpus/NAME); fails
# on any crash, leak, sanitizer report or broken round trip.
fuzz-run: fuzz
	$(Q)tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# --- install -------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/vmtuned/profiles $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/vmtuned/profiles
	install -m 0755 $(BUILD)/vmtuned $(BUILD)/vmtunectl $(DESTDIR)$(BINDIR)/
	install -m 0644 profiles/*.conf $(DESTDIR)$(DATADIR)/vmtuned/profiles/
	install -m 0644 man/vmtunectl.schema.json $(DESTDIR)$(DATADIR)/vmtuned/
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/vmtuned.service.in > $(DESTDIR)$(UNITDIR)/vmtuned.service
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	[ -e $(DESTDIR)$(SYSCONFDIR)/vmtuned.conf ] || install -m 0644 systemd/vmtuned.conf $(DESTDIR)$(SYSCONFDIR)/vmtuned.conf
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 systemd/vmtunectl.bash-completion $(DESTDIR)$(COMPLETIONDIR)/vmtunectl
	install -d $(DESTDIR)$(CATALOGDIR)
	install -m 0644 systemd/vmtuned.catalog $(DESTDIR)$(CATALOGDIR)/vmtuned.catalog

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vmtuned $(DESTDIR)$(BINDIR)/vmtunectl
	rm -rf $(DESTDIR)$(DATADIR)/vmtuned
	rm -f $(DESTDIR)$(UNITDIR)/vmtuned.service $(DESTDIR)$(COMPLETIONDIR)/vmtunectl
	rm -f $(DESTDIR)$(CATALOGDIR)/vmtuned.catalog
	rm -f $(DESTDIR)$(MANDIR)/man5/vmtuned.conf.5 $(DESTDIR)$(MANDIR)/man7/vmtuned-profiles.7 \
		$(DESTDIR)$(MANDIR)/man8/vmtuned.8 $(DESTDIR)$(MANDIR)/man8/vmtunectl.8

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
