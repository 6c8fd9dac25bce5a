# q2q — build, test and demo.
#   make            build q2qd and q2qctl
#   make test       install missing Debian packages, build, run all tests
#   make demo       install missing Debian packages, build, run the namespace demo
#   make check      unit tests only (no root needed)
#   make O=dir      put build outputs in dir (default build/)
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# Where the commented example configuration goes (a package puts it in
# /usr/share/doc/q2q/examples).
EXAMPLEDIR ?= $(SYSCONFDIR)/q2q
# The NSS module goes where glibc looks for it, whatever PREFIX says.
LIBDIR ?= /lib/$(shell $(CC) -print-multiarch 2>/dev/null)
O ?= build
# The one place the version is written; debian/changelog must agree
# (tests/e2e/docs.sh checks).
VERSION := $(shell cat VERSION)

CC ?= cc
CFLAGS ?= -O2 -g
PKGS := wolfssl libcrypto libmnl libconfig sqlite3 json-c libsystemd libseccomp libunbound libnftables miniupnpc
# A missing dependency stops the build here, naming it, instead of failing
# later with a missing header. `make deps` installs them all.
ifeq ($(filter deps test demo clean,$(MAKECMDGOALS)),)
PKG_MISSING := $(shell for p in $(PKGS); do pkg-config --exists $$p || echo $$p; done)
# libnatpmp ships no pkg-config file: its header names it.
PKG_MISSING += $(shell echo '\#include <natpmp.h>' | $(CC) -E -x c - >/dev/null 2>&1 || echo libnatpmp)
ifneq ($(PKG_MISSING),)
$(error pkg-config cannot find: $(PKG_MISSING) (run `make deps` as root))
endif
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wno-unused-parameter
# CI (CI=true) treats every warning as an error.
ifeq ($(CI),true)
WARN += -Werror
endif
# Hardening on by default: stack protector, fortified libc calls (they need
# optimisation, so they are left out of -O0 builds), PIE and full RELRO.
HARDEN := -fstack-protector-strong -fPIE
ifeq ($(findstring -O0,$(CFLAGS)),)
HARDEN += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
HARDEN_LD := -pie -Wl,-z,relro -Wl,-z,now
override CFLAGS += -std=gnu11 $(WARN) $(HARDEN) -I. $(PKG_CFLAGS) -D_GNU_SOURCE -MMD -MP
override LDFLAGS += $(HARDEN_LD)
LDLIBS += $(PKG_LIBS) -lnatpmp

# Everything but the two programs' main files goes into one static library,
# so unit tests link exactly the objects the daemon runs.
MAINS := tund/q2qd.c tund/ctl/q2qctl.c
# LIB_DIRS narrows the library while one part is being worked on; sources
# are found in every subfolder.
LIB_DIRS ?= identity routing netstack tund nss
LIB_SRC := $(filter-out $(MAINS),$(sort $(shell find $(LIB_DIRS) -name '*.c')))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(O)/tests/%)

all: $(O)/q2qd $(O)/q2qctl $(O)/libnss_q2q.so.2

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(VERSION_FLAG) -c -o $@ $<

# Only the two programs print the version: a new one rebuilds just them.
$(O)/tund/q2qd.o $(O)/tund/ctl/q2qctl.o: VERSION_FLAG = -DQ2Q_VERSION='"$(VERSION)"'
$(O)/tund/q2qd.o $(O)/tund/ctl/q2qctl.o: VERSION

