#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-fmt.sh - rulec fmt: rules/ is formatted; formatting is idempotent on
# every .rules file of the repository and never changes compiled code
# (only source line numbers); --check, --diff and -w do what they say; a
# file that does not parse is refused and never rewritten; the examples in
# docs/language.md are formatted. (Goldens of tricky layouts:
# tests/golden/fmt, run by run-golden.sh.)
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
SUITE=fmt; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The repository's policies are formatted.
out=$("$RULEC" fmt --check rules/ 2>&1); st=$?
if [ "$st" = 0 ] && [ -z "$out" ]; then pass; else fail "rulec fmt --check rules/: exit $st: $out"; fi

# The compiled code with what formatting may change masked: line numbers,
# the digests and checksums that cover them, the source's name.
masked() {
    sed -E -e 's/ L[0-9]+ +/ L# /' -e 's/sha256 [0-9a-f]+/sha256 #/g' -e 's/checksum 0x[0-9a-f]+/checksum #/' \
        -e 's/source [^ ]+/source #/' "$1"
}

# Every .rules file of the repository: one that parses formats to text that
# formats to itself and compiles to the same code; one that does not is
# refused with its diagnostics (exit 1) and nothing on standard output.
find rules tests -name '*.rules' | sort >"$tmp/files"
nparsed=0 nrefused=0 ncompiled=0
while read -r f; do
    "$RULEC" fmt "$f" >"$tmp/once.rules" 2>"$tmp/err"; st=$?
    if [ "$st" = 1 ]; then
        if [ ! -s "$tmp/once.rules" ] && grep -q "error:" "$tmp/err"; then pass; else fail "$f: refused without a diagnostic, or with output"; fi
        nrefused=$((nrefused + 1))
        continue
    fi
    [ "$st" = 0 ] || { fail "$f: fmt exit $st: $(head -c 300 "$tmp/err")"; continue; }
    nparsed=$((nparsed + 1))
    "$RULEC" fmt "$tmp/once.rules" >"$tmp/twice.rules" 2>"$tmp/err"
    if cmp -s "$tmp/once.rules" "$tmp/twice.rules"; then pass; else fail "$f: fmt is not idempotent"; diff -u "$tmp/once.rules" "$tmp/twice.rules" | head -20; fi
    # Same code: disasm of the original and of the formatted text (in a
    # folder of its own, so the policy keeps its name, the file's stem).
    mkdir -p "$tmp/same"
    cp "$tmp/once.rules" "$tmp/same/$(basename "$f")"
    if "$RULEC" disasm "$f" >"$tmp/a.dis" 2>/dev/null; then
        ncompiled=$((ncompiled + 1))
        "$RULEC" disasm "$tmp/same/$(basename "$f")" >"$tmp/b.dis" 2>/dev/null
        masked "$tmp/a.dis" >"$tmp/a.m"; masked "$tmp/b.dis" >"$tmp/b.m"
        if cmp -s "$tmp/a.m" "$tmp/b.m"; then pass; else fail "$f: formatting changed the code"; diff -u "$tmp/a.m" "$tmp/b.m" | head -20; fi
    fi
    rm -f "$tmp/same/$(basename "$f")"
done <"$tmp/files"
# The loop saw both kinds (a find that found nothing would prove nothing).
[ "$nparsed" -ge 30 ] && [ "$nrefused" -ge 10 ] && [ "$ncompiled" -ge 20 ] && pass ||
    fail "too few files: $nparsed formatted, $nrefused refused, $ncompiled compiled"

# The masking is not hiding real changes: a changed constant is seen.
printf 'on run { set configuration.max_price = 2.0; }\n' >"$tmp/same/p.rules"
printf 'on run { set configuration.max_price = 3.0; }\n' >"$tmp/p.rules"
"$RULEC" disasm "$tmp/same/p.rules" >"$tmp/a.dis"; "$RULEC" disasm "$tmp/p.rules" >"$tmp/b.dis"
masked "$tmp/a.dis" >"$tmp/a.m"; masked "$tmp/b.dis" >"$tmp/b.m"
cmp -s "$tmp/a.m" "$tmp/b.m" && fail "masked disasm hides a changed constant" || pass

