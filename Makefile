# Wegwijs backend: one non-recursive GNU Makefile.
#
#   make              library (static + shared + pkg-config file) and the wegwijs command
#   make test         every test, then again under AddressSanitizer + UBSan
#   make run          set up a local data folder and show the day (ARGS="..." for other verbs)
#   make bench        every benchmark; each prints "bench: NAME VALUE UNIT" lines
#   make soak N=1000  the kill -9 crash loop against real processes (SEED=... to repeat one)
#   make fuzz         every libFuzzer target for FUZZ_TIME seconds (clang)
#   make lint         clang-format check, banned functions, layering
#   make install      PREFIX=/usr/local DESTDIR=
#   make climate-report  write docs/reports/climate-demo.html and .csv (`climate demo`)
#   make pot          extract the command's messages into po/wegwijs.pot, merge into po/*.po
#   make SAN=address,undefined ...   any target with sanitizers, in build-san/
#   make V=1 ...      show the full commands
#
# Dependencies come from pkg-config; `make deps` installs missing Debian packages and every
# target that builds runs it first (it is quick when nothing is missing).

.SUFFIXES:
.DELETE_ON_ERROR:

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
LOCALEDIR ?= $(PREFIX)/share/locale
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
VERSION := 0.1.0
SOVERSION := 0

V ?= 0
Q := $(if $(filter 1,$(V)),,@)
# One short line per step unless V=1.
say = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2);)

CC ?= cc
CLANG ?= clang
SAN ?=
BUILD ?= build$(if $(SAN),-san)
FUZZ_TIME ?= 60
FUZZ_BUILD := build-fuzz
PKGS := libuv libsodium msgpack sqlite3
# The command alone also uses jansson, for its --json output (escaping and UTF-8 done right by
# a library), and libqrencode, for an invite's QR code on a terminal; the library uses
# neither.
CLI_PKGS := jansson libqrencode

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wformat=2 -Wimplicit-fallthrough -Werror
OPT ?= -O2 -g
SANFLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all)
INCS := -Iproto -Icore -Isync
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(INCS) -MMD -MP
ALL_CFLAGS = $(BASE_CFLAGS) $(WARN) $(OPT) -fPIC $(SANFLAGS) $(CFLAGS)
# Evaluated lazily, after `deps` has had its chance to install the packages.
LIBS = $(shell pkg-config --libs $(PKGS)) -lm

