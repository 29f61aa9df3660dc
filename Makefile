# SPDX-License-Identifier: Apache-2.0
# Makefile - builds librulevm (static and shared), librulec (shared: the
# compiler and the VM, for hosts such as python/), rulec, rulesd and the tests.
#
#   make            build the libraries, rulec and rulesd into $(BUILD)/
#                   (needs libyaml, libpcre2, nettle, libmicrohttpd, libcurl;
#                   libsystemd is used when present)
#   make test       every suite in tests/ (run-all.sh): unit (cmocka, needed
#                   only here), golden, cli, badinput, ruletests, server,
#                   build, version, install; ends with "N passed, M failed"
#   make deps       install the Debian packages that are missing
#   make WERROR=1   warnings are errors (CI)
#   make SANITIZE=1 AddressSanitizer + UBSan build in build-san/
#   make V=1        show the commands
#   make CPPFLAGS=... CFLAGS=... LDFLAGS=...   added to every compile / link
#   make demo       install what is missing, build, run the main job
#   make fuzz       libFuzzer targets for FUZZ_SECONDS each (installs clang)
#   make bench      benchmarks against jq, Python, pydantic, FastAPI
#   make bench-json the JSON parsers side by side (needs libsimdjson-dev)
#   make install    see below; make uninstall removes exactly those files
#   make clean      removes build/, build-san/ and build-fuzz/, or only
#                   $(BUILD) when BUILD is given (make clean BUILD=/tmp/x)
#
# Every output, generated flex/bison sources included, goes under $(BUILD).
#
# The version is RV_VERSION_MAJOR/MINOR/PATCH in vm/rulevm.h and nowhere
# else: rulec/rulesd --version, rulevm.pc, rulec.pc,
# librulevm.so.MAJOR.MINOR.PATCH (SONAME librulevm.so.SOVERSION) and
# librulec.so.MAJOR.MINOR.PATCH (SONAME librulec.so.SOVERSION) follow it;
# SOVERSION is MAJOR, or 0.MINOR while MAJOR is 0.
#
# make install [DESTDIR=/stage] [PREFIX=/usr/local] writes (each directory
# can be set on its own):
#   BINDIR=PREFIX/bin                  rulec, rulesd
#   LIBDIR=PREFIX/lib                  librulevm.a, librulevm.so.VERSION and
#                                      the links librulevm.so.SOVERSION, .so;
#                                      librulec.so.VERSION and its links
#   INCLUDEDIR=PREFIX/include          rulevm.h, rulec.h
#   PKGCONFIGDIR=LIBDIR/pkgconfig      rulevm.pc, rulec.pc
#   SYSTEMDUNITDIR=PREFIX/lib/systemd/system
#                                      rulesd.service, its paths rewritten to
#                                      BINDIR, SYSCONFDIR and DOCDIR
#   SYSCONFDIR=/etc (PREFIX/etc unless PREFIX is /usr or /usr/local)
#                                      rulesd/rulesd.example.yaml, beside the
#                                      rulesd.yaml the unit reads (that file
#                                      is the administrator's: never written)
#   DOCDIR=PREFIX/share/doc/rules      README.md, docs/*.md
#   MANDIR=PREFIX/share/man            rulec.1, rulesd.8, rules.5 (scdoc)
#   BASHCOMPDIR, ZSHCOMPDIR, FISHCOMPDIR   rulec's completions (bash-completion,
#                                      zsh vendor-completions, fish vendor_completions.d)
#   VIMDIR=PREFIX/share/vim/vimfiles   syntax/rules.vim, ftdetect/rules.vim
# /etc for the system prefixes because systemd and the docs expect
# /etc/rulesd; an unprivileged PREFIX (~/.local, /opt/x) stays inside PREFIX.

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build-san
else
BUILD ?= build
endif

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
# Install directories (the header comment says why these defaults).
BINDIR         ?= $(PREFIX)/bin
LIBDIR         ?= $(PREFIX)/lib
INCLUDEDIR     ?= $(PREFIX)/include
PKGCONFIGDIR   ?= $(LIBDIR)/pkgconfig
SYSCONFDIR     ?= $(if $(filter /usr /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc)
DOCDIR         ?= $(PREFIX)/share/doc/rules
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR         ?= $(PREFIX)/share/man
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR     ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR    ?= $(PREFIX)/share/fish/vendor_completions.d
VIMDIR         ?= $(PREFIX)/share/vim/vimfiles
SCDOC   ?= scdoc
FLEX    ?= flex
BISON   ?= bison

# The version is read from the public header (see its RV_VERSION_* macros).
# The shared libraries' SONAME is librulevm.so.MAJOR, except while MAJOR is
# 0: then every minor version may change the ABI (0.3 grew rv_request), so
# the SONAME is librulevm.so.0.MINOR and a program linked against 0.2 is
# not given 0.3.
version_part = $(shell sed -n 's/^.define RV_VERSION_$(1)  *\([0-9][0-9]*\).*/\1/p' vm/rulevm.h)
VERSION   := $(call version_part,MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
ifneq ($(words $(subst ., ,$(VERSION))),3)
$(error cannot read RV_VERSION_MAJOR/MINOR/PATCH from vm/rulevm.h (got '$(VERSION)'))
endif
SOVERSION := $(if $(filter 0,$(call version_part,MAJOR)),0.$(call version_part,MINOR),$(call version_part,MAJOR))
LIBNAME   := librulevm
CLIBNAME  := librulec

PKGS := yaml-0.1 libpcre2-8 nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
# rulesd pulls bundles over HTTP(S) with libcurl, and tells systemd it is
# ready with libsystemd's sd_notify when libsystemd is there (optional:
# without it rulesd cannot run as Type=notify; docs/rulesd.md).
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null)
SYSTEMD_OK  := $(shell pkg-config --exists libsystemd 2>/dev/null && echo yes)
SYSTEMD_CFLAGS := $(if $(SYSTEMD_OK),-DRD_HAVE_SYSTEMD $(shell pkg-config --cflags libsystemd))
SYSTEMD_LIBS   := $(if $(SYSTEMD_OK),$(shell pkg-config --libs libsystemd))
SERVER_CFLAGS := $(MHD_CFLAGS) $(CURL_CFLAGS) $(SYSTEMD_CFLAGS)
SERVER_LIBS   := $(MHD_LIBS) $(CURL_LIBS) $(SYSTEMD_LIBS)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
# Signed bundles (sign/): nettle's Ed25519 lives in libhogweed. Only rulec
# and rulesd link it, never the VM library.
SIGN_PKGS   := hogweed nettle
SIGN_LIBS   := $(shell pkg-config --libs $(SIGN_PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT ?= -O2 -g
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -MMD -MP $(PKG_CFLAGS) $(CFLAGS)

# Include paths, one set per module: a module sees only the headers its
# arrows allow (README, "Layout"), so a wrong include fails to compile.
# Programs see the public headers through $(BUILD)/include, which holds
# copies of rulevm.h and rulec.h and nothing else; tests/run-layout.sh
# checks the #include lines themselves too (a relative path gets past -I).
PUBLIC_INC    := $(BUILD)/include
PUBLIC_HDRS   := $(PUBLIC_INC)/rulevm.h $(PUBLIC_INC)/rulec.h
INC_util      := -Iutil
INC_vm        := -Iutil -Ivm
INC_grammar   := -I$(PUBLIC_INC) -Iutil -Igrammar -I$(BUILD)/grammar
INC_compiler  := -I$(PUBLIC_INC) -Iutil -Ivm -Igrammar -I$(BUILD)/grammar -Icompiler
INC_protocols := -I$(PUBLIC_INC) -Iutil -Iprotocols
INC_sign      := -I$(PUBLIC_INC) -Iutil -Isign
INC_rulec     := -I$(PUBLIC_INC) -Iutil -Iprotocols -Isign -Irulec -Irulec/ruletest
INC_server    := -I$(PUBLIC_INC) -Iutil -Iprotocols -Isign -Iserver
INC_bench     := -I$(PUBLIC_INC) -Iutil
# Fuzz targets are white-box on the server side (rulesd's HTTP path).
INC_fuzz      := -I$(PUBLIC_INC) -Iutil -Iprotocols -Isign -Iserver -Itests/unit -Ifuzz
# Unit tests are white-box: they may reach into any module.
INC_tests     := $(INC_compiler) -Iprotocols -Isign -Iserver -Itests/unit
# The module of a source: its first folder (rulec/ruletest/x.c -> rulec).
module_inc = $(INC_$(firstword $(subst /, ,$(1))))
LDFLAGS_ALL := $(LDFLAGS)
CFLAGS_ALL  += $(CPPFLAGS)
ifeq ($(SANITIZE),1)
CFLAGS_ALL  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_ALL += -fsanitize=address,undefined
endif
# Generated scanner/parser code trips some of our stricter warnings; relax
# only those, only for generated files.
GEN_CFLAGS := $(filter-out -Wmissing-prototypes -Wcast-qual -Wundef -Werror,$(CFLAGS_ALL)) \
              -Wno-unused-function -Wno-sign-compare

# Everything built depends on the flags it was built with, recorded in
# $(BUILD)/.flags: `make WERROR=1` after a plain `make` rebuilds (and so
# checks) instead of saying there is nothing to do.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW   := $(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL)
ifeq ($(filter clean uninstall deps print-%,$(MAKECMDGOALS)),)
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = '$(FLAGS_NOW)' ] || \
    printf '%s\n' '$(FLAGS_NOW)' >$(FLAGS_STAMP); })