$(O)/libq2q.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(O)/q2qd: $(O)/tund/q2qd.o $(O)/libq2q.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/q2qctl: $(O)/tund/ctl/q2qctl.o $(O)/libq2q.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The NSS module (nss/): plain libc, loaded into every program that
# resolves a host name, so none of the daemon's libraries. Built from
# position-independent copies of its sources and of identity/name.c;
# nss/nss_q2q.map exports only glibc's entry points.
NSS_SRC := $(wildcard nss/*.c) identity/name.c
NSS_OBJ := $(NSS_SRC:%.c=$(O)/pic/%.o)

$(O)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -c -o $@ $<

$(O)/libnss_q2q.so.2: $(NSS_OBJ) nss/nss_q2q.map
	$(CC) $(CFLAGS) -fPIC -shared -Wl,-soname,libnss_q2q.so.2 \
		-Wl,--version-script=nss/nss_q2q.map -Wl,-z,relro -Wl,-z,now -Wl,-z,defs \
		-o $@ $(NSS_OBJ)

$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libq2q.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@tests/deps.sh

unit: $(TEST_BIN)
	@tests/unit/run.sh $(TEST_BIN)

# Unit tests alone, without root and without installing anything.
check: all unit

test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN)
	@tests/run-all.sh $(O)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(O)

# Sanitizer build used by the tests: make O=build-asan asan
asan:
	@$(MAKE) --no-print-directory O=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" all $(TEST_BIN:$(O)/%=build-asan/%)

# Coverage-guided fuzzing of the parsers (clang + libFuzzer, ASan, UBSan):
# a campaign of FUZZ_RUNS executions per target (default 10^7; hours for
# the slow targets, see tests/fuzz/README.md), or FUZZ_SECONDS each if only
# that is given. make test runs the short one. Skipped if clang is missing.
fuzz:
	@if [ -n "$$FUZZ_SECONDS" ] && [ -z "$$FUZZ_RUNS" ]; then \
		tests/fuzz/run.sh $(O)/fuzz; \
	else \
		FUZZ_RUNS=$${FUZZ_RUNS:-10000000} tests/fuzz/run.sh $(O)/fuzz; \
	fi

# Long-running traffic between two daemons with rekeys, roaming, down/up
# and restarts, under ASan, under valgrind and from a plain build whose RSS
# is the one to read (root; not part of make test): SOAK_MINUTES per mode
# (default 30), SOAK_MODES="asan valgrind plain".
soak: all
	@O=$(O) tests/soak/soak.sh
.PHONY: fuzz soak

# Scale figures (bench/README.md): programs that link libq2q.a, built only
# here, never by all or test.
BENCH_BIN := $(patsubst bench/%.c,$(O)/bench/%,$(wildcard bench/scale_*.c))
$(O)/bench/%: bench/%.c $(O)/libq2q.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libq2q.a $(LDLIBS)
bench: $(BENCH_BIN)
.PHONY: bench

# The configuration is installed only where none exists: an edited
# q2qd.conf survives every later install (tests/e2e/install.sh checks).
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/q2q
	install -m 0755 $(O)/q2qd $(DESTDIR)$(PREFIX)/sbin/q2qd
	install -m 0755 $(O)/q2qctl $(DESTDIR)$(PREFIX)/bin/q2qctl
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/q2qd.service > $(DESTDIR)$(UNITDIR)/q2qd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/q2qd.service
	test -e $(DESTDIR)$(SYSCONFDIR)/q2q/q2qd.conf || \
		install -m 0644 systemd/q2qd.conf $(DESTDIR)$(SYSCONFDIR)/q2q/q2qd.conf
	install -d $(DESTDIR)$(EXAMPLEDIR)
	install -m 0644 systemd/q2qd.conf.example $(DESTDIR)$(EXAMPLEDIR)/q2qd.conf.example
	install -d $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 systemd/q2q.sysusers $(DESTDIR)$(SYSUSERSDIR)/q2q.conf
	install -d $(DESTDIR)$(TMPFILESDIR)
	install -m 0644 systemd/q2q.tmpfiles $(DESTDIR)$(TMPFILESDIR)/q2q.conf
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 completion/q2qctl.bash $(DESTDIR)$(BASHCOMPDIR)/q2qctl
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0644 $(O)/libnss_q2q.so.2 $(DESTDIR)$(LIBDIR)/libnss_q2q.so.2

clean:
	rm -rf $(O) build-asan build-soak-valgrind build-soak-plain

.PHONY: all deps unit check test demo asan install clean
.SECONDARY:
-include $(LIB_OBJ:.o=.d) $(NSS_OBJ:.o=.d) $(O)/tund/q2qd.d $(O)/tund/ctl/q2qctl.d $(TEST_SRC:tests/unit/%.c=$(O)/tests/unit/%.d)