LIB_SRCS := $(wildcard proto/*.c) $(wildcard core/*.c) $(wildcard sync/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_SRCS := $(wildcard tests/unit/*.c) $(wildcard tests/integ/*.c)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tests/runner.o
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)

STATIC := $(BUILD)/libwegwijs.a
SHARED := $(BUILD)/libwegwijs.so.$(VERSION)
PCFILE := $(BUILD)/wegwijs.pc
CLI := $(BUILD)/wegwijs
# The command's message catalogues: po/LANG.po -> $(BUILD)/locale/LANG/LC_MESSAGES/wegwijs.mo.
# The binary reads them there (next to itself) in the build tree, and from $(LOCALEDIR) once
# installed.
PO_LANGS := $(patsubst po/%.po,%,$(wildcard po/*.po))
MO_FILES := $(PO_LANGS:%=$(BUILD)/locale/%/LC_MESSAGES/wegwijs.mo)
UNIT := $(BUILD)/tests/unit_tests

.PHONY: all deps pot FORCE test test-plain test-san replay run bench soak fuzz fuzz-smoke lint fmt \
        install clean climate-report

all: deps $(STATIC) $(SHARED) $(PCFILE) $(CLI) $(MO_FILES)

deps:
	@sh tests/deps.sh

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$@) $(CC) $(ALL_CFLAGS) -c $< -o $@

# The public headers, as `make install` lays them out. The command compiles against these
# alone: what it does, an app embedding the library can do too.
PUBLIC_HDRS := core/wegwijs.h core/wegwijs_agg.h proto/ww_err.h proto/ww_enums.h sync/wegwijs_sync.h
PUBLIC_INC := $(BUILD)/include/wegwijs
$(PUBLIC_INC)/%.h: core/%.h
	@mkdir -p $(dir $@)
	@cp $< $@
$(PUBLIC_INC)/%.h: proto/%.h
	@mkdir -p $(dir $@)
	@cp $< $@
$(PUBLIC_INC)/%.h: sync/%.h
	@mkdir -p $(dir $@)
	@cp $< $@
CLI_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -I$(PUBLIC_INC) -Icli -MMD -MP $(WARN) $(OPT) \
             -DWW_LOCALEDIR='"$(LOCALEDIR)"' $(shell pkg-config --cflags $(CLI_PKGS)) $(SANFLAGS) \
             $(CFLAGS)
PUBLIC_COPIES := $(addprefix $(PUBLIC_INC)/,$(notdir $(PUBLIC_HDRS)))
# Named here so that make knows they can be made: otherwise the generic %.o rule, with the
# library's own include paths, would win for cli/*.c.
$(CLI_OBJS): $(PUBLIC_COPIES)
$(BUILD)/cli/%.o: cli/%.c $(PUBLIC_COPIES) | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$@) $(CC) $(CLI_CFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@) ar rcs $@ $^

$(SHARED): $(LIB_OBJS)
	$(call say,LD,$@) $(CC) -shared -Wl,-soname,libwegwijs.so.$(SOVERSION) $(SANFLAGS) -o $@ $^ $(LIBS)
	$(Q)ln -sf libwegwijs.so.$(VERSION) $(BUILD)/libwegwijs.so

$(PCFILE): Makefile
	@mkdir -p $(dir $@)
	$(call say,GEN,$@) printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: wegwijs\nDescription: %s\nVersion: %s\nRequires.private: %s\nLibs: -L$${libdir} -lwegwijs\nCflags: -I$${includedir}/wegwijs\n' \
	  '$(PREFIX)' '$(LIBDIR)' '$(INCDIR)' 'offline-first peer-to-peer learning backend' \
	  '$(VERSION)' '$(PKGS)' > $@

$(CLI): $(CLI_OBJS) $(STATIC)
	$(call say,LD,$@) $(CC) $(SANFLAGS) -o $@ $(CLI_OBJS) $(STATIC) $(LIBS) \
	  $(shell pkg-config --libs $(CLI_PKGS))

# msg.c has LOCALEDIR compiled in: rebuilt when it changes (make install PREFIX=...).
$(BUILD)/cli/msg.o: $(BUILD)/localedir.txt
$(BUILD)/localedir.txt: FORCE
	@mkdir -p $(dir $@)
	@echo '$(LOCALEDIR)' | cmp -s - $@ || echo '$(LOCALEDIR)' > $@
FORCE:

$(BUILD)/locale/%/LC_MESSAGES/wegwijs.mo: po/%.po | deps
	@mkdir -p $(dir $@)
	$(call say,MSGFMT,$@) msgfmt --check -o $@ $<

# The msgids are the English texts in cli/*.c; after changing one, `make pot` and translate.
XGETTEXT_FLAGS := --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ \
                  --add-comments=TRANSLATORS: --package-name=wegwijs --package-version=$(VERSION) \
                  --msgid-bugs-address=team@wegwijs.invalid --copyright-holder="the Wegwijs team" \
                  --sort-by-file
pot: deps
	xgettext $(XGETTEXT_FLAGS) -o po/wegwijs.pot $(CLI_SRCS)
	@set -e; for p in po/*.po; do msgmerge --quiet --update --backup=none $$p po/wegwijs.pot; done

# The test table is generated from the TEST(name) lines of the test sources.
$(BUILD)/tests/tests.gen.h: $(TEST_SRCS)
	@mkdir -p $(dir $@)
	@{ for n in $$(sed -n 's/^TEST(\([A-Za-z0-9_]*\)).*/\1/p' $(TEST_SRCS)); do \
	     echo "void test_$$n(void);"; done; \
	   echo 'struct test_entry { const char *name; void (*fn)(void); };'; \
	   echo 'static const struct test_entry tests[] = {'; \
	   for n in $$(sed -n 's/^TEST(\([A-Za-z0-9_]*\)).*/\1/p' $(TEST_SRCS)); do \
	     echo "    {\"$$n\", test_$$n},"; done; \
	   echo '};'; } > $@

$(BUILD)/tests/runner.o: tests/runner.c $(BUILD)/tests/tests.gen.h | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$@) $(CC) $(ALL_CFLAGS) -I$(BUILD)/tests -Itests -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$@) $(CC) $(ALL_CFLAGS) -Itests -Itests/unit $(shell pkg-config --cflags $(CLI_PKGS)) \
	  -c $< -o $@