endif

# Fail early and clearly when the libraries are not installed. cmocka is
# needed only by the unit tests (`make test`, `make unit`).
ifeq ($(filter deps clean uninstall demo,$(MAKECMDGOALS)),)
ifneq ($(shell pkg-config --exists $(PKGS) $(SIGN_PKGS) 2>/dev/null && echo yes),yes)
$(error missing build dependencies (libyaml, libpcre2, nettle and hogweed): run 'make deps')
endif
endif
ifneq ($(filter test unit,$(MAKECMDGOALS)),)
ifneq ($(shell pkg-config --exists cmocka 2>/dev/null && echo yes),yes)
$(error the unit tests need cmocka (Debian: libcmocka-dev), which pkg-config cannot find: run 'make deps')
endif
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

UTIL_SRC     := $(wildcard util/*.c)
VM_SRC       := $(wildcard vm/*.c) $(UTIL_SRC)
COMPILER_SRC := $(wildcard grammar/*.c compiler/*.c)
SCHEMA_FILES := $(wildcard schemas/*/*.json)
CLI_SRC      := $(wildcard rulec/*.c rulec/ruletest/*.c)
SERVER_SRC   := $(wildcard server/*.c)
SIGN_SRC     := $(wildcard sign/*.c)
PROTOCOL_SRC := $(wildcard protocols/*.c)
UNIT_SRC     := $(wildcard tests/unit/test_*.c)

VM_OBJ       := $(VM_SRC:%.c=$(BUILD)/obj/%.o)
COMPILER_OBJ := $(COMPILER_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/compiler/schemas.o \
                $(BUILD)/grammar/parser.o $(BUILD)/grammar/lexer.o
CLI_OBJ      := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
SERVER_OBJ   := $(SERVER_SRC:%.c=$(BUILD)/obj/%.o)
SIGN_OBJ     := $(SIGN_SRC:%.c=$(BUILD)/obj/%.o)
PROTOCOL_OBJ := $(PROTOCOL_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
FUZZ_REPLAY  := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)

STATIC_LIB := $(BUILD)/$(LIBNAME).a
DYNAMIC_LIB := $(BUILD)/$(LIBNAME).so.$(VERSION)
# The compiler library: the compiler and the VM in one shared object, for
# hosts that compile policies but do not link C (python/ loads it).
DYNAMIC_CLIB := $(BUILD)/$(CLIBNAME).so.$(VERSION)
RULEC      := $(BUILD)/rulec
RULESD     := $(BUILD)/rulesd
LOADCLIENT := $(BUILD)/tests/loadclient

TARGETS := $(STATIC_LIB) $(DYNAMIC_LIB) $(DYNAMIC_CLIB) $(RULEC) $(BUILD)/rulevm.pc $(BUILD)/rulec.pc
ifneq ($(SERVER_SRC),)
TARGETS += $(RULESD) $(LOADCLIENT)
endif

# Manual pages, from scdoc sources in man/ (Debian: scdoc; make deps).
MAN_SRC   := $(wildcard man/*.scd)
MAN_PAGES := $(MAN_SRC:man/%.scd=$(BUILD)/man/%)
TARGETS   += $(MAN_PAGES)

.PHONY: all test unit golden ruletest fuzz deps clean install demo bench bench-smoke bench-rulesd man bench-json \
        bench-deps bench-build
all: $(TARGETS)
man: $(MAN_PAGES)

$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	@echo "  SCDOC   $<"
	$(Q)command -v $(SCDOC) >/dev/null 2>&1 || { echo "the manual pages need scdoc (Debian: scdoc): run 'make deps'" >&2; exit 1; }
	$(Q)$(SCDOC) <$< >$@.tmp && mv $@.tmp $@

# ---- generated front end ----
$(BUILD)/grammar/parser.c $(BUILD)/grammar/parser.h &: grammar/parser.y
	@mkdir -p $(dir $@)
	@echo "  BISON   $<"
	$(Q)$(BISON) -Wall -Werror --defines=$(BUILD)/grammar/parser.h -o $(BUILD)/grammar/parser.c $<

$(BUILD)/grammar/lexer.c $(BUILD)/grammar/lexer.h &: grammar/lexer.l $(BUILD)/grammar/parser.h
	@mkdir -p $(dir $@)
	@echo "  FLEX    $<"
	$(Q)$(FLEX) --header-file=$(BUILD)/grammar/lexer.h -o $(BUILD)/grammar/lexer.c $<

$(BUILD)/grammar/%.o: $(BUILD)/grammar/%.c $(BUILD)/grammar/parser.h $(BUILD)/grammar/lexer.h $(PUBLIC_HDRS) \
    $(FLAGS_STAMP)
	@echo "  CC      $<"
	$(Q)$(CC) $(GEN_CFLAGS) $(INC_grammar) -c -o $@ $<

# Compiler sources include the generated headers.
$(COMPILER_SRC:%.c=$(BUILD)/obj/%.o): $(BUILD)/grammar/parser.h $(BUILD)/grammar/lexer.h

# ---- public headers, as programs see them ----
$(PUBLIC_INC)/rulevm.h: vm/rulevm.h
	@mkdir -p $(dir $@)
	$(Q)cp $< $@
$(PUBLIC_INC)/rulec.h: compiler/rulec.h
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

# The commit the programs' --version names: embedded at build time from
# git when the source is a checkout, else "unknown". Recorded like the
# flags, so only the two files that print it are rebuilt when it changes.
COMMIT_STAMP := $(BUILD)/.commit
COMMIT_NOW   := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell \
                git diff --quiet HEAD 2>/dev/null || { git rev-parse HEAD >/dev/null 2>&1 && echo -dirty; })
ifeq ($(filter clean uninstall deps print-%,$(MAKECMDGOALS)),)
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(COMMIT_STAMP) 2>/dev/null)" = '$(COMMIT_NOW)' ] || \
    printf '%s\n' '$(COMMIT_NOW)' >$(COMMIT_STAMP); })
endif
COMMIT_MAINS := rulec/main.c server/main.c
$(COMMIT_MAINS:%.c=$(BUILD)/obj/%.o): $(COMMIT_STAMP)

# ---- objects ----
$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP) | $(PUBLIC_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(call module_inc,$<) $(if $(filter server/%,$<),$(SERVER_CFLAGS)) \
	    $(if $(filter $(COMMIT_MAINS),$<),-DRULES_COMMIT='"$(COMMIT_NOW)"') -c -o $@ $<

# The targets' schemas, built into the compiler (.incbin reads them from
# the repository root, where make runs).
$(BUILD)/obj/compiler/schemas.o: compiler/schemas.S $(SCHEMA_FILES) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

# ---- library ----
$(STATIC_LIB): $(VM_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(DYNAMIC_LIB): $(VM_OBJ) vm/rulevm.map $(FLAGS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,$(LIBNAME).so.$(SOVERSION) -Wl,--version-script=vm/rulevm.map \
	    $(LDFLAGS_ALL) -o $@ $(VM_OBJ) $(PKG_LIBS) -lm
	$(Q)ln -sf $(LIBNAME).so.$(VERSION) $(BUILD)/$(LIBNAME).so.$(SOVERSION)
	$(Q)ln -sf $(LIBNAME).so.$(SOVERSION) $(BUILD)/$(LIBNAME).so

# librulec holds the compiler's objects and the VM's: it exports the
# functions rulec.h declares (compiler/rulec.map) and those rulevm.h
# declares (vm/rulevm.map, the same version node as librulevm's), nothing
# else. The VM is linked in rather than needed from librulevm.so because
# the compiler writes the VM's internal structures (docs/architecture.md).
# --no-undefined: a missing object is a link error here, not a failure
# when a host loads the library.
$(DYNAMIC_CLIB): $(COMPILER_OBJ) $(VM_OBJ) vm/rulevm.map compiler/rulec.map $(FLAGS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,$(CLIBNAME).so.$(SOVERSION) -Wl,--version-script=vm/rulevm.map \
	    -Wl,--version-script=compiler/rulec.map -Wl,--no-undefined $(LDFLAGS_ALL) -o $@ $(COMPILER_OBJ) $(VM_OBJ) $(PKG_LIBS) -lm
	$(Q)ln -sf $(CLIBNAME).so.$(VERSION) $(BUILD)/$(CLIBNAME).so.$(SOVERSION)
	$(Q)ln -sf $(CLIBNAME).so.$(SOVERSION) $(BUILD)/$(CLIBNAME).so

PC_SED := -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
          -e 's|@VERSION@|$(VERSION)|g'
$(BUILD)/rulevm.pc: vm/rulevm.pc.in vm/rulevm.h
	@sed $(PC_SED) $< > $@
$(BUILD)/rulec.pc: compiler/rulec.pc.in vm/rulevm.h
	@sed $(PC_SED) $< > $@

# ---- programs ----
$(RULEC): $(CLI_OBJ) $(PROTOCOL_OBJ) $(SIGN_OBJ) $(COMPILER_OBJ) $(STATIC_LIB) $(FLAGS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(PROTOCOL_OBJ) $(SIGN_OBJ) $(COMPILER_OBJ) $(STATIC_LIB) \
	    $(SIGN_LIBS) $(PKG_LIBS) -lm

$(RULESD): $(SERVER_OBJ) $(PROTOCOL_OBJ) $(SIGN_OBJ) $(COMPILER_OBJ) $(STATIC_LIB) $(FLAGS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(SERVER_OBJ) $(PROTOCOL_OBJ) $(SIGN_OBJ) $(COMPILER_OBJ) $(STATIC_LIB) \
	    $(SIGN_LIBS) $(PKG_LIBS) $(SERVER_LIBS) -lpthread -lm

# The integration tests' (and benchmark's) keep-alive HTTP load generator.
$(LOADCLIENT): tests/server/loadclient.c util/file.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC_util) -o $@ $^ $(LDFLAGS_ALL) -lpthread

# ---- tests ----
# The connection table's test needs only the table (and its lock).
$(BUILD)/tests/test_server_conntab: tests/unit/test_server_conntab.c $(BUILD)/obj/server/conntab.o \
    $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC_tests) -Wno-missing-prototypes -o $@ $< $(BUILD)/obj/server/conntab.o \
	    $(STATIC_LIB) $(LDFLAGS_ALL) $(CMOCKA_LIBS) -lpthread

# The signed-bundle tests link the sign module and nettle's Ed25519.
$(BUILD)/tests/test_sign: tests/unit/test_sign.c $(SIGN_OBJ) $(COMPILER_OBJ) $(STATIC_LIB) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC_tests) -Wno-missing-prototypes -o $@ $< $(SIGN_OBJ) $(COMPILER_OBJ) \
	    $(STATIC_LIB) $(LDFLAGS_ALL) $(SIGN_LIBS) $(PKG_LIBS) $(CMOCKA_LIBS) -lm

# Unit tests of server modules also link the (MHD-free) server objects they test.
$(BUILD)/tests/test_server_%: tests/unit/test_server_%.c $(BUILD)/obj/server/redact.o \
    $(COMPILER_OBJ) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC_tests) -Wno-missing-prototypes -o $@ $< $(BUILD)/obj/server/redact.o \
	    $(COMPILER_OBJ) $(STATIC_LIB) $(LDFLAGS_ALL) $(PKG_LIBS) $(CMOCKA_LIBS) -lm

$(BUILD)/tests/test_%: tests/unit/test_%.c $(COMPILER_OBJ) $(STATIC_LIB) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC_tests) -Wno-missing-prototypes -o $@ $< $(COMPILER_OBJ) $(STATIC_LIB) \
	    $(LDFLAGS_ALL) $(PKG_LIBS) $(CMOCKA_LIBS) -lm

unit: $(UNIT_BIN)
	@BUILD=$(BUILD) sh tests/run-unit.sh $(UNIT_BIN)

golden: $(RULEC)
	@BUILD=$(BUILD) sh tests/run-golden.sh

ruletest: $(RULEC)
	@BUILD=$(BUILD) sh tests/run-ruletests.sh

# libFuzzer targets (clang): FUZZ_SECONDS each, all of them or FUZZ_TARGETS
# (e.g. "bundle http"); crashes land in build-fuzz/ (docs/fuzzing.md).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: $(RULEC)
	@sh tests/deps.sh clang libclang-rt-dev
	@sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

test: all $(UNIT_BIN) $(FUZZ_REPLAY)
	@BUILD=$(BUILD) sh tests/run-all.sh $(UNIT_BIN)

# The fuzz targets built without libFuzzer, each with fuzz/replay.c as its
# main: `make test` replays the seeds and fuzz/regressions/ through them
# (tests/run-fuzz.sh). They link every server object but main.o, so any
# target may reach rulesd's code.
FUZZ_LINK := $(filter-out $(BUILD)/obj/server/main.o,$(SERVER_OBJ)) $(PROTOCOL_OBJ) $(SIGN_OBJ) \
             $(COMPILER_OBJ) $(STATIC_LIB)
$(BUILD)/fuzz/%: fuzz/%.c fuzz/replay.c fuzz/fuzz.h $(FUZZ_LINK) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC_fuzz) $(SERVER_CFLAGS) -o $@ $< fuzz/replay.c $(FUZZ_LINK) $(LDFLAGS_ALL) \
	    $(SIGN_LIBS) $(PKG_LIBS) $(SERVER_LIBS) -lpthread -lm

# ---- benchmarks (bench/; never part of `make test`) ----
# bench_vm is compiled with the same strict warnings as the library. The
# runner (bench/run.py) checks every competitor's output against rulec's
# before timing anything; `bench` writes bench/RESULTS.md (several minutes),
# `bench-smoke` is a seconds-long version that fails on any difference.
# The baselines the JSON figures are stated against are the benchmarks' own
# dependencies, never needed to build or test: cJSON (libcjson-dev; the
# library used it before, and the speed targets are ratios to it), simdjson
# (libsimdjson-dev) and a C++ compiler for json_floor (docs/json.md).
# bench/deps.sh installs them when run as root; sub-makes then see them.
CXX ?= c++
CJSON_LIBS    := $(shell pkg-config --libs libcjson 2>/dev/null)
SIMDJSON_LIBS := $(shell pkg-config --libs simdjson 2>/dev/null)
BENCH_VM      := $(BUILD)/bench/bench_vm
JSON_FLOOR    := $(BUILD)/bench/json_floor

$(BENCH_VM): bench/bench_vm.c $(COMPILER_OBJ) $(STATIC_LIB) $(PUBLIC_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(INC_bench) $(if $(CJSON_LIBS),-DHAVE_CJSON) -o $@ $< $(COMPILER_OBJ) $(STATIC_LIB) \
	    $(LDFLAGS_ALL) $(PKG_LIBS) $(CJSON_LIBS) -lm

# The JSON parsers side by side (bench/json_floor.cpp): the library's reader
# and printer, cJSON when installed, simdjson.
$(JSON_FLOOR): bench/json_floor.cpp $(STATIC_LIB) $(PUBLIC_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	$(Q)$(CXX) -std=c++17 $(OPT) -Wall -Wextra $(if $(WERROR:0=),-Werror) $(if $(CJSON_LIBS),-DHAVE_CJSON) \
	    -I$(PUBLIC_INC) -o $@ $< $(STATIC_LIB) $(LDFLAGS_ALL) $(SIMDJSON_LIBS) $(CJSON_LIBS) $(PKG_LIBS) -lm

# The floor rulesd's CPU per request is measured against: a trivial
# libmicrohttpd server run as rulesd runs it (bench/floor_server.c).
FLOOR_SERVER  := $(BUILD)/bench/floor_server
$(FLOOR_SERVER): bench/floor_server.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(MHD_CFLAGS) -o $@ $< $(LDFLAGS_ALL) $(MHD_LIBS) -lpthread

# rulesd is benchmarked when it builds; otherwise the server part is skipped.
bench-rulesd:
	@if [ -n "$(SERVER_SRC)" ]; then $(MAKE) --no-print-directory $(RULESD) $(FLOOR_SERVER) || \
	    echo "bench: rulesd does not build yet; the server part will be skipped"; fi

bench-deps:
	@sh bench/deps.sh

# What the runner needs, built by a sub-make that sees what bench-deps
# installed (json_floor only where simdjson is there).
bench-build:
	@$(MAKE) --no-print-directory $(RULEC) $(BENCH_VM) $(if $(SIMDJSON_LIBS),$(JSON_FLOOR)) bench-rulesd

bench: bench-deps
	@$(MAKE) --no-print-directory bench-build
	@BUILD=$(BUILD) python3 bench/run.py

bench-smoke: bench-deps
	@$(MAKE) --no-print-directory bench-build
	@BUILD=$(BUILD) python3 bench/run.py --smoke

bench-json: bench-deps
	@$(MAKE) --no-print-directory bench-build
	@if [ ! -x $(JSON_FLOOR) ]; then echo "bench-json: needs simdjson (apt-get install libsimdjson-dev)" >&2; exit 1; fi
	@$(JSON_FLOOR) --iters 300 --reps 5 tests/data/dstack/requests/*.json

# ---- main job: the example policies on real dstack specs ----
# Sub-makes, so that libraries installed by `deps` are seen by pkg-config.
demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) sh rules/demo.sh

deps:
	@sh tests/deps.sh

# ---- install, uninstall (the directories are in the header comment) ----
# INSTALLED is every path install writes (under DESTDIR); uninstall removes
# exactly those, then the project's own folders if that left them empty.
DOCS      := README.md $(wildcard docs/*.md)
INSTALLED := $(BINDIR)/rulec $(LIBDIR)/$(LIBNAME).a $(LIBDIR)/$(LIBNAME).so.$(VERSION) \
             $(LIBDIR)/$(LIBNAME).so.$(SOVERSION) $(LIBDIR)/$(LIBNAME).so $(INCLUDEDIR)/rulevm.h \
             $(LIBDIR)/$(CLIBNAME).so.$(VERSION) $(LIBDIR)/$(CLIBNAME).so.$(SOVERSION) \
             $(LIBDIR)/$(CLIBNAME).so $(INCLUDEDIR)/rulec.h $(PKGCONFIGDIR)/rulevm.pc \
             $(PKGCONFIGDIR)/rulec.pc $(addprefix $(DOCDIR)/,$(DOCS)) \
             $(foreach m,$(MAN_SRC:man/%.scd=%),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(m)) \
             $(BASHCOMPDIR)/rulec $(ZSHCOMPDIR)/_rulec $(FISHCOMPDIR)/rulec.fish \
             $(VIMDIR)/syntax/rules.vim $(VIMDIR)/ftdetect/rules.vim
ifneq ($(SERVER_SRC),)
INSTALLED += $(BINDIR)/rulesd $(SYSTEMDUNITDIR)/rulesd.service $(SYSCONFDIR)/rulesd/rulesd.example.yaml
endif
# The unit names the installed paths instead of the /usr/local and /etc
# ones it carries for a copy by hand.
UNIT_SED := -e 's|/usr/local/bin/rulesd|$(BINDIR)/rulesd|g' \
            -e 's|/etc/rulesd/rulesd.yaml|$(SYSCONFDIR)/rulesd/rulesd.yaml|g' \
            -e 's|file:///usr/local/share/doc/rules/docs/rulesd.md|file://$(DOCDIR)/docs/rulesd.md|g'

.PHONY: uninstall
install: all
	install -d $(sort $(dir $(addprefix $(DESTDIR),$(INSTALLED))))
	install -m 755 $(RULEC) $(DESTDIR)$(BINDIR)/
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(DYNAMIC_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(LIBNAME).so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIBNAME).so.$(SOVERSION)
	ln -sf $(LIBNAME).so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/$(LIBNAME).so
	install -m 755 $(DYNAMIC_CLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(CLIBNAME).so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(CLIBNAME).so.$(SOVERSION)
	ln -sf $(CLIBNAME).so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/$(CLIBNAME).so
	install -m 644 vm/rulevm.h compiler/rulec.h $(DESTDIR)$(INCLUDEDIR)/
	sed $(PC_SED) vm/rulevm.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/rulevm.pc
	sed $(PC_SED) compiler/rulec.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/rulec.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/rulevm.pc $(DESTDIR)$(PKGCONFIGDIR)/rulec.pc
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 644 $(filter docs/%,$(DOCS)) $(DESTDIR)$(DOCDIR)/docs/
	for m in $(MAN_PAGES); do n=$${m##*/}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${n##*.}/$$n; done
	$(RULEC) completion bash > $(DESTDIR)$(BASHCOMPDIR)/rulec
	$(RULEC) completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_rulec
	$(RULEC) completion fish > $(DESTDIR)$(FISHCOMPDIR)/rulec.fish
	chmod 644 $(DESTDIR)$(BASHCOMPDIR)/rulec $(DESTDIR)$(ZSHCOMPDIR)/_rulec $(DESTDIR)$(FISHCOMPDIR)/rulec.fish
	install -m 644 editors/vim/syntax/rules.vim $(DESTDIR)$(VIMDIR)/syntax/
	install -m 644 editors/vim/ftdetect/rules.vim $(DESTDIR)$(VIMDIR)/ftdetect/
ifneq ($(SERVER_SRC),)
	install -m 755 $(RULESD) $(DESTDIR)$(BINDIR)/
	sed $(UNIT_SED) server/rulesd.service > $(DESTDIR)$(SYSTEMDUNITDIR)/rulesd.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/rulesd.service
	install -m 644 server/rulesd.example.yaml $(DESTDIR)$(SYSCONFDIR)/rulesd/
endif

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(SYSCONFDIR)/rulesd $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# `make clean BUILD=DIR` removes DIR only; plain `make clean` all three.
clean:
	rm -rf $(if $(filter file,$(origin BUILD)),build build-san build-fuzz,$(BUILD))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# `make print-VAR` prints a variable (tests/run-layout.sh reads the include
# flags the build gives a module).
print-%:
	@echo $($*)
