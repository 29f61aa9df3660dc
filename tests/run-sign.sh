#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-sign.sh - signed bundles from the command line: rulec keygen (modes,
# never overwriting), rulec compile --sign (revisions, key checks,
# reproducible with SOURCE_DATE_EPOCH), rulec verify on good, tampered,
# truncated, unsigned and wrongly keyed files, OpenSSL reading rulec's
# keys and signatures and the other way round, and signed bundles used
# wherever a bundle is (disasm, apply). rulesd's side is in run-fleet.sh.
set -u
BUILD=${BUILD:-build}
RULEC=${RULEC:-$BUILD/rulec}
ROOT=$(pwd)
SUITE=sign; . "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
R="$ROOT/$RULEC"
RULES=$ROOT/rules
REQ=$ROOT/tests/data/dstack/requests

# expect CODE TEXT NAME CMD...: CMD exits CODE and its stderr+stdout holds TEXT.
expect() {
    want=$1; text=$2; name=$3; shift 3
    out=$("$@" 2>&1)
    st=$?
    if [ "$st" -ne "$want" ]; then
        fail "$name: exit $st, want $want: $(printf '%s' "$out" | head -c 400)"
    elif [ -n "$text" ] && ! printf '%s' "$out" | grep -qF -- "$text"; then
        fail "$name: output lacks '$text': $(printf '%s' "$out" | head -c 400)"
    else
        pass
    fi
}

mode_of() { stat -c %a "$1"; }

# flip FILE OFFSET OUT: OUT is FILE with the byte at OFFSET xor 1.
flip() {
    python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[int(sys.argv[2])]^=1; open(sys.argv[3],"wb").write(d)' "$@"
}
# section FILE: "BUNDLE_SIZE MANIFEST_OFFSET MANIFEST_LEN SIG_OFFSET" of a signed bundle.
section() {
    python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
total = struct.unpack("<I", d[8:12])[0]
mlen = struct.unpack("<I", d[total + 8:total + 12])[0]
print(total, total + 12, mlen, total + 12 + mlen + 4 + 32)' "$1"
}

# ---- keygen ----
expect 0 "wrote the private key ci.key (mode 0600) and the public key ci.pub" "keygen" "$R" keygen ci.key
if [ "$(mode_of ci.key)" = 600 ] && [ "$(mode_of ci.pub)" = 644 ]; then pass; else
    fail "keygen modes: ci.key $(mode_of ci.key), ci.pub $(mode_of ci.pub)"; fi
if head -1 ci.key | grep -qx -- '-----BEGIN PRIVATE KEY-----' &&
   head -1 ci.pub | grep -qx -- '-----BEGIN PUBLIC KEY-----'; then pass; else fail "keygen: not PEM"; fi
sum_before=$(cat ci.key ci.pub | cksum)
expect 2 "'ci.key' exists; keygen never overwrites" "keygen refuses to overwrite" "$R" keygen ci.key
rm -f other.key && cp ci.pub other.pub
expect 2 "'other.pub' exists" "keygen refuses when only the public key exists" "$R" keygen other.key
[ ! -e other.key ] && pass || fail "keygen wrote other.key beside an existing other.pub"
[ "$(cat ci.key ci.pub | cksum)" = "$sum_before" ] && pass || fail "keygen changed an existing key"
expect 0 "public key plain.pub" "keygen of a name without .key" "$R" keygen plain
[ -f plain ] && [ -f plain.pub ] && pass || fail "keygen plain: files missing"
expect 2 "cannot write 'nodir/x.pub'" "keygen into a missing folder" "$R" keygen nodir/x.key
expect 0 "usage: rulec keygen KEY" "keygen --help" "$R" keygen --help
expect 2 "usage: rulec keygen KEY" "keygen without a name" "$R" keygen
"$R" keygen other2.key >/dev/null
[ "$(cat ci.pub)" != "$(cat other2.pub)" ] && pass || fail "two keygens made the same key"

# ---- compile --sign ----
expect 0 "" "compile --sign" "$R" compile "$RULES" -o set.rbc --sign ci.key --revision 42
expect 0 "good signature by key" "verify" "$R" verify set.rbc --key ci.pub
out=$("$R" verify set.rbc --key other2.pub --key ci.pub 2>&1)
printf '%s\n' "$out" | grep -q "^set.rbc: good signature by key [0-9a-f]\{16\} (ci.pub)$" && pass ||
    fail "verify names the key that signed: $out"