# The tests of the command parse its --json output with jansson too.
$(UNIT): $(TEST_OBJS) $(STATIC)
	$(call say,LD,$@) $(CC) $(SANFLAGS) -o $@ $(TEST_OBJS) $(STATIC) $(LIBS) \
	  $(shell pkg-config --libs $(CLI_PKGS))

# Fuzz targets double as regression tests: replay_<name> runs the target over its seed
# corpus and every committed crasher, with any compiler.
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(STATIC) | deps
	@mkdir -p $(dir $@)
	$(call say,LD,$@) $(CC) $(ALL_CFLAGS) -Itests -o $@ $< tests/fuzz/replay.c $(STATIC) $(LIBS)

$(BUILD)/bench/%: bench/%.c $(STATIC) | deps
	@mkdir -p $(dir $@)
	$(call say,LD,$@) $(CC) $(ALL_CFLAGS) -Ibench -o $@ $< $(STATIC) $(LIBS)

test: deps
	@$(MAKE) --no-print-directory test-plain
	@$(MAKE) --no-print-directory test-san SAN=address,undefined

# The plain build also runs the short crash loop (SOAK_KILLS kills); under the sanitizers it
# would only repeat the same processes more slowly.
SOAK_KILLS ?= 50
test-plain test-san: $(UNIT) $(REPLAY_BINS) $(CLI) $(MO_FILES)
	@WW_SOAK_KILLS=$(if $(SAN),0,$(SOAK_KILLS)) sh tests/run.sh $(BUILD)

run: all
	@sh cli/run.sh $(CLI) $(ARGS)

# The committed demo report: generated data, the real aggregation (docs/reports/).
climate-report: $(CLI) $(MO_FILES)
	$(CLI) --lang en climate demo --html docs/reports/climate-demo.html
	$(CLI) --lang en climate demo --csv > docs/reports/climate-demo.csv
	@if command -v xmllint >/dev/null; then xmllint --noout docs/reports/climate-demo.html; fi

bench: deps $(CLI) $(MO_FILES) $(BENCH_BINS)
	@set -e; for b in $(BENCH_BINS); do echo "# $$b"; $$b; done

N ?= 50
SEED ?=
soak: all
	@sh tests/soak/crash_loop.sh $(CLI) $(N) $(SEED)

# libFuzzer builds use clang and their own object directory.
FUZZ_CFLAGS = $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined
$(FUZZ_BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(call say,CC,$@) $(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o) | deps
	$(call say,LD,$@) $(CLANG) $(BASE_CFLAGS) -Itests -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c %.o,$^) $(LIBS)

fuzz: $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_NAMES)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(or $(FUZZ_SMOKE_TIME),15)

lint:
	@sh tests/lint.sh

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/wegwijs $(DESTDIR)$(BINDIR)
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libwegwijs.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libwegwijs.so.$(SOVERSION)
	ln -sf libwegwijs.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libwegwijs.so
	install -m 644 $(PUBLIC_HDRS) $(DESTDIR)$(INCDIR)/wegwijs/
	install -m 644 $(PCFILE) $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 cli/wegwijs.bash-completion $(DESTDIR)$(BASHCOMPDIR)/wegwijs
	install -m 644 docs/wegwijs.1 $(DESTDIR)$(MANDIR)/man1/
	@set -e; for l in $(PO_LANGS); do \
	  install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES; \
	  install -m 644 $(BUILD)/locale/$$l/LC_MESSAGES/wegwijs.mo $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/; \
	done

clean:
	rm -rf build build-san $(FUZZ_BUILD)

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
