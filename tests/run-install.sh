#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-install.sh - make install into a scratch DESTDIR, twice: with the
# default directories and with PREFIX, BINDIR, LIBDIR moved. Checks every
# file (modes, library links and SONAMEs, the unit's paths, rulevm.pc and
# rulec.pc), that pkg-config from there works and a tiny C program
# compiles, links and runs against each installed library (librulevm; and
# librulec, which compiles a policy from source and evaluates it); then
# make uninstall, which must leave nothing it wrote, and must keep what it
# did not write.
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
SUITE=install; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A make of its own, not a sub-make of `make test`; it builds nothing (the
# tree is built) and installs from $BUILD.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD="$BUILD" "$@"; }

printf '#include "rulevm.h"\nrv_version RV_VERSION_MAJOR.RV_VERSION_MINOR.RV_VERSION_PATCH\n' >"$tmp/v.c"
v=$($CC -E -P -Ivm "$tmp/v.c" | sed -n 's/^rv_version //p' | tr -d ' ')
major=${v%%.*}
sover=$(so_version)   # the SONAME's version
have_rulesd=no; [ -x "$BUILD/rulesd" ] && have_rulesd=yes
san=""; [ "${SANITIZE:-0}" = 1 ] && san="-fsanitize=address,undefined"

cat >"$tmp/hello.c" <<'EOF2'
/* Uses the installed header and library only. */
#include <rulevm.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    const char *text = "{\"configuration\": {\"type\": \"task\", \"gpus\": [1, 2]}}";
    rv_vm *vm;
    rv_doc *doc;
    rv_error err;
    if (rv_vm_new(NULL, &vm) != RV_OK)
        return 1;
    rv_status st = rv_vm_parse(vm, text, strlen(text), RV_JSON, &doc, &err);
    printf("rulevm %d.%d.%d %s %zu\n", RV_VERSION_MAJOR, RV_VERSION_MINOR, RV_VERSION_PATCH,
           rv_status_name(st), st == RV_OK ? rv_doc_len(doc) : 0);
    rv_vm_free(vm);
    return st != RV_OK;
}
EOF2

cat >"$tmp/hello_rulec.c" <<'EOF2'
/* Uses the installed headers and librulec only: compiles a policy from
 * source and evaluates it. */
#include <rulec.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    static const char src[] = "policy \"p\";\non run { set configuration.max_price = 2.0; }\n";
    rc_input in = {"p.rules", src, sizeof src - 1, 0, 0, 0};
    rc_report *report = rc_report_new();
    rv_program *prog;
    if (!report || rc_load(report, &in, 1, NULL, &prog) != RC_OK)
        return 1;
    rv_vm *vm;
    rv_doc *spec;
    rv_decision d;
    rv_error err;
    const char *spec_text = "{\"configuration\": {\"type\": \"task\"}}";
    const char *out;
    size_t len;
    rv_request req = {"run", "alice", "main", NULL};
    if (rv_vm_new(NULL, &vm) != RV_OK ||
        rv_vm_parse(vm, spec_text, strlen(spec_text), RV_JSON, &spec, &err) != RV_OK ||
        rv_vm_eval(vm, prog, &req, spec, &d, &err) != RV_OK ||
        rv_vm_print(vm, d.spec, RV_JSON, 0, &out, &len, &err) != RV_OK)
        return 1;
    printf("rulec %d %s\n", d.allowed, out);
    rv_vm_free(vm);
    rv_program_free(prog);
    rc_report_free(report);
    return 0;
}
EOF2

# files_of DIR: every non-directory under DIR, relative, sorted.
files_of() { (cd "$1" && find . ! -type d | sort); }

