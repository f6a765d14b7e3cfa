# titan node toolkit — plain GNU make, dependencies through pkg-config only.
#
#   make            build everything into build/
#   make test       install missing Debian packages (as root), build, run unit + bats tests
#   make asan       unit and bats tests with -fsanitize=address,undefined
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each
#   make bench      benchmarks, one JSON line each
#   make lint       cppcheck and mandoc -T lint
#   make install    PREFIX=/usr/local, DESTDIR honoured

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
BUILD   ?= build
VERSION := 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
WERROR  ?= -Werror
WARN    := -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 $(WERROR)
CPPFLAGS += -iquote common -D_GNU_SOURCE -DTITAN_VERSION='"$(VERSION)"'

# -iquote: project headers are included with quotes only. (The limits
# header is titan_limits.h: a common/limits.h shadowed glibc's <limits.h>
# even with -iquote, through gcc's #include_next.)
# Lazy (=) so that pkg-config runs only when a rule needs it, i.e. after
# `make deps` installed the packages.
# PKG_COMMON: what the modules of common/ (libtitan.a) use. Every program
# and test links libtitan.a with these; --as-needed drops the ones a
# program does not use.
PKG_COMMON = yaml-0.1 libcjson libcurl libmicrohttpd libarchive
pkgcflags = $(shell pkg-config --cflags $(1))
pkglibs   = $(shell pkg-config --libs $(1))
LIBS_COMMON = -Wl,--as-needed $(call pkglibs,$(PKG_COMMON)) -lm -lpthread

