#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# seeds.sh - writes the fuzz targets' seed corpora: `sh fuzz/seeds.sh OUT
# [RULEC]` fills OUT/<target>/ for each target in fuzz/ (run from the
# repository root; RULEC defaults to build/rulec). fuzz/run.sh seeds the
# libFuzzer runs with them and tests/run-fuzz.sh replays them and checks
# that the bundle seeds hold every opcode of vm/opcodes.h.
#   bundle  every policy that compiles, alone, and rules/ as one bundle,
#           plus one whose FORBID is patched into POP (no source emits POP)
#   rules   the same policy sources
#   spec    dstack's and SkyPilot's request bodies and YAML files
#   yaml    the YAML files: specs, rule tests, the rulesd example config
#   dstack  dstack's request bodies
#   http    those bodies as HTTP requests to rulesd (SkyPilot's to its
#           path too), and the other endpoints
#   signed  rules/ and each shipped policy as bundles signed with RFC 8032's
#           first test key (fuzz/fuzz_signed.c trusts it), one with two
#           signatures, and the same cut short and with bytes added
# A target with no folder here starts from spec's (fuzz/run.sh and
# tests/run-fuzz.sh).
set -eu
OUT=$1
RULEC=${2:-build/rulec}
TOKEN=fuzz-token-0123456789abcdef   # fuzz/fuzz_http.c loads the same
for t in bundle rules spec yaml dstack http signed; do
    rm -rf "${OUT:?}/$t"
    mkdir -p "$OUT/$t"
done