# --check lists the files that would change and exits 1; formatted: 0.
mkdir -p "$tmp/tree/sub" "$tmp/tree/.hidden"
printf 'policy "a";\non run { set configuration.max_price=2.0; }\n' >"$tmp/tree/a.rules"
"$RULEC" fmt rules/example.rules >"$tmp/tree/sub/b.rules"
printf 'on run {set x=1;}\n' >"$tmp/tree/.hidden/c.rules"
printf 'not a policy' >"$tmp/tree/notes.txt"
out=$("$RULEC" fmt --check "$tmp/tree" 2>&1); st=$?
if [ "$st" = 1 ] && [ "$out" = "$tmp/tree/a.rules" ]; then pass; else fail "--check: exit $st, listed '$out'"; fi
out=$("$RULEC" fmt --check "$tmp/tree/sub" 2>&1); st=$?
if [ "$st" = 0 ] && [ -z "$out" ]; then pass; else fail "--check on formatted files: exit $st: $out"; fi

# --diff prints a unified diff that patch(1) applies to give fmt's output.
"$RULEC" fmt --diff "$tmp/tree/a.rules" >"$tmp/a.diff"; st=$?
"$RULEC" fmt "$tmp/tree/a.rules" >"$tmp/a.want"
if [ "$st" = 1 ] && head -1 "$tmp/a.diff" | grep -q "^--- a/$tmp/tree/a.rules" &&
   patch -s -o "$tmp/a.patched" "$tmp/tree/a.rules" <"$tmp/a.diff" && cmp -s "$tmp/a.patched" "$tmp/a.want"; then
    pass; else fail "--diff: exit $st, or the diff does not give fmt's output"; fi
# ... over every file of rules/ at once, made unformatted by joining lines.
mkdir -p "$tmp/ugly"
for f in rules/*.rules; do
    grep -v '^ *#' "$f" | tr '\n' ' ' | sed 's/  */ /g' >"$tmp/ugly/$(basename "$f")"