printf '%s\n' "$out" | grep -qx "revision 42" && pass || fail "verify shows the revision: $out"
# The set digest is the bundle's own (sha256sum of its bytes) and disasm's.
read -r bsize moff mlen soff <<EOF
$(section set.rbc)
EOF
want=$(head -c "$bsize" set.rbc | sha256sum | cut -d' ' -f1)
printf '%s\n' "$out" | grep -qx "set sha256 $want ($bsize bytes)" && pass || fail "verify's digest is not sha256 of the bundle ($want): $out"
"$R" disasm set.rbc | head -1 | grep -q "^set sha256 $want " && pass || fail "disasm of a signed bundle: another digest"
[ "$(printf '%s\n' "$out" | grep -c '^policy ')" = "$(ls "$RULES"/*.rules | wc -l)" ] && pass ||
    fail "verify lists every policy: $out"

# A signed bundle is a bundle everywhere: the same listing and decisions.
"$R" compile "$RULES" -o plain.rbc
if [ "$("$R" disasm set.rbc)" = "$("$R" disasm plain.rbc)" ]; then pass; else fail "disasm differs signed/unsigned"; fi
body=$REQ/examples_.dstack.yml.request.json
a=$("$R" apply set.rbc --request "$body" --kind run 2>&1); b=$("$R" apply plain.rbc --request "$body" --kind run 2>&1)
[ "$a" = "$b" ] && [ -n "$a" ] && pass || fail "apply differs signed/unsigned"
head -c "$bsize" set.rbc | cmp -s - plain.rbc && pass || fail "the signed file does not start with the plain bundle"

expect 2 "--revision is the revision a signature states" "--revision without --sign" "$R" compile "$RULES" -o x.rbc --revision 1
expect 2 "character 4 (' ')" "a revision with a space" "$R" compile "$RULES" -o x.rbc --sign ci.key --revision "1.2 3"
expect 2 "holds a public key" "--sign with a public key" "$R" compile "$RULES" -o x.rbc --sign ci.pub
cp ci.key loose.key && chmod 644 loose.key
expect 2 "can be read by others (mode 0644): chmod 600" "--sign with a readable private key" "$R" compile "$RULES" -o x.rbc --sign loose.key
expect 2 "cannot read the key 'missing.key'" "--sign with no such key" "$R" compile "$RULES" -o x.rbc --sign missing.key
[ ! -e x.rbc ] && pass || fail "a failed signed compile wrote x.rbc"

# Reproducible: the same inputs, key and SOURCE_DATE_EPOCH give the same
# file; the default revision is that time.
SOURCE_DATE_EPOCH=1748779200 "$R" compile "$RULES" -o r1.rbc --sign ci.key
SOURCE_DATE_EPOCH=1748779200 "$R" compile "$RULES" -o r2.rbc --sign ci.key
cmp -s r1.rbc r2.rbc && pass || fail "signed compiles with one SOURCE_DATE_EPOCH differ"
"$R" verify r1.rbc --key ci.pub | grep -qx "revision 20250601T120000Z" && pass || fail "default revision"
"$R" verify r1.rbc --key ci.pub | grep -qx "created 2025-06-01T12:00:00Z" && pass || fail "created time"
expect 2 "SOURCE_DATE_EPOCH is 'soon'" "a bad SOURCE_DATE_EPOCH" env SOURCE_DATE_EPOCH=soon "$R" compile "$RULES" -o x.rbc --sign ci.key
# Two signers: either key verifies.
expect 0 "" "compile with two keys" "$R" compile "$RULES" -o two.rbc --sign ci.key --sign other2.key --revision 3
expect 0 "good signature" "two signers, the first key" "$R" verify two.rbc --key ci.pub
expect 0 "good signature" "two signers, the second key" "$R" verify two.rbc --key other2.pub

