# pam_devflow — the front door: all, check, demo, install, bench, fuzz, deb, rpm, clean, deps.
# meson.build is the build; this file only sets up build directories and calls meson:
#   build/release  `make`: the release build; its outputs are copied to devflowd/devflowd,
#                  pam_devflow/pam_devflow.so and devflowctl/devflowctl
#   build/asan     the unit tests, the test tools and the daemon the integration tests run (-Db_sanitize)
#   build/fuzz     the libFuzzer targets (clang, -Dfuzzers=true)
# No tool is called before a recipe needs it: `make check`, `make demo` and `make deb` run on a machine that
# has no compiler or meson yet, and tests/deps.sh installs them first.

PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=
MESON ?= meson
CLANG ?= clang
# Install directories: empty means what meson.build asks pkg-config (pam.pc, systemd.pc, dbus-1.pc).
PAMDIR ?=
UNITDIR ?=
LIBEXECDIR ?= $(PREFIX)/libexec
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
# make check sets WERROR=true (CI); a plain build does not fail on a new compiler's new warning.
WERROR ?= false

REL_OPTS = --buildtype=debugoptimized -Dwerror=$(WERROR) -Dtests=false \
        --prefix=$(PREFIX) --sysconfdir=$(SYSCONFDIR) --libexecdir=$(LIBEXECDIR) --bindir=$(BINDIR) \
        --sbindir=$(SBINDIR) --datadir=$(DATADIR) --mandir=$(MANDIR) \
        -Dpamdir=$(PAMDIR) -Dsystemdsystemunitdir=$(UNITDIR)
ASAN_OPTS = --buildtype=debug -Doptimization=1 -Dwerror=$(WERROR) -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args='-fno-sanitize-recover=all -fno-omit-frame-pointer'
FUZZ_OPTS = --buildtype=debug -Doptimization=1 -Dfuzzers=true -Dtests=false -Db_sanitize=address,undefined \
        -Db_lundef=false

# $(call meson_dir,DIR,OPTIONS[,ENV]): DIR is a meson build directory set up with OPTIONS (set up when it is
# missing, reconfigured when OPTIONS changed since: DIR/make-options keeps them).
meson_dir = @set -e; if [ ! -f $1/build.ninja ]; then rm -rf $1; $3 $(MESON) setup $1 $2; echo "$2" >$1/make-options; \
        elif [ "$$(cat $1/make-options 2>/dev/null)" != "$2" ]; then $(MESON) configure $1 $2; echo "$2" >$1/make-options; fi

OUTPUTS := devflowd/devflowd pam_devflow/pam_devflow.so devflowctl/devflowctl

.PHONY: all release check unit demo install bench fuzz fuzz-build deb rpm clean deps asan dist FORCE
.DEFAULT_GOAL := all

all: release

release:
	$(call meson_dir,build/release,$(REL_OPTS))
	$(MESON) compile -C build/release devflowd pam_devflow devflowctl
	@for f in $(OUTPUTS); do b=build/release/$${f##*/}; cmp -s $$b $$f || cp -f $$b $$f; done

$(OUTPUTS): release ;

# ---- sanitizer build: unit tests, test tools and the daemon the integration tests run --------------
asan:
	$(call meson_dir,build/asan,$(ASAN_OPTS))
	$(MESON) compile -C build/asan

# One program of it, e.g. make build/asan/tool-flowclient (tests/lib.sh).
build/asan/%: FORCE
	$(call meson_dir,build/asan,$(ASAN_OPTS))
	$(MESON) compile -C build/asan $*

# ---- fuzzing (clang's libFuzzer) -----------------------------------------------------------------
fuzz-build:
	$(call meson_dir,build/fuzz,$(FUZZ_OPTS),CC=$(CLANG))
	$(MESON) compile -C build/fuzz fuzzers

FUZZ_SECONDS ?= 60
fuzz: fuzz-build
	@for f in build/fuzz/fuzz-*; do [ -f "$$f" ] && [ -x "$$f" ] || continue; \
		case $$f in */fuzz-replay-*) continue;; esac; n=$${f##*/fuzz-}; mkdir -p build/fuzz/corpus-$$n; \
		echo "== $$f for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

# ---- tests -------------------------------------------------------------------------------------
deps:
	@bash tests/deps.sh

# The unit suite alone (no root, no network): what package builds run.
unit: asan
	$(MESON) test -C build/asan --suite unit --print-errorlogs

# $(call logged_make,TARGETS,LOG): builds TARGETS with the compiler's lines in LOG (its last lines
# are shown when the build fails), so that what the user reads is the narrative.
logged_make = @mkdir -p build; echo "build: compiling (the compiler's output goes to $2)"; \
	$(MAKE) --no-print-directory $1 >$2 2>&1 || { tail -n 40 $2; echo "build: failed, whole log in $2"; exit 1; }

# All suites (unit, integration, e2e, pkg: meson.build names them), run by tests/run-tests.sh.
check: deps
	$(call logged_make,all asan fuzz-build WERROR=true,build/check-build.log)
	@bash tests/run-tests.sh

demo: deps
	$(call logged_make,all,build/demo-build.log)
	@bash tests/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bash bench/run.sh

# Benchmark programs: bench/NAME.c → build/bench/NAME, release flags (bench/run.sh builds them).
build/bench/%: FORCE
	$(call meson_dir,build/release,$(REL_OPTS))
	$(MESON) compile -C build/release $*
	@mkdir -p build/bench && cp -f build/release/$* $@

# ---- install, release tarball, packages -------------------------------------------------------------
install: release
	DESTDIR=$(DESTDIR) $(MESON) install -C build/release --no-rebuild

# build/release/meson-dist/pam_devflow-VERSION.tar.xz, from what is committed (meson dist checks it builds
# and passes its tests; the unit suite needs no root).
dist: release
	$(MESON) dist -C build/release --include-subprojects

deb:
	@bash debian/build.sh

rpm:
	@bash rpm/build.sh

clean:
	rm -rf build $(OUTPUTS)