done
n=0
for f in "$tmp"/ugly/*.rules; do
    "$RULEC" fmt --diff "$f" >"$tmp/u.diff"
    "$RULEC" fmt "$f" >"$tmp/u.want"
    patch -s -o "$tmp/u.patched" "$f" <"$tmp/u.diff" && cmp -s "$tmp/u.patched" "$tmp/u.want" && n=$((n + 1))
done
[ "$n" = "$(ls "$tmp"/ugly/*.rules | wc -l)" ] && pass || fail "--diff of joined files: $n applied"

# -w rewrites what would change, only that, with no temporary file left;
# the result is what fmt prints.
cp "$tmp/tree/sub/b.rules" "$tmp/b.before"
touch -d '2000-01-01' "$tmp/tree/sub/b.rules"
"$RULEC" fmt -w "$tmp/tree" 2>"$tmp/err"; st=$?
if [ "$st" = 0 ] && cmp -s "$tmp/tree/a.rules" "$tmp/a.want" &&
   [ "$(stat -c %Y "$tmp/tree/sub/b.rules")" = "$(date -d '2000-01-01' +%s)" ] &&
   [ "$(ls -A "$tmp/tree" | tr '\n' ' ')" = ".hidden a.rules notes.txt sub " ] &&
   [ "$(cat "$tmp/tree/.hidden/c.rules")" = "on run {set x=1;}" ]; then
    pass; else fail "-w: exit $st: $(cat "$tmp/err")"; ls -A "$tmp/tree"; fi

# -w keeps a file's permission bits, and a symbolic link stays a link to
# the file it rewrote.
printf 'on run {set x=1;}\n' >"$tmp/mode.rules"
chmod 0640 "$tmp/mode.rules"
mkdir "$tmp/links"
printf 'on run {set y=2;}\n' >"$tmp/links/target.rules"
ln -s "$tmp/links/target.rules" "$tmp/link.rules"
"$RULEC" fmt -w "$tmp/mode.rules" "$tmp/link.rules" 2>"$tmp/err"; st=$?
if [ "$st" = 0 ] && [ "$(stat -c %a "$tmp/mode.rules")" = 640 ] && [ -L "$tmp/link.rules" ] &&
   [ "$(cat "$tmp/links/target.rules")" = "$(printf 'on run {\n    set y = 2;\n}')" ] &&
   [ "$(ls -A "$tmp/links")" = target.rules ] &&
   [ "$(cat "$tmp/mode.rules")" = "$(printf 'on run {\n    set x = 1;\n}')" ]; then
    pass; else fail "-w mode and link: exit $st, mode $(stat -c %a "$tmp/mode.rules"): $(cat "$tmp/err")"; fi

# A file that does not parse is refused with the parser's diagnostics and
# left as it was, with -w too; the other files are still done.
printf 'on run {\n    set configuration.max_price = ;\n}\n' >"$tmp/tree/broken.rules"
printf 'on run {set x=1;}\n' >"$tmp/tree/z.rules"
cp "$tmp/tree/broken.rules" "$tmp/broken.before"
"$RULEC" fmt -w "$tmp/tree" 2>"$tmp/err"; st=$?
if [ "$st" = 1 ] && cmp -s "$tmp/tree/broken.rules" "$tmp/broken.before" &&
   grep -q "broken.rules:2:35: error: syntax error" "$tmp/err" &&
   [ "$(cat "$tmp/tree/z.rules")" = "$(printf 'on run {\n    set x = 1;\n}')" ]; then
    pass; else fail "-w with a broken file: exit $st: $(cat "$tmp/err")"; fi

# Standard input to standard output; '-' too.
"$RULEC" fmt <"$tmp/broken.before" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 1 ] && grep -q "^<stdin>:2:35: error" "$tmp/err" && pass || fail "stdin broken: exit $st"
"$RULEC" fmt <"$tmp/tree/a.rules" >"$tmp/stdin.out" && "$RULEC" fmt - <"$tmp/tree/a.rules" >"$tmp/dash.out" &&
    cmp -s "$tmp/stdin.out" "$tmp/a.want" && cmp -s "$tmp/dash.out" "$tmp/a.want" && pass || fail "stdin"

# Usage: the modes exclude one another; unknown options and missing files.
"$RULEC" fmt --check -w rules/ >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "exclude one another" "$tmp/err" && pass || fail "--check -w: exit $st"
"$RULEC" fmt --bogus rules/ >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "unknown option '--bogus'" "$tmp/err" && pass || fail "--bogus: exit $st"
"$RULEC" fmt "$tmp/none.rules" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "cannot read '$tmp/none.rules'" "$tmp/err" && pass || fail "missing file: exit $st"
mkdir -p "$tmp/empty"
"$RULEC" fmt --check "$tmp/empty" >/dev/null 2>"$tmp/err"; st=$?
[ "$st" = 2 ] && grep -q "no .rules file under" "$tmp/err" && pass || fail "empty folder: exit $st"

# The examples of docs/language.md are formatted: a block that is a whole
# file as it is, a block of statements inside `on run { ... }`. Blocks that
# are neither (the grammar, error messages) are not policies.
awk -v dir="$tmp/doc" 'BEGIN { system("mkdir -p " dir) }
    /^```$/ && !inb { inb = 1; n++; f = sprintf("%s/%02d.block", dir, n); printf "" > f; next }
    /^```/ && inb { inb = 0; close(f); next }
    /^```/ { inb = 2; next }
    inb == 1 { print > f }' docs/language.md
nfile=0 nstmts=0
for b in "$tmp"/doc/*.block; do
    if "$RULEC" fmt "$b" >"$tmp/doc.out" 2>/dev/null; then
        nfile=$((nfile + 1))
        cmp -s "$b" "$tmp/doc.out" && pass || { fail "docs/language.md: example $(basename "$b" .block) is not formatted"; diff -u "$b" "$tmp/doc.out" | head -20; }
        continue
    fi
    { echo "on run {"; sed 's/^\(.\)/    \1/' "$b"; echo "}"; } >"$tmp/wrapped.rules"
    "$RULEC" fmt "$tmp/wrapped.rules" >"$tmp/doc.out" 2>/dev/null || continue
    nstmts=$((nstmts + 1))
    sed -e '1d' -e '$d' -e 's/^    //' "$tmp/doc.out" >"$tmp/doc.unwrapped"
    cmp -s "$b" "$tmp/doc.unwrapped" && pass || { fail "docs/language.md: example $(basename "$b" .block) is not formatted"; diff -u "$b" "$tmp/doc.unwrapped" | head -20; }
done
[ "$nfile" -ge 2 ] && [ "$nstmts" -ge 5 ] && pass || fail "docs/language.md: found $nfile file and $nstmts statement examples"

summary