# ---- verify refuses ----
expect 1 "signed by key" "verify with another key" "$R" verify set.rbc --key other2.pub
expect 1 "which is not trusted" "verify with another key says why" "$R" verify set.rbc --key other2.pub
expect 1 "a bundle without a signature" "verify of an unsigned bundle" "$R" verify plain.rbc --key ci.pub
expect 1 "not a bundle" "verify of a source" "$R" verify "$RULES/example.rules" --key ci.pub
flip set.rbc 100 t-bundle.rbc
expect 1 "altered after signing" "a byte of the bundle changed" "$R" verify t-bundle.rbc --key ci.pub
# The revision's "42" becomes "52": still a well-formed manifest.
rev_at=$(python3 -c 'import sys; d=open("set.rbc","rb").read(); print(d.index(b"\"revision\":\"42\"") + 12)')
flip set.rbc "$rev_at" t-manifest.rbc
grep -q '"revision":"52"' t-manifest.rbc && pass || fail "the manifest flip missed the revision"
expect 1 "does not verify" "a byte of the manifest changed" "$R" verify t-manifest.rbc --key ci.pub
flip set.rbc $((soff + 10)) t-sig.rbc
expect 1 "does not verify" "a byte of the signature changed" "$R" verify t-sig.rbc --key ci.pub
flip set.rbc $((soff - 10)) t-key.rbc
expect 1 "not trusted" "a byte of the signer's key changed" "$R" verify t-key.rbc --key ci.pub
head -c $(($(wc -c <set.rbc) - 1)) set.rbc >t-short.rbc
expect 1 "cut short" "the last byte missing" "$R" verify t-short.rbc --key ci.pub
head -c $((bsize - 7)) set.rbc >t-cut.rbc
expect 1 "a bundle cut short" "cut inside the bundle" "$R" verify t-cut.rbc --key ci.pub
cp set.rbc t-long.rbc && printf 'x' >>t-long.rbc
expect 1 "bytes after the signatures" "a byte appended" "$R" verify t-long.rbc --key ci.pub
# The bundle part altered everywhere the VM reads it still fails there too.
expect 2 "checksum mismatch" "the VM refuses the altered bundle part" "$R" disasm t-bundle.rbc
expect 2 "no --key given" "verify without a key" "$R" verify set.rbc
expect 2 "one bundle at a time" "verify of two bundles" "$R" verify set.rbc two.rbc --key ci.pub
expect 2 "holds a private key" "verify with a private key as --key" "$R" verify set.rbc --key ci.key
expect 2 "cannot read 'nothere.rbc'" "verify of a missing file" "$R" verify nothere.rbc --key ci.pub
expect 0 "usage: rulec verify BUNDLE" "verify --help" "$R" verify --help

# ---- OpenSSL reads rulec's keys and signatures, and rulec OpenSSL's keys ----
python3 -c '
import struct, sys
d = open("set.rbc", "rb").read()
total = struct.unpack("<I", d[8:12])[0]
mlen = struct.unpack("<I", d[total + 8:total + 12])[0]
open("manifest.json", "wb").write(d[total + 12:total + 12 + mlen])
open("sig.bin", "wb").write(d[total + 12 + mlen + 4 + 32:total + 12 + mlen + 4 + 96])'
check "openssl verifies rulec's signature with rulec's public key" \
    openssl pkeyutl -verify -pubin -inkey ci.pub -rawin -in manifest.json -sigfile sig.bin
check "openssl derives the same public key from rulec's private key" \
    sh -c 'openssl pkey -in ci.key -pubout | cmp -s - ci.pub'
openssl genpkey -algorithm ed25519 -out ossl.key 2>/dev/null && chmod 600 ossl.key &&
    openssl pkey -in ossl.key -pubout -out ossl.pub 2>/dev/null
expect 0 "" "rulec signs with a key openssl made" "$R" compile "$RULES" -o ossl.rbc --sign ossl.key
expect 0 "good signature" "and verifies with openssl's public key" "$R" verify ossl.rbc --key ossl.pub
grep -q '"revision":"42"' manifest.json && grep -q '"format":"rules-bundle-manifest/1"' manifest.json && pass ||
    fail "the manifest is not the documented JSON: $(head -c 300 manifest.json)"

# ---- --help names the new commands ----
"$R" --help | grep -q "keygen KEY" && "$R" --help | grep -q "verify BUNDLE --key" && pass || fail "rulec --help lacks keygen/verify"
"$R" compile --help | grep -q -- "--sign KEY" && pass || fail "compile --help lacks --sign"

summary
