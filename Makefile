# pam_devflow — one entry point: all, check, demo, install, bench, fuzz, deb, rpm, clean, deps.
# GNU make and pkg-config. Every unit is discovered by wildcard, so a new file needs no edit here.

VERSION := 0.1.0
PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=
CC ?= cc
CLANG ?= clang
PKG_CONFIG ?= pkg-config

# Tools are asked only when a recipe needs the answer, once: `make deps`, `make check` and `make demo`
# run on a machine that has no compiler or pkg-config yet, and tests/deps.sh installs them first.
# $(call once,VAR,shell command): the command's output, computed at the first use of VAR.
once = $(eval $1 := $$(shell $2))$($1)

MULTIARCH = $(call once,MULTIARCH,dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null)
# The PAM module directory: <libdir>/security of libpam's pkg-config (Debian 12: /lib/<multiarch>/security,
# where libpam itself looks and ships its modules), else /lib/<multiarch>/security. PREFIX does not move it:
# libpam only loads modules from its own directory.
PAM_LIBDIR = $(call once,PAM_LIBDIR,$(PKG_CONFIG) --variable=libdir pam 2>/dev/null)
PAMDIR ?= $(if $(PAM_LIBDIR),$(PAM_LIBDIR),/lib/$(MULTIARCH))/security
LIBEXECDIR ?= $(PREFIX)/libexec
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
UNITDIR ?= $(call once,UNITDIR,$(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)

DAEMON_PKGS := libcurl json-c libsystemd libcrypto
MODULE_PKGS := libsystemd libqrencode pam

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 -Wmissing-prototypes \
        -Wstrict-prototypes -Wvla -Wimplicit-fallthrough
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -g -fPIC -I. -Icommon -DDEVFLOW_VERSION_STRING='"$(VERSION)"'
CFLAGS ?= -O2
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2
HARDEN_LD := -Wl,-z,relro,-z,now -Wl,--as-needed
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

D_PKG_CFLAGS = $(call once,D_PKG_CFLAGS,$(PKG_CONFIG) --cflags $(DAEMON_PKGS))
D_LIBS = $(call once,D_LIBS,$(PKG_CONFIG) --libs $(DAEMON_PKGS))
M_PKG_CFLAGS = $(call once,M_PKG_CFLAGS,$(PKG_CONFIG) --cflags $(MODULE_PKGS))
M_LIBS = $(call once,M_LIBS,$(PKG_CONFIG) --libs $(MODULE_PKGS))
CURL_CFLAGS = $(call once,CURL_CFLAGS,$(PKG_CONFIG) --cflags libcurl)
CURL_LIBS = $(call once,CURL_LIBS,$(PKG_CONFIG) --libs libcurl)
CRYPTO_LIBS = $(call once,CRYPTO_LIBS,$(PKG_CONFIG) --libs libcrypto)
D_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(HARDEN) $(D_PKG_CFLAGS)
M_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(HARDEN) $(M_PKG_CFLAGS)
A_CFLAGS = $(BASE_CFLAGS) -O1 $(SAN) $(D_PKG_CFLAGS) $(M_PKG_CFLAGS)
A_LIBS = $(D_LIBS) $(M_LIBS)

COMMON_SRCS := $(wildcard common/*.c)
DAEMON_SRCS := $(wildcard devflowd/*.c)
DAEMON_LIB_SRCS := $(filter-out devflowd/main.c,$(DAEMON_SRCS))
MODULE_SRCS := $(wildcard pam_devflow/*.c)
MODULE_LIB_SRCS := $(filter-out pam_devflow/pam_devflow.c,$(MODULE_SRCS))
CTL_SRCS := $(wildcard devflowctl/*.c)
HEADERS := $(wildcard common/*.h devflowd/*.h pam_devflow/*.h devflowctl/*.h tests/unit/*.h)

# devflowctl's units without main() or bus calls, for unit tests (test-sshd-config.c …).
CTL_LIB_SRCS := $(filter-out devflowctl/devflowctl.c devflowctl/doctor.c,$(CTL_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,build/asan/%,$(UNIT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,build/asan/tool-%,$(TOOL_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))

TARGETS := devflowd/devflowd pam_devflow/pam_devflow.so $(if $(CTL_SRCS),devflowctl/devflowctl)

.PHONY: all check unit demo install bench fuzz deb rpm clean deps asan
.DEFAULT_GOAL := all

all: $(TARGETS)

# ---- release build ---------------------------------------------------------------------------
build/rel/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(if $(filter pam_devflow/%,$<),$(M_CFLAGS),$(D_CFLAGS)) -c $< -o $@

devflowd/devflowd: $(patsubst %.c,build/rel/%.o,$(DAEMON_SRCS) $(COMMON_SRCS))
	$(CC) $(D_CFLAGS) -pie $(HARDEN_LD) -o $@ $^ $(D_LIBS)

# devflowctl links the module's own argument parser (doctor judges pam_devflow lines with it) and QR code,
# and the daemon's configuration parser (doctor probes the IdP that configuration names), which checks
# id_token_algs against jwa.c's table (libcrypto).
CTL_MODULE_SRCS := pam_devflow/args.c pam_devflow/qr.c
CTL_DAEMON_SRCS := devflowd/config.c devflowd/jwa.c devflowd/log.c devflowd/netaddr.c devflowd/secure-file.c devflowd/url-policy.c
devflowctl/devflowctl: $(patsubst %.c,build/rel/%.o,$(CTL_SRCS) $(COMMON_SRCS) $(CTL_MODULE_SRCS) $(CTL_DAEMON_SRCS))
	$(CC) $(M_CFLAGS) -pie $(HARDEN_LD) -o $@ $^ $(M_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS)

pam_devflow/pam_devflow.so: $(patsubst %.c,build/rel/%.o,$(MODULE_SRCS) $(COMMON_SRCS)) pam_devflow/pam_devflow.map
	$(CC) $(M_CFLAGS) -shared $(HARDEN_LD) -Wl,--version-script=pam_devflow/pam_devflow.map \
		-o $@ $(filter %.o,$^) $(M_LIBS)

# ---- sanitizer build: unit tests and the daemon the integration tests run ----------------------
build/asan/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(A_CFLAGS) -c $< -o $@

build/asan/libdevflowd.a: $(patsubst %.c,build/asan/obj/%.o,$(DAEMON_LIB_SRCS) $(COMMON_SRCS))
	@rm -f $@; ar rcs $@ $^

build/asan/libmodule.a: $(patsubst %.c,build/asan/obj/%.o,$(MODULE_LIB_SRCS))
	@rm -f $@; $(if $^,ar rcs $@ $^,ar rcs $@)

build/asan/libctl.a: $(patsubst %.c,build/asan/obj/%.o,$(CTL_LIB_SRCS))
	@rm -f $@; $(if $^,ar rcs $@ $^,ar rcs $@)

build/asan/test-%: tests/unit/test-%.c build/asan/libctl.a build/asan/libdevflowd.a build/asan/libmodule.a $(HEADERS)
	$(CC) $(A_CFLAGS) -Itests/unit -Idevflowd -Ipam_devflow -Idevflowctl -o $@ $< build/asan/libctl.a build/asan/libmodule.a \
		build/asan/libdevflowd.a $(A_LIBS)

build/asan/devflowd: $(patsubst %.c,build/asan/obj/%.o,$(DAEMON_SRCS) $(COMMON_SRCS))
	$(CC) $(A_CFLAGS) -o $@ $^ $(D_LIBS)

# Test programs (bus clients and the like) that the integration tests run.
build/asan/tool-%: tests/tools/%.c build/asan/libdevflowd.a build/asan/libmodule.a $(HEADERS)
	$(CC) $(A_CFLAGS) -Itests/unit -Idevflowd -Ipam_devflow -o $@ $< build/asan/libmodule.a build/asan/libdevflowd.a $(A_LIBS)

asan: build/asan/devflowd $(UNIT_BINS) $(TOOL_BINS)

# ---- fuzzing (clang's libFuzzer) -----------------------------------------------------------------
FZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -g -O1 -I. -Icommon -Idevflowd -fsanitize=fuzzer,address,undefined \
        $(D_PKG_CFLAGS)
build/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FZ_CFLAGS) -c $< -o $@

build/fuzz/libdevflowd.a: $(patsubst %.c,build/fuzz/obj/%.o,$(DAEMON_LIB_SRCS) $(COMMON_SRCS))
	@rm -f $@; ar rcs $@ $^

build/fuzz/fuzz-%: tests/fuzz/fuzz-%.c build/fuzz/libdevflowd.a $(HEADERS)
	$(CLANG) $(FZ_CFLAGS) -o $@ $< build/fuzz/libdevflowd.a $(D_LIBS)

FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$${f##*/fuzz-}; mkdir -p build/fuzz/corpus-$$n; \
		echo "== $$f for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

# ---- tests -------------------------------------------------------------------------------------
deps:
	@bash tests/deps.sh

unit: $(UNIT_BINS)

# $(call logged_make,TARGETS,LOG): builds TARGETS with the compiler's lines in LOG (its last lines
# are shown when the build fails), so that what the user reads is the narrative.
logged_make = @mkdir -p build; echo "build: compiling (the compiler's output goes to $2)"; \
	$(MAKE) --no-print-directory $1 >$2 2>&1 || { tail -n 40 $2; echo "build: failed, whole log in $2"; exit 1; }

check: deps
	$(call logged_make,all asan $(FUZZ_BINS),build/check-build.log)
	@bash tests/run-tests.sh

demo: deps
	$(call logged_make,all,build/demo-build.log)
	@bash tests/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bash bench/run.sh

# Benchmark programs: bench/NAME.c → build/bench/NAME, release flags (bench/run.sh builds them).
build/bench/%: bench/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(M_CFLAGS) $(CURL_CFLAGS) -o $@ $< $(M_LIBS) $(CURL_LIBS) -lpthread

# ---- install -----------------------------------------------------------------------------------
install: all
	install -Dm0644 pam_devflow/pam_devflow.so $(DESTDIR)$(PAMDIR)/pam_devflow.so
	install -Dm0755 devflowd/devflowd $(DESTDIR)$(LIBEXECDIR)/devflowd
	$(if $(CTL_SRCS),install -Dm0755 devflowctl/devflowctl $(DESTDIR)$(BINDIR)/devflowctl)
	install -Dm0644 conf/net.devflow.Devflow1.conf $(DESTDIR)$(DATADIR)/dbus-1/system.d/net.devflow.Devflow1.conf
	install -Dm0644 conf/devflowd.service $(DESTDIR)$(UNITDIR)/devflowd.service
	install -Dm0644 conf/net.devflow.Devflow1.service $(DESTDIR)$(DATADIR)/dbus-1/system-services/net.devflow.Devflow1.service
	install -Dm0600 conf/devflowd.conf $(DESTDIR)$(SYSCONFDIR)/devflow/devflowd.conf
	install -d -m0755 $(DESTDIR)$(SYSCONFDIR)/devflow/devflowd.conf.d
	for f in conf/pam.d/*; do install -Dm0644 $$f $(DESTDIR)$(DATADIR)/doc/pam-devflow/examples/pam.d/$${f##*/}; done
	install -Dm0644 conf/sshd_config.d/50-devflow.conf $(DESTDIR)$(DATADIR)/doc/pam-devflow/examples/sshd_config.d/50-devflow.conf
	$(if $(wildcard conf/pam-configs/*),install -Dm0644 conf/pam-configs/devflow $(DESTDIR)$(DATADIR)/pam-configs/devflow)
	for m in man/*.[0-9]; do s=$${m##*.}; install -Dm0644 $$m $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

deb:
	@bash debian/build.sh

rpm:
	@bash rpm/build.sh

clean:
	rm -rf build devflowd/devflowd pam_devflow/pam_devflow.so devflowctl/devflowctl