# try NAME DEST [make variables...]: install, check, uninstall.
# BIN LIB INC PC ETC DOC UNIT are the directories the variables should give.
try() {
    name=$1; dest=$2; shift 2
    mkdir -p "$dest"
    # What is there before and must stay: another program, a library of
    # someone else's, the administrator's own configuration.
    mkdir -p "$dest$BIN" "$dest$LIB" "$dest$ETC/rulesd"
    echo other >"$dest$BIN/other-tool"
    echo other >"$dest$LIB/libother.so"
    echo "policies: [/srv/policies]" >"$dest$ETC/rulesd/rulesd.yaml"
    files_of "$dest" >"$tmp/before"

    if ! mk install DESTDIR="$dest" "$@" >"$tmp/install.out" 2>&1; then
        fail "$name: make install: $(tail -5 "$tmp/install.out")"
        return
    fi
    pass

    # Programs, header, docs, example configuration.
    bad=""
    for f in "$BIN/rulec" $([ $have_rulesd = yes ] && echo "$BIN/rulesd"); do
        [ -x "$dest$f" ] && [ "$(stat -c %a "$dest$f")" = 755 ] || bad="$bad $f"
    done
    cmp -s vm/rulevm.h "$dest$INC/rulevm.h" || bad="$bad $INC/rulevm.h"
    cmp -s compiler/rulec.h "$dest$INC/rulec.h" || bad="$bad $INC/rulec.h"
    cmp -s README.md "$dest$DOC/README.md" || bad="$bad $DOC/README.md"
    for d in docs/*.md; do cmp -s "$d" "$dest$DOC/$d" || bad="$bad $DOC/$d"; done
    if [ $have_rulesd = yes ]; then
        cmp -s server/rulesd.example.yaml "$dest$ETC/rulesd/rulesd.example.yaml" || bad="$bad $ETC/rulesd/rulesd.example.yaml"
    fi
    [ -z "$bad" ] && pass || fail "$name: missing or different:$bad"
    [ "$("$dest$BIN/rulec" --version | head -1)" = "rulec $v" ] && pass || fail "$name: installed rulec --version: $("$dest$BIN/rulec" --version 2>&1)"
    [ "$(cat "$dest$ETC/rulesd/rulesd.yaml")" = "policies: [/srv/policies]" ] && pass ||
        fail "$name: install overwrote the administrator's $ETC/rulesd/rulesd.yaml"

    # Manual pages, rendered by man(1); completions; the Vim files.
    share=$SHARE
    for m in man1/rulec.1 man8/rulesd.8 man5/rules.5; do
        page=$dest$share/man/$m
        name=$(basename "$m"); name=${name%.*}
        if [ -f "$page" ] && MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "^NAME" &&
           MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "^ *$name - "; then pass
        else fail "$name: $share/man/$m missing or not rendered by man -l"; fi
    done
    "$dest$BIN/rulec" completion bash | cmp -s - "$dest$share/bash-completion/completions/rulec" &&
        "$dest$BIN/rulec" completion zsh | cmp -s - "$dest$share/zsh/vendor-completions/_rulec" &&
        "$dest$BIN/rulec" completion fish | cmp -s - "$dest$share/fish/vendor_completions.d/rulec.fish" &&
        pass || fail "$name: completions not installed under $share"
    cmp -s editors/vim/syntax/rules.vim "$dest$share/vim/vimfiles/syntax/rules.vim" &&
        cmp -s editors/vim/ftdetect/rules.vim "$dest$share/vim/vimfiles/ftdetect/rules.vim" &&
        pass || fail "$name: Vim files not installed under $share/vim/vimfiles"

    # The libraries: static, shared with its SONAME, and the links.
    so=$(readelf -d "$dest$LIB/librulevm.so.$v" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
    if [ -f "$dest$LIB/librulevm.a" ] && [ ! -L "$dest$LIB/librulevm.so.$v" ] && [ "$so" = "librulevm.so.$sover" ] &&
       [ "$(readlink "$dest$LIB/librulevm.so.$sover")" = "librulevm.so.$v" ] &&
       [ "$(readlink "$dest$LIB/librulevm.so")" = "librulevm.so.$sover" ]; then pass
    else fail "$name: libraries in $LIB: $(ls -l "$dest$LIB" 2>&1 | tr '\n' ' '), SONAME '$so'"; fi
    so=$(readelf -d "$dest$LIB/librulec.so.$v" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
    if [ ! -L "$dest$LIB/librulec.so.$v" ] && [ "$(stat -c %a "$dest$LIB/librulec.so.$v")" = 755 ] &&
       [ "$so" = "librulec.so.$sover" ] &&
       [ "$(readlink "$dest$LIB/librulec.so.$sover")" = "librulec.so.$v" ] &&
       [ "$(readlink "$dest$LIB/librulec.so")" = "librulec.so.$sover" ]; then pass
    else fail "$name: librulec in $LIB: $(ls -l "$dest$LIB" 2>&1 | tr '\n' ' '), SONAME '$so'"; fi

    # The systemd unit starts the installed rulesd with the installed config.
    if [ $have_rulesd = yes ]; then
        unit=$dest$UNIT/rulesd.service
        if grep -qx "ExecStart=$BIN/rulesd" "$unit" && grep -qx "ExecStartPre=$BIN/rulesd --check" "$unit" &&
           grep -qx "Environment=RULESD_CONFIG=$ETC/rulesd/rulesd.yaml" "$unit" &&
           grep -qx "Documentation=file://$DOC/docs/rulesd.md" "$unit" &&
           { case $BIN in /usr/local/*) ;; *) ! grep -q /usr/local "$unit" ;; esac; }; then pass
        else fail "$name: $UNIT/rulesd.service: $(grep -E '^(Exec|Environment|Documentation)' "$unit" 2>&1 | tr '\n' ' ')"; fi
    fi

    # pkg-config from the staged tree (the sysroot prefixes DESTDIR to the
    # -I and -L paths), then a program built and run against it.
    export PKG_CONFIG_PATH="$dest$PC" PKG_CONFIG_SYSROOT_DIR="$dest"
    flags=$(pkg-config --cflags --libs rulevm 2>&1)
    st=$?
    got_v=$(pkg-config --modversion rulevm 2>&1)
    unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
    if [ $st -eq 0 ] && [ "$got_v" = "$v" ] && echo " $flags " | grep -q -- " -I$dest$INC " &&
       echo " $flags " | grep -q -- " -L$dest$LIB " && echo " $flags " | grep -q -- " -lrulevm "; then pass
    else fail "$name: pkg-config --cflags --libs rulevm: $flags (version $got_v)"; fi
    # shellcheck disable=SC2086
    if $CC $san -o "$tmp/hello" "$tmp/hello.c" $flags >"$tmp/cc.out" 2>&1; then
        needed=$(readelf -d "$tmp/hello" | sed -n 's/.*Shared library: \[\(librulevm[^]]*\)\].*/\1/p')
        out=$(LD_LIBRARY_PATH="$dest$LIB" "$tmp/hello" 2>&1)
        if [ "$needed" = "librulevm.so.$sover" ] && [ "$out" = "rulevm $v RV_OK 1" ]; then pass
        else fail "$name: the program needs '$needed' and says '$out'"; fi
    else
        fail "$name: a program does not build against the installed library: $(head -5 "$tmp/cc.out")"
    fi

    # The same for librulec, through rulec.pc: a policy compiled from
    # source and evaluated by a program that links librulec alone.
    export PKG_CONFIG_PATH="$dest$PC" PKG_CONFIG_SYSROOT_DIR="$dest"
    flags=$(pkg-config --cflags --libs rulec 2>&1)
    st=$?
    got_v=$(pkg-config --modversion rulec 2>&1)
    unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
    if [ $st -eq 0 ] && [ "$got_v" = "$v" ] && echo " $flags " | grep -q -- " -I$dest$INC " &&
       echo " $flags " | grep -q -- " -L$dest$LIB " && echo " $flags " | grep -q -- " -lrulec "; then pass
    else fail "$name: pkg-config --cflags --libs rulec: $flags (version $got_v)"; fi
    # shellcheck disable=SC2086
    if $CC $san -o "$tmp/hello_rulec" "$tmp/hello_rulec.c" $flags >"$tmp/cc.out" 2>&1; then
        needed=$(readelf -d "$tmp/hello_rulec" | sed -n 's/.*Shared library: \[\(libr[^]]*\)\].*/\1/p')
        out=$(LD_LIBRARY_PATH="$dest$LIB" "$tmp/hello_rulec" 2>&1)
        if [ "$needed" = "librulec.so.$sover" ] &&
           [ "$out" = 'rulec 1 {"configuration":{"type":"task","max_price":2.0}}' ]; then pass
        else fail "$name: the librulec program needs '$needed' and says '$out'"; fi
    else
        fail "$name: a program does not build against the installed librulec: $(head -5 "$tmp/cc.out")"
    fi

    # Uninstall: nothing install wrote is left, everything else is.
    if ! mk uninstall DESTDIR="$dest" "$@" >"$tmp/uninstall.out" 2>&1; then
        fail "$name: make uninstall: $(tail -5 "$tmp/uninstall.out")"
        return
    fi
    files_of "$dest" >"$tmp/after"
    if cmp -s "$tmp/before" "$tmp/after"; then pass
    else fail "$name: after uninstall the tree differs from before install: $(diff "$tmp/before" "$tmp/after" | grep '^[<>]' | head -5 | tr '\n' ' ')"; fi
    [ ! -e "$dest$DOC" ] && pass || fail "$name: uninstall left $DOC"
}

SHARE=/usr/local/share BIN=/usr/local/bin LIB=/usr/local/lib INC=/usr/local/include PC=/usr/local/lib/pkgconfig ETC=/etc
DOC=/usr/local/share/doc/rules UNIT=/usr/local/lib/systemd/system
try defaults "$tmp/dest1"

SHARE=/opt/rules/share BIN=/opt/rules/sbin LIB=/opt/rules/lib64 INC=/opt/rules/include PC=/opt/rules/lib64/pkgconfig
ETC=/opt/rules/etc DOC=/opt/rules/share/doc/rules UNIT=/opt/rules/lib/systemd/system
try moved "$tmp/dest2" PREFIX=/opt/rules BINDIR=/opt/rules/sbin LIBDIR=/opt/rules/lib64

summary