# Policies: the shipped ones, every golden one (some do not compile: they
# pin diagnostics; their text is still a seed for the front end), the
# opcode seeds.
for f in rules/*.rules tests/golden/*/*.rules tests/golden/apply/inputs/*.rules \
         tests/golden/ruletest/*/*.rules fuzz/seeds/*.rules; do
    [ -f "$f" ] || continue
    name=$(printf '%s' "${f%.rules}" | tr '/' '_')
    cp "$f" "$OUT/rules/$name.rules"
    "$RULEC" compile "$f" -o "$OUT/bundle/$name.rbc" >/dev/null 2>&1 || rm -f "$OUT/bundle/$name.rbc"
done
"$RULEC" compile rules/ -o "$OUT/bundle/rules-all.rbc" >/dev/null
# POP: a policy `forbid "x"` compiles to CONST 0, FORBID, HALT; FORBID and
# POP both pop one value and take no operand, so swapping the opcode keeps
# the bundle valid; the size and CRC-32 are written again.
printf 'policy "pop";\non run { forbid "x"; }\n' >"$OUT/pop.rules"
"$RULEC" compile "$OUT/pop.rules" -o "$OUT/pop.rbc" >/dev/null
python3 - "$OUT/pop.rbc" "$OUT/bundle/pop.rbc" vm/opcodes.h <<'PY'
import re, struct, sys, zlib
data = bytearray(open(sys.argv[1], "rb").read())
body = open(sys.argv[3]).read()
names = re.findall(r"^\s*X\(\s*([A-Z_]+)\s*,", body[body.index("#define RV_OPCODES"):], re.M)
op = {n: i for i, n in enumerate(names)}
code = struct.pack("<IIII", 3, op["CONST"], op["FORBID"], op["HALT"])
at = data.find(code)
assert at >= 0 and data.find(code, at + 1) < 0, "CONST, FORBID, HALT not found once"
data[at + 8:at + 12] = struct.pack("<I", op["POP"])
struct.pack_into("<II", data, 8, len(data), zlib.crc32(bytes(data[16:])) & 0xFFFFFFFF)
open(sys.argv[2], "wb").write(data)
PY
rm -f "$OUT/pop.rules" "$OUT/pop.rbc"

# Signed bundles, with a published test key (never a real one).
key=$OUT/signed.key
rm -f "$key" "$OUT/other.key" "$OUT/other.pub"
(umask 077 && printf -- '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n' >"$key")
"$RULEC" keygen "$OUT/other.key" >/dev/null
export SOURCE_DATE_EPOCH=1748779200
"$RULEC" compile rules/ -o "$OUT/signed/rules-all.rbc" --sign "$key" --revision 1 >/dev/null
"$RULEC" compile rules/ -o "$OUT/signed/two-keys.rbc" --sign "$OUT/other.key" --sign "$key" --revision 2 >/dev/null
for f in rules/*.rules; do
    "$RULEC" compile "$f" -o "$OUT/signed/$(basename "$f" .rules).rbc" --sign "$key" --revision 3 >/dev/null
done
unset SOURCE_DATE_EPOCH
head -c 1000 "$OUT/signed/rules-all.rbc" >"$OUT/signed/cut.rbc"
cp "$OUT/signed/example.rbc" "$OUT/signed/extra.rbc" && printf 'extra' >>"$OUT/signed/extra.rbc"
rm -f "$key" "$OUT/other.key" "$OUT/other.pub"

# Specs and request bodies.
for f in tests/data/*/requests/*.json tests/data/*/yaml/*; do
    [ -f "$f" ] || continue
    cp "$f" "$OUT/spec/$(printf '%s' "$f" | tr '/' '_')"
done
for f in tests/data/*/yaml/* rules/*.test.yaml server/rulesd.example.yaml; do
    [ -f "$f" ] || continue
    cp "$f" "$OUT/yaml/$(printf '%s' "$f" | tr '/' '_')"
done
for f in tests/data/dstack/requests/*.json; do
    cp "$f" "$OUT/dstack/$(basename "$f")"
done

# HTTP: each dstack body to its endpoint, with the token; then the rest.
request() {  # request FILE METHOD PATH [BODY-FILE [EXTRA-HEADER]]
    {
        printf '%s %s HTTP/1.1\r\nHost: rulesd\r\nAuthorization: Bearer %s\r\n' "$2" "$3" "$TOKEN"
        [ -n "${5:-}" ] && printf '%s\r\n' "$5"
        if [ -n "${4:-}" ]; then
            printf 'Content-Type: application/json\r\nContent-Length: %s\r\n\r\n' "$(wc -c <"$4" | tr -d ' ')"
            cat "$4"
        else
            printf '\r\n'
        fi
    } >"$1"
}
for f in tests/data/dstack/requests/*.json; do
    kind=$(sh tests/kind-of.sh "$f")
    request "$OUT/http/$(basename "$f" .json).http" POST "/apply_policies/on_${kind}_apply" "$f"
done
# SkyPilot's bodies to its admin-policy path (server/skypilot_route.c).
for f in tests/data/skypilot/requests/*.json; do
    request "$OUT/http/skypilot-$(basename "$f" .json).http" POST /skypilot/admin_policy "$f"
done
printf '{"kind":"run","user":"intern-bob","project":"research","spec":{"configuration":{"type":"task","privileged":true,"env":{"HF_TOKEN":"x"}}}}' >"$OUT/evaluate.json"
request "$OUT/http/evaluate.http" POST /v1/evaluate "$OUT/evaluate.json"
request "$OUT/http/evaluate-expect.http" POST /v1/evaluate "$OUT/evaluate.json" 'Expect: 100-continue'
rm -f "$OUT/evaluate.json"
for p in /healthz /metrics /v1/policies /nope; do
    request "$OUT/http/get$(printf '%s' "$p" | tr '/' '-').http" GET "$p"
done
request "$OUT/http/head-healthz.http" HEAD /healthz
request "$OUT/http/delete-policies.http" DELETE /v1/policies
printf 'GET /metrics HTTP/1.1\r\nHost: rulesd\r\n\r\n' >"$OUT/http/no-token.http"
printf 'GET /healthz HTTP/1.0\r\n\r\n' >"$OUT/http/http10.http"
printf 'POST /apply_policies/on_run_apply HTTP/1.1\r\nHost: rulesd\r\nAuthorization: Bearer %s\r\nContent-Length: 99999999\r\n\r\n{}' \
    "$TOKEN" >"$OUT/http/too-large.http"
printf 'POST /apply_policies/on_run_apply HTTP/1.1\r\nHost: rulesd\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{"spec"\r\n7\r\n:{}, "u\r\nc\r\nser": "bob"}\r\n0\r\n\r\n' \
    "$TOKEN" >"$OUT/http/chunked.http"
# Two requests on one connection, then a third cut short.
cat "$OUT/http/get-healthz.http" "$OUT/http/evaluate.http" >"$OUT/http/pipelined.http"
printf 'POST /v1/evaluate HTTP/1.1\r\nContent-Length: 50\r\n\r\n{"kind"' >>"$OUT/http/pipelined.http"