# Per-program pkg-config packages beyond the common ones: PKG_<program> := ...
PKG_titan-ujo :=
PKG_titan-metrics-pipe := rdkafka
PKG_titan-pm-httpd := sqlite3
PKG_titan-run-brick := python3-embed libcrypto
# Test helpers (tests/helpers/<name>.c -> build/helpers/<name>): PKG_helper_<name> := ...
PKG_helper_mockbroker := rdkafka

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIB        := $(BUILD)/libtitan.a
PROGS      := $(notdir $(wildcard cmd/*))
BINS       := $(PROGS:%=$(BUILD)/bin/%)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNITS      := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPERS    := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/helpers/%)
BENCH_SRC  := $(wildcard bench/*/main.c)
BENCHES    := $(BENCH_SRC:bench/%/main.c=$(BUILD)/bench/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
MANPAGES   := $(wildcard man/man*/*.[1-8])

# Debian 12 packages the build and the tests use (checked with dpkg first,
# so a repeated `make test` needs no network).
DEBS := build-essential pkg-config libyaml-dev libcmocka-dev libcjson-dev \
	libcurl4-openssl-dev libmicrohttpd-dev libarchive-dev libsqlite3-dev \
	librdkafka-dev kcat curl python3-dev python3-venv python3-cryptography \
	bats bats-support bats-assert bats-file xxd \
	clang libclang-rt-14-dev cppcheck mandoc python3

.PHONY: all deps test check units asan fuzz bench lint install uninstall clean

all: $(BINS) $(UNITS) $(HELPERS)

deps:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "make deps: missing Debian packages:" $$missing "(run make deps as root)" >&2; exit 1; \
		fi; \
		echo "make deps: installing" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(BUILD)/common/%.o: common/%.c common/*.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(call pkgcflags,$(PKG_COMMON)) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# One rule set per program: cmd/<prog>/*.c -> $(BUILD)/bin/<prog>
define prog_rule
$(1)_OBJ := $$(patsubst %.c,$(BUILD)/%.o,$$(wildcard cmd/$(1)/*.c))
$(BUILD)/cmd/$(1)/%.o: cmd/$(1)/%.c common/*.h $$(wildcard cmd/$(1)/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(WARN) $$(CFLAGS) $$(CPPFLAGS) $$(call pkgcflags,$$(PKG_COMMON) $$(PKG_$(1))) -c -o $$@ $$<
$(BUILD)/bin/$(1): $$($(1)_OBJ) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIB) $$(if $$(PKG_$(1)),$$(call pkglibs,$$(PKG_$(1)))) $$(LIBS_COMMON)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

$(BUILD)/tests/%: tests/unit/%.c tests/unit/*.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -iquote tests/unit $(call pkgcflags,cmocka $(PKG_COMMON)) $(LDFLAGS) -o $@ $< $(LIB) $(call pkglibs,cmocka) $(LIBS_COMMON)

$(BUILD)/helpers/%: tests/helpers/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(call pkgcflags,$(PKG_COMMON) $(PKG_helper_$*)) -o $@ $< $(LIB) $(if $(PKG_helper_$*),$(call pkglibs,$(PKG_helper_$*))) $(LIBS_COMMON)

$(BUILD)/bench/%: bench/%/main.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LIB) $(LIBS_COMMON)

units: $(UNITS)

# `make test` = deps, then a fresh make (so pkg-config sees new packages).
test: deps
	@$(MAKE) --no-print-directory check

check: all
	@TITAN_BIN=$(abspath $(BUILD)/bin) TITAN_HELPERS=$(abspath $(BUILD)/helpers) tests/run-tests $(BUILD)

asan: deps
	@LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	$(MAKE) --no-print-directory BUILD=build-asan CC=gcc \
		CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" check

FUZZ_SECONDS ?= 60
FUZZ_BUILD := build-fuzz
fuzz: deps
	@mkdir -p $(FUZZ_BUILD)
	@for src in $(FUZZ_SRC); do \
		t=$$(basename $$src .c); \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(CPPFLAGS) \
			-o $(FUZZ_BUILD)/$$t $$src $(COMMON_SRC) $(LIBS_COMMON) || exit 1; \
		mkdir -p $(FUZZ_BUILD)/corpus-$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		$(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/$$t- \
			$(FUZZ_BUILD)/corpus-$$t tests/fuzz/corpus/$${t#fuzz_} || exit 1; \
	done

BENCH_SCRIPTS := $(wildcard bench/*/run.sh)
bench: all $(BENCHES)
	@for b in $(BENCHES); do $$b || exit 1; done
	@for s in $(BENCH_SCRIPTS); do $$s $(abspath $(BUILD)/bin) || exit 1; done

lint:
	cppcheck --quiet --error-exitcode=2 --enable=warning,portability,performance \
		--inline-suppr --std=c11 -D_GNU_SOURCE -Icommon --suppress=missingIncludeSystem \
		common cmd tests/unit bench
	@for m in $(MANPAGES); do mandoc -T lint -W warning $$m || exit 1; done; echo "mandoc: $(words $(MANPAGES)) pages clean"

PYDIR := $(PREFIX)/share/titan/python

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/titan $(DESTDIR)$(PYDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	@# the brick API modules, found by titan-run-brick at <bin>/../share/titan/python;
	@# compiled here because the runner reads .pyc files but never writes them
	cp -R cmd/titan-run-brick/python/. $(DESTDIR)$(PYDIR)/
	find $(DESTDIR)$(PYDIR) -name __pycache__ -prune -exec rm -rf {} +
	/usr/bin/python3 -m compileall -q $(DESTDIR)$(PYDIR)
	install -m 644 etc/titan.yaml $(DESTDIR)$(SYSCONFDIR)/titan/titan.yaml.example
	@for m in $(MANPAGES); do \
		s=$$(echo $$m | sed 's/.*\.//'); \
		install -d $(DESTDIR)$(MANDIR)/man$$s && install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done

uninstall:
	rm -f $(PROGS:%=$(DESTDIR)$(BINDIR)/%)
	rm -rf $(DESTDIR)$(PYDIR)
	rm -f $(DESTDIR)$(SYSCONFDIR)/titan/titan.yaml.example
	@for m in $(MANPAGES); do s=$$(echo $$m | sed 's/.*\.//'); rm -f $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m); done

clean:
	rm -rf build build-asan $(FUZZ_BUILD)
